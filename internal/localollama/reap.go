package localollama

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	tempPrefix = "tuneline-ollama-"
	ownerLock  = "owner.lock"
	pgidFile   = "serve.pgid"
)

// watchdog runs as /bin/sh -c watchdog BIN: a background subshell waits for
// EOF on fd 3 (the pipe whose writer is the tuneline process) and then kills
// the process group; the shell itself becomes `BIN serve`, keeping its pid
// and so the group. The subshell ignores SIGTERM so that a graceful Stop,
// which signals the group, lets serve shut its runners down first; Stop then
// closes the pipe and the watchdog's SIGKILL sweeps what is left.
const watchdog = `(trap '' TERM; read _ <&3; kill -9 0) &
exec 3<&-
exec "$0" serve`

// newServeCmd is `bin serve` under the watchdog, in a process group of its
// own, with env added to this process's environment less its OLLAMA_
// variables. lifeline is the pipe's read end (the child's fd 3).
func newServeCmd(bin string, lifeline *os.File, env []string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", watchdog, bin)
	cmd.ExtraFiles = []*os.File{lifeline}
	cmd.Env = append(filterEnv(os.Environ(), "OLLAMA_"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// CleanLeftovers reaps what crashed runs left behind in the temp folder:
// for each tuneline-ollama-* folder whose owner is gone, the server's
// process group (if it still lives) and the folder. Folders of live owners
// are left alone. Start calls it; it is cheap when there is nothing to do.
func CleanLeftovers() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		reap(d, true)
	}
}

// reap kills the server group recorded in dir when dir's owner is dead, and
// removes dir when remove is set. It reports whether the owner was dead.
func reap(dir string, remove bool) bool {
	f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_RDWR, 0)
	if err != nil {
		if !os.IsNotExist(err) {
			return false
		}
		// No lock: a folder of a version before owner locks, or one whose
		// start failed early. Only an old one is taken for abandoned.
		st, err := os.Stat(dir)
		if err != nil || time.Since(st.ModTime()) < time.Minute {
			return false
		}
	} else {
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return false // the owner lives
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, pgidFile)); err == nil {
		if pgid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pgid > 1 && isOurServer(pgid, dir) {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		os.Remove(filepath.Join(dir, pgidFile))
	}
	if remove {
		os.RemoveAll(dir)
	}
	return true
}

// isOurServer tells whether some process of group pgid is an ollama of dir
// (its environment names dir's models folder), so that a recycled pid is
// never killed.
func isOurServer(pgid int, dir string) bool {
	want := []byte("OLLAMA_MODELS=" + filepath.Join(dir, "models") + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		if statField(stat, 2) != strconv.Itoa(pgid) {
			continue
		}
		env, err := os.ReadFile(filepath.Join(p, "environ"))
		if err == nil && bytes.Contains(append(env, 0), want) {
			return true
		}
	}
	return false
}

// statField is field i after the command name of a /proc/PID/stat line
// (0 state, 1 ppid, 2 pgrp, ...): the name may hold spaces, so fields count
// from the last ')'.
func statField(stat []byte, i int) string {
	j := bytes.LastIndexByte(stat, ')')
	if j < 0 {
		return ""
	}
	fields := strings.Fields(string(stat[j+1:]))
	if i >= len(fields) {
		return ""
	}
	return fields[i]
}

func isZombie(stat []byte) bool { return statField(stat, 0) == "Z" }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
