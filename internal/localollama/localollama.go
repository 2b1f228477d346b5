// Package localollama runs a private Ollama server: it finds an ollama
// binary or installs a known version with the Go toolchain into a cache
// folder, starts `ollama serve` on a free loopback port with its own models
// folder, builds a tiny random-weight llama model that loads in a fraction
// of a second, and tears everything down. Tests use it to talk to a real
// server; `tuneline run` uses it when no Ollama is configured.
package localollama

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tuneline/tuneline/internal/cachedir"
	"github.com/tuneline/tuneline/internal/envconfig"
	"github.com/tuneline/tuneline/llm"
)

// Version is the ollama release installed when none is found: the newest
// that builds from the Go module proxy (later ones miss vendored headers in
// their module zip).
const Version = "v0.6.5"

// CacheDir is where tuneline keeps installed tools (see cachedir.Dir).
func CacheDir() string { return cachedir.Dir() }

// Binary returns an ollama executable: $TUNELINE_OLLAMA, the cached
// install, or a fresh `go install github.com/ollama/ollama@Version` into the
// cache (once: a few minutes, depending on the cores free; concurrent
// callers wait on a lock).
// log receives the install's progress (may be nil).
func Binary(ctx context.Context, log io.Writer) (string, error) {
	bin, ok := InstalledBinary()
	if ok {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExec(bin) { // installed while we waited
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no ollama binary and no Go toolchain to build one: install ollama or Go (%w)", err)
	}
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "installing ollama %s with go install (once, a few minutes: it compiles Ollama and its C++ runner, 2-3 min on an idle 2-core machine, longer when the machine is busy) into %s\n", Version, dir)
	llm.SetPhase(ctx, "building Ollama "+Version+" with go install (once; minutes, more on a busy machine)")
	defer llm.SetPhase(ctx, "")
	cmd := exec.CommandContext(ctx, goBin, "install", "github.com/ollama/ollama@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go install github.com/ollama/ollama@%s: %v\n%s", Version, err, tail(out, 2000))
	}
	if !isExec(bin) {
		return "", fmt.Errorf("go install finished but %s is missing", bin)
	}
	return bin, nil
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Options configure Start.
type Options struct {
	// Dir holds the server's models, home and log (default: a new temp dir,
	// removed by Stop).
	Dir string
	// NumParallel is OLLAMA_NUM_PARALLEL (default 4).
	NumParallel int
	// Debug turns on OLLAMA_DEBUG (the log then records prompts).
	Debug bool
	// Log receives install progress.
	Log io.Writer
	// Env is more of the server's environment (KEY=value), such as
	// OLLAMA_NEW_ENGINE=1.
	Env []string
}

// Server is a running private ollama.
type Server struct {
	URL     string // http://127.0.0.1:PORT
	Dir     string
	LogPath string
	Bin     string

	cmd      *exec.Cmd
	ownDir   bool
	owner    *os.File // the held owner lock
	lifeline *os.File // the watchdog's pipe; closed when this process ends
	done     chan struct{}
	stopped  sync.Once
	exitErr  error
}

// Start runs `ollama serve` on a free loopback port and waits until it
// answers.
func Start(ctx context.Context, opt Options) (*Server, error) {
	bin, err := Binary(ctx, opt.Log)
	if err != nil {
		return nil, err
	}
	CleanLeftovers()
	s := &Server{Bin: bin, Dir: opt.Dir, done: make(chan struct{})}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", tempPrefix); err != nil {
			return nil, err
		}
		s.ownDir = true
	} else {
		reap(s.Dir, false) // an earlier crashed run's server on this folder
	}
	for _, d := range []string{"models", "home"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	// The owner lock is held while this process lives: a later start that
	// can take it knows the owner died and reaps what it left.
	if s.owner, err = os.OpenFile(filepath.Join(s.Dir, ownerLock), os.O_CREATE|os.O_RDWR, 0o644); err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(s.owner.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		s.owner.Close()
		return nil, fmt.Errorf("another tuneline runs an Ollama on %s: %w", s.Dir, err)
	}
	port, err := freePort()
	if err != nil {
		s.release()
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	s.URL = "http://" + host
	s.LogPath = filepath.Join(s.Dir, "server.log")
	logf, err := os.Create(s.LogPath)
	if err != nil {
		s.release()
		return nil, err
	}
	np := opt.NumParallel
	if np <= 0 {
		np = 4
	}
	// A watchdog shares the server's process group and waits on a pipe
	// whose only writer is this process: when this process ends for any
	// reason (SIGKILL, a test timeout, a panic, os.Exit) the pipe closes and
	// the watchdog kills the whole group, the runners that ollama serve
	// started included. Pdeathsig alone reaches only ollama serve.
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		s.release()
		return nil, err
	}
	s.lifeline = pw
	env := []string{"OLLAMA_HOST=" + host, "OLLAMA_MODELS=" + filepath.Join(s.Dir, "models"),
		"HOME=" + filepath.Join(s.Dir, "home"), fmt.Sprintf("OLLAMA_NUM_PARALLEL=%d", np), "OLLAMA_KEEP_ALIVE=1h",
		"OLLAMA_MAX_LOADED_MODELS=4", "OLLAMA_NOPRUNE=1"}
	if opt.Debug {
		env = append(env, "OLLAMA_DEBUG=1")
	}
	env = append(env, opt.Env...)
	s.cmd = newServeCmd(bin, pr, env)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		pr.Close()
		s.release()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	pr.Close()
	os.WriteFile(filepath.Join(s.Dir, pgidFile), []byte(strconv.Itoa(s.cmd.Process.Pid)), 0o644)
	go func() {
		s.exitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("ollama serve did not answer on %s within 60 s; log: %s", s.URL, s.logTail())
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("ollama serve exited: %v; log: %s", s.exitErr, s.logTail())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.URL + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.LogPath)
	return tail(b, 3000)
}

// Stop ends the server (its whole process group) and removes its folder
// when Start created it.
func (s *Server) Stop() error {
	s.stopped.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
			// Runners that outlived a graceful serve exit.
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		}
		os.Remove(filepath.Join(s.Dir, pgidFile))
		s.release()
		if s.ownDir {
			os.RemoveAll(s.Dir)
		}
	})
	return nil
}

func (s *Server) release() {
	if s.lifeline != nil {
		s.lifeline.Close()
	}
	if s.owner != nil {
		s.owner.Close() // releases the flock
	}
}

// Exited tells whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func filterEnv(env []string, prefix string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// CreateFromModelfile runs `ollama create NAME -f MODELFILE` against the
// server.
func (s *Server) CreateFromModelfile(ctx context.Context, name, modelfile string) error {
	cmd := exec.CommandContext(ctx, s.Bin, "create", name, "-f", modelfile)
	cmd.Env = append(filterEnv(os.Environ(), "OLLAMA_"), "OLLAMA_HOST="+strings.TrimPrefix(s.URL, "http://"), "HOME="+filepath.Join(s.Dir, "home"))
	cmd.Dir = filepath.Dir(modelfile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ollama create %s: %v\n%s", name, err, tail(out, 2000))
	}
	return nil
}

// InstalledBinary is the ollama Binary would use without installing
// anything ($TUNELINE_OLLAMA, or the cached install), and whether there is
// one.
func InstalledBinary() (string, bool) {
	if p := envconfig.Get("TUNELINE_OLLAMA"); p != "" {
		return p, true
	}
	bin := filepath.Join(CacheDir(), "ollama-"+Version, "ollama")
	return bin, isExec(bin)
}
