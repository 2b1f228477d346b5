package pipelines

import (
	"fmt"
	"sort"
	"strings"
)

// plan decides whether a stage runs. It is a pure function of what the
// manifest recorded of the stage's last run (prev, nil when it never ran),
// the stage's detail now (hashes of its inputs and parameters) and the
// hashes its outputs have now (outputs maps each output, relative to the
// workspace, to its hash, "" when missing; order gives the order to
// report). It returns the hash of the detail, to record, and why the stage
// must run, "" when it is up to date.
func plan(prev *StageRecord, detail map[string]string, outputs []Output, force bool) (inputs, why string) {
	inputs = hashJSON(detail)
	switch {
	case force:
		return inputs, "forced (--force)"
	case prev == nil:
		return inputs, "never ran"
	case prev.Inputs != inputs:
		var changed []string
		for k, v := range detail {
			if prev.Detail[k] != v {
				changed = append(changed, k)
			}
		}
		for k := range prev.Detail {
			if _, ok := detail[k]; !ok {
				changed = append(changed, k+" (removed)")
			}
		}
		sort.Strings(changed)
		if len(changed) > 4 {
			changed = append(changed[:4], fmt.Sprintf("and %d more", len(changed)-4))
		}
		return inputs, "changed: " + strings.Join(changed, ", ")
	}
	for _, o := range outputs {
		if o.Hash == "" {
			return inputs, "output missing: " + o.Path
		}
		if prev.Outputs[o.Path] != o.Hash {
			return inputs, "output changed since: " + o.Path
		}
	}
	return inputs, ""
}

// Output is one output file of a stage as it is now: its path relative to
// the workspace and its hash ("" when missing).
type Output struct{ Path, Hash string }

// outputsNow hashes the stage's output files.
func (r *runner) outputsNow(paths []string) []Output {
	out := make([]Output, len(paths))
	for i, p := range paths {
		out[i].Path = rel(r.cfg.dir, p)
		out[i].Hash, _ = hashFile(p)
	}
	return out
}
