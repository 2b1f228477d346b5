package modelfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ollama/ollama/fs/ggml"
	"github.com/ollama/ollama/parser"
	"github.com/tuneline/tuneline/llm"
)

// ChatMLTemplate is the template tuneline adds when a local GGUF has no
// chat template of its own.
const ChatMLTemplate = `{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
`

// NeedsTemplate tells whether FROM names a local GGUF file without a chat
// template (a model name or safetensors folder brings its own).
func NeedsTemplate(from string) (bool, error) {
	p := llm.ExpandHome(from)
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || !strings.HasSuffix(strings.ToLower(p), ".gguf") {
		return false, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	g, _, err := ggml.Decode(f, 0)
	if err != nil {
		return false, fmt.Errorf("%s: not a readable GGUF file: %w", from, err)
	}
	return g.KV().ChatTemplate() == "", nil
}

// ParseFile reads a Modelfile with Ollama's parser into a Spec; relative
// FROM and ADAPTER paths are taken from the Modelfile's folder.
func ParseFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mf, err := parser.ParseFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
			return filepath.Join(dir, p)
		}
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~") {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				return filepath.Join(dir, p)
			}
		}
		return p
	}
	s := &Spec{}
	for _, c := range mf.Commands {
		switch c.Name {
		case "model":
			s.From = rel(c.Args)
		case "adapter":
			s.Adapter = rel(c.Args)
		case "system":
			s.System = c.Args
		case "template":
			s.Template = c.Args
		case "license":
			s.License = append(s.License, c.Args)
		case "message":
			role, content, _ := strings.Cut(c.Args, ": ")
			s.Messages = append(s.Messages, Message{role, content})
		default:
			s.Params = append(s.Params, Param{c.Name, c.Args})
		}
	}
	return s, nil
}
