package transcript

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

var wpt = testenv.Corpus("webvtt-wpt/wpt-file-parsing") + "/"

// cueValue is a cue as a browser's VTTCue exposes it.
func cueValue(c *Cue) map[string]any {
	m := map[string]any{"id": c.ID, "text": c.Text, "startTime": c.Start, "endTime": c.End,
		"vertical": c.Vertical, "snapToLines": c.SnapToLines, "lineAlign": c.LineAlign,
		"positionAlign": c.PositionAlign, "size": c.Size, "align": c.Align, "line": "auto", "position": "auto", "region": nil}
	if c.Line != nil {
		m["line"] = *c.Line
	}
	if c.Position != nil {
		m["position"] = *c.Position
	}
	if r := c.Region; r != nil {
		m["region"] = map[string]any{"id": r.ID, "width": r.Width, "lines": r.Lines, "regionAnchorX": r.RegionAnchorX,
			"regionAnchorY": r.RegionAnchorY, "viewportAnchorX": r.ViewportAnchorX, "viewportAnchorY": r.ViewportAnchorY, "scroll": r.Scroll}
	}
	return m
}

// The web-platform-tests WebVTT file-parsing cases: every expectation holds.
func TestWPTFileParsing(t *testing.T) {
	cases, _ := filepath.Glob(wpt + "*.json")
	if len(cases) != 36 {
		t.Fatalf("found %d WPT cases at %s, want 36", len(cases), wpt)
	}
	for _, c := range cases {
		var tc struct {
			Test, Vtt string
			CueCount  int `json:"cue_count"`
			Expect    []struct {
				Path, Op string
				Value    any
			}
		}
		b, _ := os.ReadFile(c)
		if err := json.Unmarshal(b, &tc); err != nil {
			t.Fatal(err)
		}
		t.Run(tc.Test, func(t *testing.T) {
			in, err := os.ReadFile(wpt + tc.Vtt)
			if err != nil {
				t.Fatal(err)
			}
			cues, _ := ParseWebVTT(in)
			vals := make([]map[string]any, len(cues))
			for i, c := range cues {
				vals[i] = cueValue(c)
			}
			for _, e := range tc.Expect {
				var got any
				if e.Path == "length" {
					got = float64(len(cues))
				} else {
					parts := strings.Split(e.Path, ".")
					i, _ := strconv.Atoi(parts[0])
					if i >= len(vals) {
						t.Errorf("%s: only %d cues", e.Path, len(vals))
						continue
					}
					var cur any = vals[i]
					for _, p := range parts[1:] {
						m, ok := cur.(map[string]any)
						if !ok {
							cur = nil
							break
						}
						cur = m[p]
					}
					got = cur
				}
				want := e.Value
				if f, ok := want.(float64); ok {
					if g, ok := got.(float64); ok && abs(g-f) < 1e-9 {
						got = want
					}
				}
				if m, ok := want.(map[string]any); ok && len(m) == 0 && e.Op == "not_equals" {
					// A region identity check ("not that region object")
					// flattened to data; TestRegionIdentity checks it.
					continue
				}
				// An expected empty object stands for "some region object"
				// (the region identity checks WPT could not write as data).
				if m, ok := want.(map[string]any); ok && len(m) == 0 {
					if _, ok := got.(map[string]any); ok {
						got = want
					}
				}
				eq := reflect.DeepEqual(got, want)
				if (e.Op == "equals") != eq {
					t.Errorf("%s %s %v: got %#v", e.Path, e.Op, want, got)
				}
			}
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// settings-region: a cue naming a region id takes the last region defined
// with that id (WPT checks this by object identity).
func TestRegionIdentity(t *testing.T) {
	in, err := os.ReadFile(wpt + "settings-region.vtt")
	if err != nil {
		t.Fatal(err)
	}
	cues, regions, _ := parseWebVTT(in)
	if len(cues) != 9 || cues[0].Region == nil || cues[4].Region == nil || cues[0].Region != cues[4].Region {
		t.Fatalf("cues 0 and 4 must share the region foo")
	}
	if cues[1].Region == nil || cues[1].Region == cues[0].Region || cues[2].Region != cues[1].Region {
		t.Fatalf("cues 1 and 2 must use region bar")
	}
	// The text has three REGION blocks with ids foo, bar, foo: the second
	// foo must win, so the region has no width setting and is not the first.
	if len(regions) != 4 || cues[0].Region != regions[2] || cues[0].Region == regions[0] {
		t.Fatalf("cue 0 must use the last region foo (regions %v, cue region %p)", regions, cues[0].Region)
	}
}
