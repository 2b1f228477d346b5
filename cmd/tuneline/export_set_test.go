package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/chatgen"
	"github.com/tuneline/tuneline/internal/testenv"
)

// exportSet hashes every file under dir by its relative path.
func exportSet(t *testing.T, dir string) map[string]string {
	t.Helper()
	set := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		set[rel] = hex.EncodeToString(h[:8])
		return nil
	})
	return set
}

func sameSet(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func genInput(t *testing.T, n int, seed uint64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.jsonl")
	f, _ := os.Create(p)
	if _, err := chatgen.Write(f, n, chatgen.Options{DupRate: 0.05, NearDupRate: 0.05, BadRate: 0.01, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// Exported files get the umask's mode: 0644 (folders 0755) under umask 022.
func TestExportFileModes(t *testing.T) {
	in := genInput(t, 200, 1)
	for _, format := range []string{"openai", "hf", "sharegpt"} {
		out := filepath.Join(t.TempDir(), format)
		cmd := exec.Command("/bin/sh", "-c", `umask 022 && exec "$0" "$@"`, os.Args[0], "-q", "export", "--format", format, "--out", out, in)
		cmd.Env = append(os.Environ(), "TUNELINE_TEST_AS_CLI=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b)
		}
		filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			st, _ := os.Stat(p)
			want := fs.FileMode(0o644)
			if d.IsDir() {
				want = 0o755
			}
			if st.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
			}
			return nil
		})
	}
}

// kill -9 of an export at any moment leaves the whole old set of files or
// the whole new one, never a mix; the next export removes what the killed
// one left and writes its set.
func TestExportKilledLeavesWholeSet(t *testing.T) {
	testenv.Integration(t, "two dozen exports in subprocesses (20 s)")
	oldIn, newIn := genInput(t, 3000, 1), genInput(t, 30000, 2)
	for _, format := range []string{"hf", "sharegpt"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "export")
			export := func(in string) *exec.Cmd {
				c := subCLI("-q", "export", "--format", format, "--shard-size", "2", "--out", out, in)
				return c
			}
			if b, err := export(oldIn).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			oldSet := exportSet(t, out)
			start := time.Now()
			if b, err := export(newIn).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			took := time.Since(start)
			newSet := exportSet(t, out)
			if b, err := export(oldIn).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if sameSet(oldSet, newSet) || len(newSet) < 3 {
				t.Fatalf("the two exports are not distinct sets: %d and %d files", len(oldSet), len(newSet))
			}
			// Kill at moments spread over the whole run, the end included.
			var sawOld, sawNew int
			for i := 1; i <= 12; i++ {
				c := export(newIn)
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(took * time.Duration(i) / 11)
				c.Process.Signal(syscall.SIGKILL)
				c.Wait()
				got := exportSet(t, out)
				switch {
				case sameSet(got, oldSet):
					sawOld++
				case sameSet(got, newSet):
					sawNew++
					// Back to the old set for the next try.
					if b, err := export(oldIn).CombinedOutput(); err != nil {
						t.Fatalf("%v\n%s", err, b)
					}
				default:
					var names []string
					for k := range got {
						names = append(names, k)
					}
					sort.Strings(names)
					t.Fatalf("kill %d after %v left a mixed set: %v", i, took*time.Duration(i)/11, names)
				}
			}
			t.Logf("export takes %v; killed 12 times: old set %d, new set %d", took, sawOld, sawNew)
			if b, err := export(newIn).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !sameSet(exportSet(t, out), newSet) {
				t.Error("the export after the kills did not write the new set")
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*"))
			if len(left) > 0 {
				t.Errorf("leftovers of killed exports: %v", left)
			}
		})
	}
}
