package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// Proc is a live process.
type Proc struct {
	Pid     string
	Cmdline string
}

// ProcsWithEnv lists the live processes whose environment holds the
// variable assignment kv exactly (for example OLLAMA_MODELS=/tmp/x/models).
func ProcsWithEnv(kv string) []Proc {
	want := []byte(kv + "\x00")
	var out []Proc
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(append(env, 0), want) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join(d, "stat")); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i >= 0 && bytes.HasPrefix(bytes.TrimSpace(st[i+1:]), []byte("Z")) {
				continue // a zombie has ended; only its parent has not reaped it
			}
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, Proc{Pid: filepath.Base(d), Cmdline: strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	return out
}
