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

// Skip is an entry of a folder that is not ingested, and why.
type Skip struct {
	Path string `json:"path"`
	// PathRaw is Path byte for byte when it is not UTF-8.
	PathRaw []byte `json:"path_raw,omitempty"`
	Reason  string `json:"reason"`
}

// Expand turns the command line's sources into files and URLs: directories
// are walked (hidden entries skipped), globs expanded, "-" is stdin. What a
// folder holds that is not a regular file (a symbolic link, named pipe,
// socket or device) is left out and returned with the reason: a pipe
// would block and a link may lead out of the folder.
func Expand(sources []string) ([]string, []Skip, error) {
	var out []string
	var skipped []Skip
	var err error
	for _, s := range sources {
		switch {
		case s == "-" || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
			out = append(out, s)
		case bucket.IsURL(s):
			if out, err = expandBucket(out, s); err != nil {
				return nil, nil, err
			}
		case strings.ContainsAny(s, "*?["):
			m, err := filepath.Glob(s)
			if err != nil {
				return nil, nil, fmt.Errorf("pattern %q: %w", s, err)
			}
			if len(m) == 0 {
				return nil, nil, fmt.Errorf("pattern %q matches no file", s)
			}
			sort.Strings(m)
			out = append(out, m...)
		default:
			st, err := os.Stat(s)
			if err != nil {
				return nil, nil, fmt.Errorf("source %w", err)
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
				switch {
				case d.Type().IsRegular():
					out = append(out, p)
				case !d.IsDir():
					skipped = append(skipped, Skip{Path: p, PathRaw: rawName(p), Reason: fileType(d.Type())})
				}
				return nil
			})
			if err != nil {
				return nil, nil, fmt.Errorf("walk %s: %w", Quote(s), err)
			}
		}
	}
	return out, skipped, nil
}
