// Package corpus finds the repository's test corpora (testdata/corpora: real
// files made by other people, each folder with its SOURCE.txt and licence).
// It imports nothing of tuneline's, so that any package's tests can use it.
package corpus

import (
	"path/filepath"
	"runtime"
)

// Root is the repository's top folder (found from this file's place, so it
// holds for a test run from any package).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path is the path of rel inside testdata/corpora.
func Path(rel ...string) string {
	return filepath.Join(append([]string{Root(), "testdata", "corpora"}, rel...)...)
}
