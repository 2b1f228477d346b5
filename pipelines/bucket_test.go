package pipelines

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/bucket"
	"github.com/tuneline/tuneline/internal/testenv"
)

// A workspace whose sources are a gs:// prefix (fake-gcs-server, in
// process on loopback): ingest reads every object under it; a second run
// skips ingest (no object's generation changed, nothing downloaded); an
// object rewritten (a new generation) is re-ingested, and only it.
func TestRunBucketSourceReingest(t *testing.T) {
	testenv.Integration(t, "an in-process fake-gcs-server")
	testenv.FakeGCS(t, "corpus")
	bucket.Reset()
	ctx := context.Background()
	put := func(name, text string) {
		t.Helper()
		if err := bucket.Put(ctx, "gs://corpus/books/"+name, strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	put("waves.md", "# Waves\n\nA wave carries energy through a medium without carrying the medium along. Its speed is its frequency times its wavelength.\n")
	put("heat.md", "# Heat\n\nHeat flows from a warmer body to a cooler one until both reach the same temperature; conduction, convection and radiation carry it.\n")
	dir := workspace(t, "127.0.0.1:9")
	y := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(y)
	os.WriteFile(y, bytes.Replace(b, []byte("  - sources/\n"), []byte("  - gs://corpus/books/\n"), 1), 0o644)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(want, summary string) {
		t.Helper()
		var log strings.Builder
		res, err := Run(ctx, cfg, Options{Version: "test", Only: "ingest", Log: &log})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		a := actions(res)["ingest"]
		if a.Action != want || !strings.Contains(a.Summary, summary) {
			t.Errorf("ingest %s (%s) %q, want %s with %q\n%s", a.Action, a.Reason, a.Summary, want, summary, log.String())
		}
	}
	ingest("ran", "2 sources (2 re-ingested, 0 unchanged, 0 failed)")
	chunks, _ := os.ReadFile(filepath.Join(dir, "build", "chunks.jsonl"))
	if !bytes.Contains(chunks, []byte(`"gs://corpus/books/heat.md"`)) || !bytes.Contains(chunks, []byte(`"gs://corpus/books/waves.md"`)) {
		t.Errorf("chunks lack gs:// provenance:\n%s", chunks)
	}
	ingest("skipped", "")
	put("heat.md", "# Heat\n\nHeat flows from a warmer body to a cooler one. A rewritten object has a new generation.\n")
	ingest("ran", "2 sources (1 re-ingested, 1 unchanged, 0 failed)")
}
