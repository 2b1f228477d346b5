package format

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// shower returns how a local path is shown in what an export writes: as
// given when it is relative or a URL; relative to BaseDir (default: the
// current folder) when it lies inside it; else its base name. With
// AbsolutePaths, as an absolute path.
func (o *Options) shower() func(string) string {
	base := o.BaseDir
	if base == "" {
		base, _ = os.Getwd()
	}
	base, _ = filepath.Abs(base)
	return func(p string) string {
		if p == "" || p == "-" || strings.Contains(p, "://") {
			return p
		}
		if o.AbsolutePaths {
			if a, err := filepath.Abs(p); err == nil {
				return a
			}
			return p
		}
		if !filepath.IsAbs(p) {
			return p
		}
		if r, err := filepath.Rel(base, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return r
		}
		return filepath.Base(p)
	}
}

// showMeta rewrites the provenance paths of an example (its origin
// "file:line" and its source) as show gives them.
func showMeta(m *datasets.Meta, show func(string) string) {
	if m.Origin != "" {
		if i := strings.LastIndexByte(m.Origin, ':'); i > 0 {
			m.Origin = show(m.Origin[:i]) + m.Origin[i:]
		} else {
			m.Origin = show(m.Origin)
		}
	}
	m.Source = show(m.Source)
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}
