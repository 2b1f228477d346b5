package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

var (
	chromeOnce sync.Once
	chromePath string
	chromeErr  error
)

// Chromium returns a headless-capable Chromium, installing Debian's
// package with apt-get when none is found.
func Chromium() (string, error) {
	chromeOnce.Do(func() {
		for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(c); err == nil {
				chromePath = p
				return
			}
		}
		args := []string{"apt-get", "install", "-y", "--no-install-recommends", "chromium"}
		if os.Geteuid() != 0 {
			args = append([]string{"sudo", "-n"}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			upd := append(append([]string{}, args[:len(args)-4]...), "apt-get", "update")
			exec.Command(upd[0], upd[1:]...).Run()
			out, err = exec.Command(args[0], args[1:]...).CombinedOutput()
		}
		if err != nil {
			chromeErr = fmt.Errorf("install chromium: %v\n%s", err, out)
			return
		}
		chromePath, chromeErr = exec.LookPath("chromium")
	})
	return chromePath, chromeErr
}

// DumpDOM loads a local HTML file in headless Chromium, runs its scripts
// and returns the resulting DOM.
func DumpDOM(path string) (string, error) {
	bin, err := Chromium()
	if err != nil {
		return "", err
	}
	abs, _ := filepath.Abs(path)
	profile, err := os.MkdirTemp("", "tuneline-chromium-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(profile)
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile,
		"--virtual-time-budget=5000", "--dump-dom", "file://"+abs)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("chromium --dump-dom: %w", err)
	}
	return string(out), nil
}
