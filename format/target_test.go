package format

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
)

// TestTargetsRegistry checks each registered target against what the
// registry promises: a unique name, its help, one way of writing, and
// that what it says it holds is what an export of it keeps.
func TestTargetsRegistry(t *testing.T) {
	chat := `{"messages":[{"role":"user","content":"What is the capital of France?"},{"role":"assistant","content":"Paris is the capital of France."}]}`
	tools := `{"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"{\"sky\":\"clear\"}"},{"role":"assistant","content":"It is clear in Paris."}],"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
	pair := `{"messages":[{"role":"user","content":"Name a primary colour."},{"role":"assistant","content":"Red is a primary colour."}],"rejected":[{"role":"assistant","content":"Green, I think, maybe."}]}`
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chatFile := write("chat.jsonl", chat, tools)
	pairFile := write("pairs.jsonl", pair)
	seen := map[string]bool{}
	help := Help()
	for _, tg := range AllTargets() {
		t.Run(tg.Name, func(t *testing.T) {
			if tg.Name == "" || seen[tg.Name] {
				t.Fatalf("target name %q empty or registered twice", tg.Name)
			}
			seen[tg.Name] = true
			if got, err := Lookup(tg.Name); err != nil || got != tg {
				t.Fatalf("Lookup(%q) = %v, %v", tg.Name, got, err)
			}
			if tg.Files == "" || tg.Reader == "" || (tg.Holds.Tools && tg.ToolsDoc == "") || (tg.Holds.Pairs && tg.PairsDoc == "") {
				t.Errorf("%s lacks its help (files, reader, or how it writes what it holds)", tg.Name)
			}
			if (tg.encode == nil) == (tg.fits == nil) || tg.newSink == nil {
				t.Errorf("%s needs either encode (JSON Lines) or fits (Parquet), and newSink", tg.Name)
			}
			if !strings.Contains(help, "   "+tg.Name+" ") {
				t.Errorf("Help() does not list %s", tg.Name)
			}
			ctx := context.Background()
			rep, err := Export(ctx, []string{chatFile}, Options{Target: tg.Name, Kind: KindChat, OutDir: filepath.Join(dir, tg.Name), Split: 1, NearDup: 0.8})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 2, false: 1}[tg.Holds.Tools]; rep.Written != want {
				t.Errorf("chat export with tools=%v wrote %d, want %d: %v", tg.Holds.Tools, rep.Written, want, rep.Drops)
			}
			rep, err = Export(ctx, []string{pairFile}, Options{Target: tg.Name, Kind: KindPreference, OutDir: filepath.Join(dir, tg.Name+"-preference"), Split: 1, NearDup: 0.8})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tg.Holds.Pairs]; rep.Written != want {
				t.Errorf("preference export with pairs=%v wrote %d, want %d: %v", tg.Holds.Pairs, rep.Written, want, rep.Drops)
			}
			// The report names the files the layout promises.
			for _, f := range rep.Splits[SplitTrain].Files {
				if !strings.Contains(tg.Files, strings.SplitN(filepath.Base(f), "-", 2)[0]) {
					t.Errorf("wrote %s, not in the documented layout %q", f, tg.Files)
				}
			}
			if tg.metadata != nil && rep.Written > 0 {
				b, err := os.ReadFile(filepath.Join(dir, tg.Name+"-preference", "dataset_info.json"))
				var info map[string]map[string]any
				if err != nil || json.Unmarshal(b, &info) != nil || info["tuneline"]["ranking"] != true {
					t.Errorf("dataset_info.json of a preference export: %s, %v", b, err)
				}
			}
		})
	}
}

// TestTargetNamesOnce: every target's name is one of the formats datasets
// names (the one place the names are written).
func TestTargetNamesOnce(t *testing.T) {
	known := map[string]bool{datasets.FormatOpenAI: true, datasets.FormatShareGPT: true, datasets.FormatAlpaca: true,
		datasets.FormatVertex: true, datasets.FormatHF: true}
	for _, n := range Targets {
		if !known[n] {
			t.Errorf("target %q is not named in datasets", n)
		}
	}
	if _, err := Lookup("parquet"); err == nil || !strings.Contains(err.Error(), strings.Join(Targets, ", ")) {
		t.Errorf("Lookup of an unknown name: %v", err)
	}
}
