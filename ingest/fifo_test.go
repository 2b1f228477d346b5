package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/datasets"
)

// A named pipe given as a source is refused at once, not opened (which
// blocked forever waiting for a writer), and /dev/zero is not read until
// the cap (issue 29, case 11, the FIFO part).
func TestNonRegularSourceRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() { _, _, err := load(context.Background(), src, Options{MaxBytes: 200 << 20}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want it refused", src, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still blocked after 5 s", src)
		}
	}
}

// A folder's symbolic links, named pipes and other non-regular entries are
// left out with a counted reason in the summary (they were skipped without
// a word), and a name that is not UTF-8 is kept byte for byte in the chunk
// (JSON had U+FFFD in its place) (issue 29, case 11).
func TestFolderEntriesSkippedAndNamesKept(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.txt", "A plain note about rivers and mills.\n")
	latin1 := "caf\xe9.txt"
	write(latin1, "A note whose name is Latin-1.\n")
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, out := runWithin(t, 20*time.Second, Options{}, dir)
	if sum.Documents != 2 || len(sum.Errors) != 0 {
		t.Errorf("%d documents, errors %v; want the two regular files", sum.Documents, sum.Errors)
	}
	reasons := map[string]string{}
	for _, s := range sum.Skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	if len(reasons) != 2 || reasons["link.txt"] != "a symbolic link" || reasons["pipe.txt"] != "a named pipe" {
		t.Errorf("skipped %+v, want link.txt and pipe.txt with their reasons", sum.Skipped)
	}
	var buf bytes.Buffer
	for _, c := range out.chunks {
		if err := writeJSONLine(&buf, c); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "chunks.jsonl")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	found := false
	for c, err := range datasets.Chunks(file) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(c.Source, "caf\uFFFD.txt") {
			found = true
			if want := filepath.Join(dir, latin1); string(c.SourceRaw) != want {
				t.Errorf("source_raw %q, want %q", c.SourceRaw, want)
			}
		} else if c.SourceRaw != nil {
			t.Errorf("%s: source_raw %q on a UTF-8 name", c.Source, c.SourceRaw)
		}
	}
	if !found {
		t.Errorf("no chunk of the Latin-1 file in %s", buf.String())
	}
	// A chat log's examples keep the name's bytes too (meta.extra, base64).
	logName := filepath.Join(dir, "journ\xe9e.jsonl")
	os.WriteFile(logName, []byte(`{"messages":[{"role":"user","content":"Hi?"},{"role":"assistant","content":"Hello."}]}`+"\n"), 0o644)
	sum, out = runWithin(t, 20*time.Second, Options{}, logName)
	if len(out.exs) != 1 || len(sum.Errors) != 0 {
		t.Fatalf("%d examples, errors %v", len(out.exs), sum.Errors)
	}
	raw, err := base64.StdEncoding.DecodeString(out.exs[0].Meta.Extra["source_raw"])
	if err != nil || string(raw) != logName {
		t.Errorf("example's source_raw %q (%v), want %q", raw, err, logName)
	}
}

// Names and messages print on one line whatever they hold (a newline in a
// file name forged a summary line).
func TestQuoteAndEscape(t *testing.T) {
	for _, tt := range []struct{ in, quoted, escaped string }{
		{"papers/a.pdf", "papers/a.pdf", "papers/a.pdf"},
		{"with space.pdf", "with space.pdf", "with space.pdf"},
		{"evil\n  error: forged.txt", `"evil\n  error: forged.txt"`, `evil\n  error: forged.txt`},
		{"caf\xe9.txt", `"caf\xe9.txt"`, `caf\xe9.txt`},
		{"red\x1b[31m", `"red\x1b[31m"`, `red\x1b[31m`},
		{`say "hi"`, `"say \"hi\""`, `say "hi"`},
		{" lead", `" lead"`, " lead"},
		{"", `""`, ""},
		{"日本語.pdf", "日本語.pdf", "日本語.pdf"},
	} {
		if got := Quote(tt.in); got != tt.quoted {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.quoted)
		}
		if got := Escape(tt.in); got != tt.escaped {
			t.Errorf("Escape(%q) = %s, want %s", tt.in, got, tt.escaped)
		}
	}
}

// runWithin is run, failing the test when it takes longer than d (a source
// that blocks, a budget that waits forever).
func runWithin(t *testing.T, d time.Duration, opt Options, src ...string) (Summary, *memOut) {
	t.Helper()
	type res struct {
		sum Summary
		out *memOut
		err error
	}
	done := make(chan res, 1)
	go func() {
		out := &memOut{}
		sum, err := Run(context.Background(), src, opt, out)
		done <- res{sum, out, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.sum, r.out
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
	return Summary{}, nil
}
