package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every line ingest prints about a source is one line whatever the file's
// name holds (a newline in a name forged an "error:" line), and a folder's
// entries that are not regular files are counted with their reason
// (issue 29, case 11).
func TestIngestNamesOneLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.txt"), []byte("A plain note about rivers and mills.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad\nerror: forged.pdf\x1b[31m"), []byte("%PDF-1.4\n\x80\x00 not a PDF"), 0o644)
	os.Symlink("good.txt", filepath.Join(dir, "link.txt"))
	syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644)
	code, _, errOut := run(t, "ingest", "--out", filepath.Join(t.TempDir(), "chunks.jsonl"), dir)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{
		`  error: "` + dir + `/bad\nerror: forged.pdf\x1b[31m": the PDF is damaged`,
		"  skipped 2 entries of folders that are not regular files (1 named pipe, 1 symbolic link)",
		"  skipped: " + dir + "/link.txt: a symbolic link\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, line := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(line, "error: forged") || strings.ContainsRune(line, 0x1b) {
			t.Errorf("a forged or raw line: %q", line)
		}
	}
}
