package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/testenv"
)

// The report renders in headless Chromium with no network: every chart
// drew its bars.
func TestReportRendersInChromium(t *testing.T) {
	dir := t.TempDir()
	data := "../examples/chat/physics-qa.jsonl"
	if _, err := format.Export(context.Background(), []string{data}, format.Options{Target: format.TargetOpenAI, OutDir: filepath.Join(dir, "export"), Split: 0.8, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	d, err := Collect(context.Background(), Inputs{Title: "physics", Dataset: data, ExportDir: filepath.Join(dir, "export"), GeneratedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Examples != 12 || len(d.TokenBins) == 0 || len(d.Funnel) < 4 {
		t.Fatalf("data %+v", d)
	}
	// The token bins hold every example once, and the shortest and the
	// longest are the ends (as validate counts them).
	sum, err := format.Validate(context.Background(), []string{data}, format.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range d.TokenBins {
		n += b.Count
	}
	if first, last := d.TokenBins[0], d.TokenBins[len(d.TokenBins)-1]; n != 12 || first.Count == 0 || last.Count == 0 ||
		first.From != sum.TokensPerExample.Min || last.From > sum.TokensPerExample.Max || last.To < sum.TokensPerExample.Max {
		t.Errorf("token bins %+v (total %d) do not span validate's %v..%v tokens", d.TokenBins, n, sum.TokensPerExample.Min, sum.TokensPerExample.Max)
	}
	out := filepath.Join(dir, "report.html")
	if err := WriteFile(out, d); err != nil {
		t.Fatal(err)
	}
	testenv.Integration(t, "headless Chromium")
	dom, err := testenv.DumpDOM(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `data-rendered="yes"`) {
		t.Fatalf("the page's script did not finish:\n%.2000s", dom)
	}
	for _, id := range []string{"tokens", "sources", "funnel"} {
		m := regexp.MustCompile(`id="` + id + `"[^>]*data-drawn="(\d+)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("chart %s not drawn", id)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Errorf("chart %s drew no bars", id)
		}
	}
	if c := strings.Count(dom, `class="bar"`); c < 8 {
		t.Errorf("%d bars in the DOM", c)
	}
	if strings.Contains(dom, "http://") || strings.Contains(dom, "https://") {
		if regexp.MustCompile(`(src|href)="https?://`).MatchString(dom) {
			t.Error("the report loads something from the network")
		}
	}
}

// A report of examples from the tiny random-weight model carries the
// banner; one of a real model's does not.
func TestTinyModelBanner(t *testing.T) {
	for _, tiny := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "report.html")
		if err := WriteFile(out, &Data{Title: "t", TinyModel: tiny}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		if got := strings.Contains(string(b), `id="gibberish"`) && strings.Contains(string(b), "random-weight"); got != tiny {
			t.Errorf("tiny model %v: banner %v", tiny, got)
		}
	}
}

// The funnel counts the chat logs' examples where they join: 18 generated
// and judged plus 2 from chat logs showed as "generated 20, after judge 20".
// The score bars name their half-point range.
func TestFunnelChatLogsJoinAtExport(t *testing.T) {
	dir := t.TempDir()
	line := func(i int, score float64) string {
		return fmt.Sprintf(`{"messages":[{"role":"user","content":"question %d"},{"role":"assistant","content":"answer"}],"meta":{"scores":{"overall":%v}}}`+"\n", i, score)
	}
	var synth, curated, logs strings.Builder
	for i := range 18 {
		synth.WriteString(line(i, 3.5+float64(i%2)/2))
		if i < 15 {
			curated.WriteString(line(i, 3.5+float64(i%2)/2))
		}
	}
	logs.WriteString(`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}` + "\n")
	logs.WriteString(`{"messages":[{"role":"user","content":"bye"},{"role":"assistant","content":"see you"}]}` + "\n")
	files := map[string]string{"synth.jsonl": synth.String(), "curated.jsonl": curated.String(), "chatlogs.jsonl": logs.String()}
	for name, text := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	d, err := Collect(context.Background(), Inputs{Dataset: filepath.Join(dir, "curated.jsonl"), More: []string{filepath.Join(dir, "chatlogs.jsonl")},
		Synth: filepath.Join(dir, "synth.jsonl"), GeneratedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range d.Funnel {
		got = append(got, fmt.Sprintf("%s %v", b.Label, b.Value))
	}
	if want := "generated 18; after judge (low score dropped) 15; with the chat logs' 2 examples 17"; strings.Join(got, "; ") != want {
		t.Errorf("funnel %q, want %q", strings.Join(got, "; "), want)
	}
	var bins []string
	for _, b := range d.Scores["overall"] {
		bins = append(bins, fmt.Sprintf("%s %v", b.Label, b.Value))
	}
	if want := "3.5 to <4 8, 4 to <4.5 7"; strings.Join(bins, ", ") != want {
		t.Errorf("score bars %q, want %q", strings.Join(bins, ", "), want)
	}
}
