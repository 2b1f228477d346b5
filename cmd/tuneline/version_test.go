package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	rev := "8f11ca24a3b5c0ffee0000000000000000000000"
	for _, tt := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.0", nil, "v1.2.0"},
		{"v0.0.0-20261202043601-8f11ca24a3b5", vcs("vcs.revision", rev), "v0.0.0-20261202043601-8f11ca24a3b5"},
		{"(devel)", vcs("vcs.revision", rev, "vcs.time", "2026-12-02T04:36:01Z", "vcs.modified", "false"), "devel 8f11ca24a3b5 2026-12-02T04:36:01Z"},
		{"(devel)", vcs("vcs.revision", rev, "vcs.time", "2026-12-02T04:36:01Z", "vcs.modified", "true"), "devel 8f11ca24a3b5 2026-12-02T04:36:01Z dirty"},
		{"v0.0.0-20261202043601-8f11ca24a3b5+dirty", vcs("vcs.revision", rev, "vcs.modified", "true"), "devel 8f11ca24a3b5 dirty"},
		{"(devel)", nil, "devel"},
		{"", nil, "devel"},
	} {
		if got := buildVersion(tt.main, tt.settings); got != tt.want {
			t.Errorf("buildVersion(%q, %v) = %q, want %q", tt.main, tt.settings, got, tt.want)
		}
	}
}

// A binary built from this checkout names its commit.
func TestVersionNamesCommit(t *testing.T) {
	testenv.Integration(t, "the go toolchain and git")
	if st, err := os.Stat(filepath.Join(testenv.Root(), ".git")); err != nil || !st.IsDir() {
		// cmd/go stamps VCS information only where .git is a folder: not
		// in a git worktree (where it is a file) nor in an export.
		t.Skip("not a plain git clone (.git is not a folder): go build stamps no VCS information here")
	}
	head, err := exec.Command("git", "-C", testenv.Root(), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tuneline")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(head))[:12]; !strings.Contains(string(out), want) {
		t.Errorf("--version says %q, want the commit %s", out, want)
	}
	_ = os.Remove(bin)
}
