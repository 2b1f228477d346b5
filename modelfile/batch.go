package modelfile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tuneline/tuneline/internal/smallfile"
)

// BatchEntry is one model of a batch file.
type BatchEntry struct {
	Name     string            `yaml:"name"`
	From     string            `yaml:"from"`
	Persona  string            `yaml:"persona"`
	Dataset  string            `yaml:"dataset,omitempty"`
	Examples int               `yaml:"examples,omitempty"`
	Adapter  string            `yaml:"adapter,omitempty"`
	Template string            `yaml:"template,omitempty"`
	License  string            `yaml:"license,omitempty"`
	Params   map[string]string `yaml:"params,omitempty"`
}

// Batch is a batch file: explicit models and/or a matrix of bases ×
// personas × parameter sets.
type Batch struct {
	Parallel int          `yaml:"parallel"`
	Smoke    string       `yaml:"smoke_question"`
	Models   []BatchEntry `yaml:"models"`
	Matrix   *struct {
		Name     string              `yaml:"name"` // pattern with {base}, {persona}, {params}
		Bases    []string            `yaml:"bases"`
		Personas []string            `yaml:"personas"`
		Params   []map[string]string `yaml:"params"`
		Dataset  string              `yaml:"dataset"`
		Examples int                 `yaml:"examples"`
	} `yaml:"matrix"`
}

// MaxBatchModels is the most models one batch file makes: each is a
// model created and smoke-tested, minutes apiece.
const MaxBatchModels = 1000

// LoadBatch reads and expands a batch file.
func LoadBatch(path string) (*Batch, []BatchEntry, error) {
	b, err := smallfile.ReadFile(path, smallfile.Config, "batch file")
	if err != nil {
		return nil, nil, err
	}
	var bt Batch
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&bt); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	entries := append([]BatchEntry{}, bt.Models...)
	if m := bt.Matrix; m != nil {
		params := m.Params
		if len(params) == 0 {
			params = []map[string]string{{}}
		}
		// Counted before anything is expanded: a 17 KB matrix of 464
		// bases, personas and parameter sets is 10^8 models.
		if n := int64(len(m.Bases)) * int64(len(m.Personas)) * int64(len(params)); n+int64(len(entries)) > MaxBatchModels {
			return nil, nil, fmt.Errorf("%s: the matrix makes %d models (%d bases × %d personas × %d parameter sets) and the file lists %d more: a batch makes at most %d",
				path, n, len(m.Bases), len(m.Personas), len(params), len(entries), MaxBatchModels)
		}
		pattern := m.Name
		if pattern == "" {
			pattern = "{persona}-{base}-{params}"
		}
		for _, base := range m.Bases {
			for _, p := range m.Personas {
				for i, ps := range params {
					name := strings.NewReplacer("{base}", slug(base), "{persona}", slug(strings.TrimSuffix(baseName(p), ".yaml")), "{params}", fmt.Sprint(i)).Replace(pattern)
					entries = append(entries, BatchEntry{Name: name, From: base, Persona: p, Params: ps, Dataset: m.Dataset, Examples: m.Examples})
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if e.Name == "" || e.From == "" || e.Persona == "" {
			return nil, nil, fmt.Errorf("%s: model %d needs name, from and persona", path, i+1)
		}
		if seen[e.Name] {
			return nil, nil, fmt.Errorf("%s: model name %q is used twice", path, e.Name)
		}
		seen[e.Name] = true
	}
	if bt.Parallel <= 0 {
		bt.Parallel = 2
	}
	return &bt, entries, nil
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func slug(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// SortedParams turns a map into PARAMETER lines in name order.
func SortedParams(m map[string]string) []Param {
	var out []Param
	for k, v := range m {
		out = append(out, Param{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
