package pipelines

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/tuneline/tuneline/internal/conf"
	"github.com/tuneline/tuneline/internal/yamlerr"
)

// sectionKeys lists the keys tuneline.yaml accepts, by section ("" is the
// top level), from the Config structs themselves.
func sectionKeys() map[string][]string {
	d := DefaultConfig()
	keys := map[string][]string{"": yamlKeys(reflect.TypeOf(d)), "models": yamlKeys(reflect.TypeOf(Model{}))}
	for name, sec := range sections(&d) {
		for _, f := range conf.Fields(sec) {
			if f.Key != "" && f.Key != "-" {
				keys[name] = append(keys[name], f.Key)
			}
		}
	}
	return keys
}

// sections are tuneline.yaml's sections: the model server's and each
// stage's (see stages).
func sections(c *Config) map[string]any {
	m := map[string]any{"ollama": &c.Ollama}
	for _, st := range stages {
		if st.section != nil {
			m[st.name] = st.section(c)
		}
	}
	return m
}

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			out = append(out, k)
		}
	}
	return out
}

// typeSection names the section a Go type of the workspace decodes (as
// the YAML decoder names it: "pipelines.SynthSection").
var typeSection = func() map[string]string {
	d := DefaultConfig()
	m := map[string]string{reflect.TypeOf(d).String(): "", reflect.TypeOf(Model{}).String(): "models"}
	for name, sec := range sections(&d) {
		m[reflect.TypeOf(sec).Elem().String()] = name
	}
	return m
}()

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

// explainYAML rewrites the YAML decoder's errors in the workspace's terms:
// an unknown key is named with its line and section, the nearest known key
// is suggested, and a key that belongs to another section says which.
func explainYAML(path string, err error) error {
	ms := unknownField.FindAllStringSubmatch(err.Error(), -1)
	if len(ms) == 0 {
		return yamlerr.Error(path, err)
	}
	keys := sectionKeys()
	var msgs []string
	for _, m := range ms {
		line, key, typ := m[1], m[2], m[3]
		sec, known := typeSection[typ]
		where := "at the top level"
		if sec != "" {
			where = "in " + sec + ":"
		}
		msg := fmt.Sprintf("%s:%s: unknown key %q %s", path, line, key, where)
		if known {
			if s := conf.Nearest(key, keys[sec], max(2, len(key)/3)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			var elsewhere []string
			for other, ks := range keys {
				if other != sec && other != "" && contains(ks, key) {
					elsewhere = append(elsewhere, other+":")
				}
			}
			sort.Strings(elsewhere)
			if len(elsewhere) > 0 {
				msg += fmt.Sprintf(" (%s is a key of %s)", key, strings.Join(elsewhere, ", "))
			}
			msg += " Known keys here: " + strings.Join(keys[sec], ", ")
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
