package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tuneline/tuneline/internal/bucket"
)

// Expand turns the command line's sources into files and URLs: directories
// are walked (hidden entries skipped), globs expanded, "-" is stdin.
func Expand(sources []string) ([]string, error) {
	var out []string
	var err error
	for _, s := range sources {
		switch {
		case s == "-" || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
			out = append(out, s)
		case bucket.IsURL(s):
			if out, err = expandBucket(out, s); err != nil {
				return nil, err
			}
		case strings.ContainsAny(s, "*?["):
			m, err := filepath.Glob(s)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", s, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("pattern %q matches no file", s)
			}
			sort.Strings(m)
			out = append(out, m...)
		default:
			st, err := os.Stat(s)
			if err != nil {
				return nil, fmt.Errorf("source %w", err)
			}
			if !st.IsDir() {
				out = append(out, s)
				continue
			}
			err = filepath.WalkDir(s, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p != s && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if d.Type().IsRegular() {
					out = append(out, p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("walk %s: %w", s, err)
			}
		}
	}
	return out, nil
}
