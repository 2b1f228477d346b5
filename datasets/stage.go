package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/tuneline/tuneline/internal/atomicfile"
	"golang.org/x/sys/unix"
)

// A StagedDir is a set of files that appears as a whole: everything is
// written into a staging folder beside the final one, and Commit swaps the
// two in one atomic rename (renameat2 RENAME_EXCHANGE), so a reader — or a
// crash at any moment — sees the whole old set or the whole new one, never
// a mix. Staging folders of crashed runs are removed by the next NewStagedDir
// for the same folder.
type StagedDir struct {
	Final string // the folder the set appears in
	Dir   string // where to write now
	done  bool
}

// NewStagedDir prepares to replace the folder final (which need not exist).
// When final is a symbolic link, the folder it leads to is replaced and the
// link stays (swapping the link itself put a real folder in its place and
// left its target as it was).
func NewStagedDir(final string) (*StagedDir, error) {
	final, err := followLinks(filepath.Clean(final))
	if err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(final), filepath.Base(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	CleanStaging(final)
	dir, err := os.MkdirTemp(parent, "."+base+".staging-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", final, err)
	}
	if err := os.Chmod(dir, atomicfile.DirMode()); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &StagedDir{Final: final, Dir: dir}, nil
}

// followLinks is path with its last element's symbolic links followed
// (to a target that need not exist yet), at most 40 of them, as the kernel
// allows.
func followLinks(path string) (string, error) {
	for range 40 {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		path = filepath.Clean(to)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// Commit puts the staged set in place of the final folder, atomically
// where the file system can exchange two folders, and removes the old set.
func (s *StagedDir) Commit() error {
	if s.done {
		return nil
	}
	s.done = true
	if d, err := os.Open(s.Dir); err == nil { // the set's files are on disk before it appears
		d.Sync()
		d.Close()
	}
	err := unix.Renameat2(unix.AT_FDCWD, s.Dir, unix.AT_FDCWD, s.Final, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// s.Dir now holds the old set.
	case errors.Is(err, syscall.ENOENT):
		// No old set: a plain rename.
		err = os.Rename(s.Dir, s.Final)
	case errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EXDEV):
		// A file system without folder exchange: move the old set aside
		// first. A crash between the two renames leaves the old set in
		// the staging name, which the next run restores.
		old := s.Dir + ".old"
		if err = os.Rename(s.Final, old); err == nil {
			if err = os.Rename(s.Dir, s.Final); err != nil {
				os.Rename(old, s.Final)
			} else {
				s.Dir = old
			}
		}
	}
	if err != nil {
		os.RemoveAll(s.Dir)
		return fmt.Errorf("put %s in place: %w", s.Final, err)
	}
	return os.RemoveAll(s.Dir)
}

// Abort removes the staged files; a no-op after Commit.
func (s *StagedDir) Abort() {
	if !s.done {
		s.done = true
		os.RemoveAll(s.Dir)
	}
}

// CleanStaging removes the staging folders of final that crashed runs left
// (their process is gone), restoring an old set moved aside when final is
// missing.
func CleanStaging(final string) {
	parent, base := filepath.Dir(final), filepath.Base(final)
	matches, _ := filepath.Glob(filepath.Join(parent, "."+base+".staging-*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), "."+base+".staging-")
		pidText, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidText); err != nil || alive(pid) {
			continue
		}
		if strings.HasSuffix(m, ".old") {
			if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) && os.Rename(m, final) == nil {
				continue
			}
		}
		os.RemoveAll(m)
	}
	CleanTemp(final)
}

// alive tells whether a process of that pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// CleanTemp removes the temporary files that crashed atomic writes left
// in dir (".NAME.tmp-PID-*" whose process is gone), recursively.
func CleanTemp(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		i := strings.Index(name, ".tmp-")
		if !strings.HasPrefix(name, ".") || i < 0 {
			return nil
		}
		pidText, _, _ := strings.Cut(name[i+len(".tmp-"):], "-")
		if pid, err := strconv.Atoi(pidText); err == nil && !alive(pid) {
			os.Remove(p)
		}
		return nil
	})
}
