// Package smallfile reads the small files a user names (a persona, a
// licence, a template, a workspace file) whole, up to a cap: a path that
// points at /dev/zero or a 100 MB file by mistake is an error that says so,
// not memory exhaustion.
package smallfile

import (
	"fmt"
	"io"
	"os"
)

// Caps of the files tuneline reads whole. A persona, a workspace file or a
// batch file is a few KB; a licence (the GPL is 35 KB) or a template well
// under 1 MiB; a facts file a few MB at most.
const (
	Config  = 1 << 20
	Persona = 1 << 20
	Text    = 1 << 20 // a template, a licence
	Facts   = 16 << 20
)

// ReadFile reads path whole when it holds at most max bytes; a larger file
// (or one that never ends) is an error naming it, what it was read as, and
// the cap, found after reading max+1 bytes.
func ReadFile(path string, max int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a %s", path, what)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %s, too large for a %s (is it the right file?)", path, size(max), what)
	}
	return b, nil
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
