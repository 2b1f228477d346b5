// Package modelfile writes Ollama Modelfiles that Ollama's own parser reads
// back exactly, and creates models from them: through the create API (local
// weights and adapters uploaded as blobs by digest, every field sent as
// JSON, so any text survives) or through the ollama command.
package modelfile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// Param is one PARAMETER line.
type Param struct {
	Name  string
	Value string
}

// Message is one MESSAGE line (a few-shot turn).
type Message struct {
	Role    string
	Content string
}

// Spec is a model to create.
type Spec struct {
	From     string // model name, local GGUF file or safetensors folder
	System   string
	Template string
	Params   []Param
	Messages []Message
	Adapter  string
	License  []string
}

// Validate checks parameter names and values against the ones Ollama
// accepts, and message roles.
func (s *Spec) Validate() error {
	if strings.TrimSpace(s.From) == "" {
		return fmt.Errorf("FROM is missing: give a base model name, a GGUF file or a safetensors folder")
	}
	for _, p := range s.Params {
		if _, err := api.FormatParams(map[string][]string{p.Name: {p.Value}}); err != nil {
			return fmt.Errorf("PARAMETER %s %s: %v (known: %s)", p.Name, p.Value, err, strings.Join(KnownParams(), ", "))
		}
	}
	for i, m := range s.Messages {
		if m.Role != "system" && m.Role != "user" && m.Role != "assistant" {
			return fmt.Errorf("MESSAGE %d: role %q must be system, user or assistant", i+1, m.Role)
		}
	}
	return nil
}

// KnownParams lists the parameter names Ollama accepts.
func KnownParams() []string {
	opts := api.DefaultOptions()
	m := map[string]any{}
	b, _ := jsonMarshal(opts)
	jsonUnmarshal(b, &m)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	out = append(out, "stop")
	sort.Strings(out)
	return dedupe(out)
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// TypedParams converts the parameters to the JSON values the create API
// takes (repeated names such as stop become lists).
func (s *Spec) TypedParams() (map[string]any, error) {
	grouped := map[string][]string{}
	var order []string
	for _, p := range s.Params {
		if _, ok := grouped[p.Name]; !ok {
			order = append(order, p.Name)
		}
		grouped[p.Name] = append(grouped[p.Name], p.Value)
	}
	out := map[string]any{}
	for _, name := range order {
		vals, err := api.FormatParams(map[string][]string{name: grouped[name]})
		if err != nil {
			return nil, fmt.Errorf("PARAMETER %s: %w", name, err)
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	return out, nil
}

// UnwritableError says why a string cannot be written in a Modelfile.
type UnwritableError struct {
	Field  string
	Reason string
	Text   string // the offending text
}

func (e *UnwritableError) Error() string {
	shown := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(e.Text)
	return fmt.Sprintf("%s cannot be written in a Modelfile: %s, at «%s». Ollama's Modelfile syntax has no escapes; create the model through the API instead (tuneline create without --cli sends every field as JSON)", e.Field, e.Reason, shown)
}

// quoteValue returns the Modelfile form of s: bare when Ollama's parser reads
// it back as is, otherwise in triple quotes. It fails for exactly the
// strings the parser cannot return unchanged: a line (other than the last)
// that ends with three double quotes, which would close the value, and
// characters the parser drops (control and format characters and spaces
// other than space, tab and line breaks).
func quoteValue(field, s string) (string, error) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return "", &UnwritableError{field, "invalid UTF-8", around(s, i)}
			}
		}
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && !strconv.IsPrint(r) {
			return "", &UnwritableError{field, fmt.Sprintf("the character %U would be dropped by the parser", r), around(s, i)}
		}
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\n' && s[i] != '\r' {
			continue
		}
		line := strings.TrimRight(s[start:i], " \t")
		if strings.HasSuffix(line, `"""`) || (start == 0 && line == `"""`) {
			return "", &UnwritableError{field, `a line ending with """ would end the value early`, around(s, i-1)}
		}
		start = i + 1
	}
	if s != "" && !strings.ContainsAny(s, "\n\r") && strings.TrimSpace(s) == s && !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	return `"""` + s + `"""`, nil
}

func around(s string, i int) string {
	a := max(0, i-20)
	b := min(len(s), i+20)
	for a > 0 && !utf8.RuneStart(s[a]) {
		a--
	}
	for b < len(s) && !utf8.RuneStart(s[b]) {
		b++
	}
	return s[a:b]
}

// Render writes the Modelfile, or fails with an UnwritableError when a
// string cannot be represented.
func (s *Spec) Render() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Generated by tuneline. Ollama reads this file back exactly (checked with its parser).\n")
	from, err := quoteValue("FROM", s.From)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "FROM %s\n", from)
	if s.Adapter != "" {
		v, err := quoteValue("ADAPTER", s.Adapter)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "ADAPTER %s\n", v)
	}
	if s.Template != "" {
		v, err := quoteValue("TEMPLATE", s.Template)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "TEMPLATE %s\n", v)
	}
	if s.System != "" {
		v, err := quoteValue("SYSTEM", s.System)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "SYSTEM %s\n", v)
	}
	for _, p := range s.Params {
		v, err := quoteValue("PARAMETER "+p.Name, p.Value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "PARAMETER %s %s\n", p.Name, v)
	}
	for i, m := range s.Messages {
		v, err := quoteValue(fmt.Sprintf("MESSAGE %d (%s)", i+1, m.Role), m.Content)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "MESSAGE %s %s\n", m.Role, v)
	}
	for _, l := range s.License {
		v, err := quoteValue("LICENSE", l)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "LICENSE %s\n", v)
	}
	return b.String(), nil
}
