package smallfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, make([]byte, 1024), 0o644)
	over := filepath.Join(dir, "over")
	os.WriteFile(over, make([]byte, 1025), 0o644)
	for _, tt := range []struct {
		path, err string
	}{
		{exact, ""},
		{over, "larger than 1 KiB, too large for a thing"},
		{"/dev/zero", "larger than 1 KiB"},
		{dir, "is a folder"},
	} {
		b, err := ReadFile(tt.path, 1024, "thing")
		if tt.err == "" && (err != nil || len(b) != 1024) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %d bytes, %v; want %q", tt.path, len(b), err, tt.err)
		}
	}
}
