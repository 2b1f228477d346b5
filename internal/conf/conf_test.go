package conf

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

type inner struct {
	Seed int `yaml:"seed" flag:"seed" help:"random seed"`
}

type sample struct {
	Name    string        `yaml:"name" flag:"name" short:"n" help:"a name"`
	Tokens  int           `yaml:"tokens" flag:"tokens" help:"tokens"`
	Split   float64       `yaml:"split" flag:"split" help:"share"`
	Big     uint64        `yaml:"big" flag:"big" help:"big"`
	On      bool          `yaml:"on" flag:"on" help:"switch"`
	Timeout time.Duration `yaml:"timeout" flag:"timeout" help:"per request"`
	List    []string      `yaml:"list" help:"workspace only"`
	Secret  string        `yaml:"-" flag:"secret" env:"CONF_TEST_SECRET" help:"flag only"`
	inner   `yaml:",inline"`
}

func defaults() sample {
	return sample{Name: "x: y", Tokens: 512, Split: 0.9, Big: 42, On: true, Timeout: 90 * time.Second, List: []string{"a", "b c"}, inner: inner{Seed: 7}}
}

// The scaffold lists every workspace field with its help and decodes back
// to the defaults.
func TestScaffoldRoundTrip(t *testing.T) {
	d := defaults()
	var buf bytes.Buffer
	if err := Scaffold(&buf, &d, "  "); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"name:", "# a name (--name)", "tokens: 512", "timeout: 1m30s", "list: [\"a\", \"b c\"]", "# workspace only", "seed: 7"} {
		if !strings.Contains(text, want) {
			t.Errorf("scaffold lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "secret") {
		t.Errorf("a yaml:\"-\" field is in the scaffold:\n%s", text)
	}
	var back sample
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	back.Secret = d.Secret
	if !equal(back, d) {
		t.Errorf("round trip: %+v, want %+v", back, d)
	}
}

func equal(a, b sample) bool {
	return a.Name == b.Name && a.Tokens == b.Tokens && a.Split == b.Split && a.Big == b.Big && a.On == b.On &&
		a.Timeout == b.Timeout && strings.Join(a.List, "|") == strings.Join(b.List, "|") && a.Seed == b.Seed
}

// Flags write into the same fields, default to their current values, and
// fall back to the environment.
func TestFlags(t *testing.T) {
	t.Setenv("CONF_TEST_SECRET", "s3")
	d := defaults()
	app := &cli.App{Flags: Flags(&d), Action: func(*cli.Context) error { return nil }, Writer: io.Discard, ErrWriter: io.Discard}
	if err := app.Run([]string{"x", "-n", "ada", "--tokens", "40", "--timeout", "2m", "--on=false", "--seed", "3"}); err != nil {
		t.Fatal(err)
	}
	if d.Name != "ada" || d.Tokens != 40 || d.Timeout != 2*time.Minute || d.On || d.Seed != 3 || d.Split != 0.9 || d.Secret != "s3" {
		t.Errorf("after flags: %+v", d)
	}
	for _, f := range Flags(&d) {
		if _, ok := f.(cli.DocGenerationFlag); !ok {
			t.Errorf("%v has no help", f)
		}
	}
	_ = flag.ErrHelp
}

func TestNearest(t *testing.T) {
	known := []string{"pairs", "turns", "max_pairs", "seed"}
	for _, tt := range []struct{ in, want string }{{"pairz", "pairs"}, {"tunrs", "turns"}, {"max_pair", "max_pairs"}, {"zzzzzz", ""}, {"seed", "seed"}} {
		if got := Nearest(tt.in, known, 2); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
