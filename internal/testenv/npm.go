package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	npmMu   sync.Mutex
	npmDirs = map[string]string{}
)

// NPM installs the npm package pkg at version (once per cache) and returns
// the folder holding its node_modules, for a test that runs an official
// client against a stand-in (require(dir + '/node_modules/' + pkg)).
func NPM(t testing.TB, pkg, version string) string {
	t.Helper()
	Integration(t, "npm "+pkg)
	npmMu.Lock()
	defer npmMu.Unlock()
	key := pkg + "@" + version
	if dir, ok := npmDirs[key]; ok {
		return dir
	}
	dir := filepath.Join(CacheDir(), "npm-"+strings.ReplaceAll(strings.TrimPrefix(pkg, "@"), "/", "-")+"-"+version)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			t.Fatalf("npm is needed to install %s: %v", key, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, key)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install %s: %v\n%s", key, err, out)
		}
	}
	npmDirs[key] = dir
	return dir
}

// Node runs a Node.js script with args and returns its stdout; a failing
// script fails the test with its stderr.
func Node(t testing.TB, script string, env []string, args ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "script.cjs")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{f}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, stderr.String(), out)
	}
	return string(out)
}
