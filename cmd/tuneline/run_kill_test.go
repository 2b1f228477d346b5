package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/testenv"
)

// kill -9 of `tuneline run` while its own Ollama generates: within 5 s no
// process of that Ollama (serve or runner) is left, and the next run on the
// workspace starts cleanly.
func TestRunKilledLeavesNoOllama(t *testing.T) {
	testenv.Integration(t, "tuneline's own Ollama")
	testenv.LockMachine(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/physics-expert")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "build"))
	ws := filepath.Join(dir, "tuneline.yaml")
	b, _ := os.ReadFile(ws)
	os.WriteFile(ws, []byte(strings.Replace(string(b), "local: auto", "local: always", 1)), 0o644)

	cmd := subCLI("run", dir)
	cmd.Env = append(cmd.Env, "OLLAMA_HOST=127.0.0.1:9") // nothing answers there
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	models := "OLLAMA_MODELS=" + filepath.Join(dir, "build", "ollama", "models")
	runner := func() bool {
		for _, p := range testenv.ProcsWithEnv(models) {
			if strings.Contains(p.Cmdline, " runner") {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(15 * time.Minute) // may include building ollama
	for !runner() {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no ollama runner of the run appeared:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // into generation: the runner has loaded the model
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	killed := time.Now()
	for {
		left := testenv.ProcsWithEnv(models)
		if len(left) == 0 {
			t.Logf("no ollama process left %.1f s after kill -9", time.Since(killed).Seconds())
			break
		}
		if time.Since(killed) > 5*time.Second {
			for _, p := range left {
				syscall.Kill(atoiPid(p.Pid), syscall.SIGKILL)
			}
			t.Fatalf("5 s after kill -9 these ollama processes live: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func atoiPid(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// A second tuneline run on a workspace that another holds exits non-zero at
// once, naming the holder.
func TestRunRefusesBusyWorkspace(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/physics-expert")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	f, err := os.OpenFile(filepath.Join(dir, "build", ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.WriteString("tuneline (pid 4242, tuneline run) since 2026-12-02T05:00:00Z\n")
	start := time.Now()
	code, _, errOut := run(t, "run", dir)
	if code == 0 || !strings.Contains(errOut, "in use by tuneline (pid 4242") || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d after %v: %s", code, time.Since(start), errOut)
	}
}

// SIGTERM ends a stuck command within a second (here an ingest blocked on
// a standard input that never ends, where no cancellation is seen), and a
// second signal at once.
func TestSIGTERMEndsStuckIngest(t *testing.T) {
	for _, second := range []bool{false, true} {
		cmd := subCLI("-q", "ingest", "-")
		ready := filepath.Join(t.TempDir(), "ready")
		cmd.Env = append(cmd.Env, "TUNELINE_TEST_SIGNALS_READY="+ready)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				break
			}
		}
		time.Sleep(300 * time.Millisecond) // into the ingest, blocked on its input
		start := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		if second {
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGTERM)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("still running 5 s after SIGTERM: %s", stderr.String())
		}
		took := time.Since(start)
		limit := 1500 * time.Millisecond
		if second {
			limit = 500 * time.Millisecond
		}
		if took > limit || cmd.ProcessState.ExitCode() != ExitInterrupted {
			t.Errorf("second signal %v: exit %d after %v (want %d within %v): %s", second, cmd.ProcessState.ExitCode(), took, ExitInterrupted, limit, stderr.String())
		}
	}
}
