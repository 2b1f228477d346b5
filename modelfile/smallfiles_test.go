package modelfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/memlimit"
	"github.com/tuneline/tuneline/persona"
)

// Files named on the command line are read whole only up to a cap: a
// persona, licence, template or batch file at /dev/zero ran out of memory,
// and a 100 MB persona was accepted (issue 29, case 4). In a child limited
// to 1 GiB.
func TestFilesNamedAreCapped(t *testing.T) {
	if !memlimit.Child(t, 1<<30) {
		return
	}
	big := filepath.Join(t.TempDir(), "persona.yaml")
	os.WriteFile(big, []byte("name: Ada\nsystem: "+strings.Repeat("x", 2<<20)+"\n"), 0o644)
	for _, tt := range []struct {
		name string
		run  func() error
	}{
		{"persona /dev/zero", func() error { _, err := persona.Load("/dev/zero"); return err }},
		{"a 2 MiB persona", func() error { _, err := persona.Load(big); return err }},
		{"--license /dev/zero", func() error {
			_, _, err := Source{From: "llama3.2", License: "/dev/zero"}.Build(context.Background())
			return err
		}},
		{"--template /dev/zero", func() error {
			_, _, err := Source{From: "llama3.2", Template: "/dev/zero"}.Build(context.Background())
			return err
		}},
		{"--batch /dev/zero", func() error { _, _, err := LoadBatch("/dev/zero"); return err }},
	} {
		if err := tt.run(); err == nil || !strings.Contains(err.Error(), "too large for a") {
			t.Errorf("%s: %v, want it refused as too large", tt.name, err)
		}
	}
}

// A batch matrix is counted before it is expanded: 17 KB of 464 bases,
// personas and parameter sets (10^8 models) ran out of memory (issue 29,
// case 6). In a child limited to 1 GiB.
func TestBatchMatrixCapped(t *testing.T) {
	if !memlimit.Child(t, 1<<30) {
		return
	}
	var b strings.Builder
	list := func(key, item string) {
		b.WriteString("  " + key + ": [")
		for i := range 464 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(strings.ReplaceAll(item, "N", strings.Repeat("x", i%3)+string(rune('a'+i%26))+strings.Repeat("y", i/26)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("matrix:\n")
	list("bases", "bN")
	list("personas", "pN")
	list("params", "{t: N}")
	path := filepath.Join(t.TempDir(), "batch.yaml")
	os.WriteFile(path, []byte(b.String()), 0o644)
	_, _, err := LoadBatch(path)
	if err == nil || !strings.Contains(err.Error(), "makes 99897344 models") {
		t.Errorf("%v, want the matrix refused by its count", err)
	}
	// a matrix at the cap is expanded
	os.WriteFile(path, []byte("matrix:\n  bases: [a, b, c, d, e, f, g, h, i, j]\n  personas: [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9]\n  params: [{t: 1}, {t: 2}, {t: 3}, {t: 4}, {t: 5}, {t: 6}, {t: 7}, {t: 8}, {t: 9}, {t: 10}]\n"), 0o644)
	if _, entries, err := LoadBatch(path); err != nil || len(entries) != 1000 {
		t.Errorf("%d models, %v; want 1000", len(entries), err)
	}
}
