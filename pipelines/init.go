package pipelines

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed scaffold
var scaffold embed.FS

// Init writes a new workspace into dir: tuneline.yaml and persona.yaml with
// comments that teach every field, and sources/ with a first source. It
// never overwrites a file.
func Init(dir string) ([]string, error) {
	var written []string
	err := fs.WalkDir(scaffold, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("scaffold", p)
		dst := filepath.Join(dir, rel)
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("%s exists; init never overwrites", dst)
		}
		b, err := scaffold.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		written = append(written, dst)
		return nil
	})
	return written, err
}
