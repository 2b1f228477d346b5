package pipelines

import "testing"

func TestPlan(t *testing.T) {
	detail := map[string]string{"format": "1", "params": "p1", "chunks": "c1"}
	inputs := hashJSON(detail)
	prev := &StageRecord{Inputs: inputs, Detail: detail, Outputs: map[string]string{"build/a.jsonl": "h1", "build/b.jsonl": "h2"}}
	outs := []Output{{"build/a.jsonl", "h1"}, {"build/b.jsonl", "h2"}}
	with := func(k, v string) map[string]string {
		d := map[string]string{}
		for a, b := range detail {
			d[a] = b
		}
		if v == "" {
			delete(d, k)
		} else {
			d[k] = v
		}
		return d
	}
	many := with("params", "p2")
	for _, k := range []string{"s1", "s2", "s3", "s4", "s5"} {
		many[k] = "x"
	}
	for _, tt := range []struct {
		name    string
		prev    *StageRecord
		detail  map[string]string
		outputs []Output
		force   bool
		why     string
	}{
		{"up to date", prev, detail, outs, false, ""},
		{"forced", prev, detail, outs, true, "forced (--force)"},
		{"never ran", nil, detail, outs, false, "never ran"},
		{"a parameter changed", prev, with("params", "p2"), outs, false, "changed: params"},
		{"an input appeared", prev, with("source x.pdf", "h"), outs, false, "changed: source x.pdf"},
		{"an input went away", prev, with("chunks", ""), outs, false, "changed: chunks (removed)"},
		{"many changes are summed up", prev, many, outs, false, "changed: params, s1, s2, s3, and 2 more"},
		{"an output is missing", prev, detail, []Output{{"build/a.jsonl", "h1"}, {"build/b.jsonl", ""}}, false, "output missing: build/b.jsonl"},
		{"an output was edited", prev, detail, []Output{{"build/a.jsonl", "h9"}, {"build/b.jsonl", "h2"}}, false, "output changed since: build/a.jsonl"},
		{"a new output", prev, detail, append(outs, Output{"build/c.jsonl", "h3"}), false, "output changed since: build/c.jsonl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, why := plan(tt.prev, tt.detail, tt.outputs, tt.force)
			if why != tt.why {
				t.Errorf("why %q, want %q", why, tt.why)
			}
			if in != hashJSON(tt.detail) {
				t.Error("inputs hash is not the detail's")
			}
		})
	}
}
