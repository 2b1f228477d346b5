package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// HFHubJSVersion is the @huggingface/hub release the Hub stand-in is
// checked against.
const HFHubJSVersion = "2.17.5"

var (
	hfjsOnce sync.Once
	hfjsDir  string
	hfjsErr  error
)

// HFHubJS installs the official Hugging Face Hub client for JavaScript
// (@huggingface/hub, through npm, once per cache) and returns the folder
// holding its node_modules: tests run it against the Hub stand-in.
func HFHubJS(t testing.TB) string {
	t.Helper()
	Integration(t, "@huggingface/hub through npm")
	hfjsOnce.Do(func() {
		dir := filepath.Join(CacheDir(), "hfhub-js-"+HFHubJSVersion)
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@huggingface", "hub", "package.json")); err == nil {
			hfjsDir = dir
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			hfjsErr = fmt.Errorf("npm is needed to install @huggingface/hub: %w", err)
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			hfjsErr = err
			return
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@huggingface/hub@"+HFHubJSVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			hfjsErr = fmt.Errorf("npm install @huggingface/hub: %v\n%s", err, out)
			return
		}
		hfjsDir = dir
	})
	if hfjsErr != nil {
		t.Fatal(hfjsErr)
	}
	return hfjsDir
}
