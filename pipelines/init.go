package pipelines

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/persona"
)

//go:embed scaffold
var scaffold embed.FS

// InitOptions name what a new workspace is about; empty fields get neutral
// placeholders.
type InitOptions struct {
	Name        string // workspace name (default: the folder's name)
	Model       string // model to generate with (default: llama3.2)
	PersonaName string // who the model speaks as (default: a placeholder to edit)
}

// personaTemplate is a new workspace's persona.yaml: neutral, every field
// explained, meant to be edited.
const personaTemplate = `# The persona: who the model speaks as. It drives generation (synth), the
# system message of every exported example and the Modelfile's SYSTEM line.
# Edit every line below: it is a placeholder, not a persona.

# A short name, used in prompts and model names.
name: %q

# The system prompt the model speaks with: who it is, what it knows, how it
# answers, and what it does when the material does not say.
system: |
  You are %s, an expert in YOUR FIELD. You answer from the material you were
  given, in plain words, and say "I don't know" when it does not cover a question.

# A few words each; they shape the generated answers' voice.
traits: [precise, patient]
style: short paragraphs, one example per answer
audience: people new to the field

# Question/answer pairs in the persona's voice: they show the model the
# style, and the first question is the smoke test of created models.
examples:
  - question: What do you help with?
    answer: I explain YOUR FIELD from the material I was given, and I say so when it does not cover a question.
`

// GettingStarted is the file init writes beside sources/ that says what to
// do next.
const GettingStarted = "GETTING-STARTED.md"

// PersonaPlaceholder is the text of init's persona.yaml that says it has
// not been edited: run refuses to train on it.
const PersonaPlaceholder = "YOUR FIELD"

// checkPersona refuses the placeholder persona init wrote: every example
// would be trained on it, after minutes of generation. The error names the
// file's line.
func checkPersona(path string, p *persona.Persona) error {
	texts := []string{p.Name, p.System, p.Style, p.Audience}
	for _, ex := range p.Examples {
		texts = append(texts, ex.Question, ex.Answer)
	}
	for _, t := range texts {
		if !strings.Contains(t, PersonaPlaceholder) {
			continue
		}
		where := path
		if b, err := os.ReadFile(path); err == nil {
			if i := bytes.Index(b, []byte(PersonaPlaceholder)); i >= 0 {
				where = fmt.Sprintf("%s:%d", path, bytes.Count(b[:i], []byte("\n"))+1)
			}
		}
		return fmt.Errorf("%s: the persona is still the placeholder tuneline init wrote (%q): edit persona.yaml's system prompt and examples to say who the model speaks as and what it knows, then run again", where, PersonaPlaceholder)
	}
	return nil
}

// personaFile is init's persona.yaml for a persona called name. The name
// goes into a quoted scalar and into the system prompt's block scalar,
// each line of it indented so that it stays inside the block (pasted raw,
// a name with a quote and a newline wrote an invalid or injected file);
// the file is read back to prove it holds the name exactly.
func personaFile(name string) ([]byte, error) {
	name = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(name, "\r\n", "\n"), "\r", "\n"))
	for _, r := range name {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\uFEFF') || r == utf8.RuneError {
			return nil, fmt.Errorf("--persona-name %q: a name holds no control characters or invalid UTF-8", name)
		}
	}
	b := []byte(fmt.Sprintf(personaTemplate, name, strings.ReplaceAll(name, "\n", "\n  ")))
	p, err := persona.Parse(b)
	if err != nil || p.Name != name || !strings.HasPrefix(p.System, "You are "+name+", an expert") {
		return nil, fmt.Errorf("--persona-name %q cannot be written into persona.yaml as it is (%v)", name, err)
	}
	return b, nil
}

// Init writes a new workspace into dir: tuneline.yaml (every key with its
// default and a one-line comment, generated from the stages' Config
// structs), persona.yaml, an empty sources/ and GETTING-STARTED.md beside
// it. It never overwrites a file.
func Init(dir string, opt InitOptions) ([]string, error) {
	if opt.Name == "" {
		abs, _ := filepath.Abs(dir)
		opt.Name = filepath.Base(abs)
	}
	if opt.Model == "" {
		opt.Model = "llama3.2"
	}
	if opt.PersonaName == "" {
		opt.PersonaName = "the expert"
	}
	pf, err := personaFile(opt.PersonaName)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"tuneline.yaml": Scaffold(opt), "persona.yaml": pf}
	err = fs.WalkDir(scaffold, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("scaffold", p)
		files[rel], err = scaffold.ReadFile(p)
		return err
	})
	if err != nil {
		return nil, err
	}
	for rel := range files {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return nil, fmt.Errorf("%s exists; init never overwrites", filepath.Join(dir, rel))
		}
	}
	var written []string
	// The getting-started text sits beside sources/, not in it: a file in
	// sources/ is training data.
	if err := os.MkdirAll(filepath.Join(dir, "sources"), 0o755); err != nil {
		return nil, err
	}
	for _, rel := range []string{"tuneline.yaml", "persona.yaml", GettingStarted} {
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(dst, files[rel], 0o644); err != nil {
			return written, err
		}
		written = append(written, dst)
	}
	return written, nil
}

// Scaffold is a new workspace's tuneline.yaml: every key of every stage's
// Config with its default and its help as a comment.
func Scaffold(opt InitOptions) []byte {
	d := DefaultConfig()
	d.Ollama.Model = opt.Model
	var b bytes.Buffer
	fmt.Fprintf(&b, `# tuneline workspace: `+"`tuneline run`"+` (in this folder) runs every stage below and
# writes everything under build/. A re-run redoes only what changed. Every key
# below shows its default; the same settings exist as flags of the stage's
# command (named in each comment).
name: %q

# Files, folders (recursive), globs or URLs: PDFs, web pages, SRT/WebVTT/SBV,
# Markdown and text, and chat logs (these become examples directly).
sources:
  - sources/

# Who the model speaks as (see persona.yaml).
persona: persona.yaml

# Where outputs go, relative to this folder.
build: %s

# The model server used to generate, judge, create and evaluate.
ollama:
`, opt.Name, d.Build)
	section := func(name, doc string, cfg any) {
		if name != "" {
			fmt.Fprintf(&b, "\n# %s\n%s:\n", doc, name)
		}
		conf.Scaffold(&b, cfg, "  ")
	}
	section("", "", &d.Ollama)
	for _, st := range stages {
		if st.section == nil {
			continue
		}
		section(st.name, st.doc, st.section(&d))
		if st.scaffold != nil {
			st.scaffold(&b, opt)
		}
	}
	return b.Bytes()
}
