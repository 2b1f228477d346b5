package pipelines

import (
	"reflect"
	"strings"
	"testing"
)

// TestStageRegistry: every section of tuneline.yaml is a stage's row (or
// the model server's), under the stage's name, and every row is complete
// and reaches the scaffold, the keys and the YAML errors.
func TestStageRegistry(t *testing.T) {
	d := DefaultConfig()
	secs := sections(&d)
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Type.Kind() != reflect.Struct || key == "" || key == "-" {
			continue // name, sources, persona, build, models
		}
		sec, ok := secs[key]
		if !ok {
			t.Errorf("Config.%s (%s:) is no stage's section: give its stage a row in stages (stages.go) with section", f.Name, key)
			continue
		}
		if reflect.ValueOf(sec).Pointer() != v.Field(i).Addr().Pointer() {
			t.Errorf("section %s: the row's section is not Config.%s", key, f.Name)
		}
		if typeSection[f.Type.String()] != key {
			t.Errorf("typeSection[%s] = %q, want %q", f.Type, typeSection[f.Type.String()], key)
		}
	}
	scaffold := string(Scaffold(InitOptions{Name: "w", Model: "m"}))
	keys := sectionKeys()
	seen := map[string]bool{}
	for _, st := range stages {
		if seen[st.name] {
			t.Errorf("stage %s listed twice", st.name)
		}
		seen[st.name] = true
		if st.format < 1 || st.enabled == nil || st.inputs == nil || st.run == nil {
			t.Errorf("stage %s: incomplete row (format %d, enabled, inputs and run are required)", st.name, st.format)
		}
		if st.section == nil {
			continue
		}
		if st.doc == "" {
			t.Errorf("stage %s: no doc for its scaffold section", st.name)
		}
		if !strings.Contains(scaffold, "\n# "+st.doc+"\n"+st.name+":\n") {
			t.Errorf("the scaffold lacks stage %s's section", st.name)
		}
		if len(keys[st.name]) == 0 {
			t.Errorf("stage %s: no keys", st.name)
		}
	}
}
