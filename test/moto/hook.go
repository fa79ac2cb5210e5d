package moto

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hook stands in for the AWS CLI of a script under test: a wrapper named aws,
// first on the PATH that Env returns, which passes every call on to the real
// CLI and records its arguments. For one operation ("ec2 run-instances") it
// can also hold the call back until the test lets it go (PauseBefore), send
// SIGINT to the caller's process group once the real call has returned, as
// Ctrl-C in a terminal does (InterruptAfter), or send that call and every
// later one to an endpoint where nothing listens (UnreachableFrom).
//
// InterruptAfter reaches the process group of the wrapper, so the script
// must run in a process group of its own (OwnProcessGroup), or the signal
// reaches the test too.
type Hook struct {
	dir string
}

// UnreachableURL is a loopback port where nothing listens: connections are
// refused at once.
const UnreachableURL = "http://127.0.0.1:1"

// UnreachableEnv is what WithEnv sets to send every AWS CLI call of a
// command to UnreachableURL, tried once.
func UnreachableEnv() []string {
	return []string{"AWS_ENDPOINT_URL=" + UnreachableURL, "AWS_MAX_ATTEMPTS=1"}
}

// hookScript is the wrapper. Its settings are files in its directory, named
// by IR_TEST_AWS_HOOK, so that one Hook serves one script run and its
// settings cannot leak into another's.
const hookScript = `#!/usr/bin/env bash
# The AWS CLI as a test sees it: see test/moto/hook.go.
hook="${IR_TEST_AWS_HOOK:?}"
real=%q
op="${1:-} ${2:-}"
{ printf '%%s ' "$@"; printf '\n'; } >>"$hook/calls"
setting() { [[ -e "$hook/$1" && "$(<"$hook/$1")" == "$op" ]]; }
if setting pause-before && [[ ! -e "$hook/paused" ]]; then
  : >"$hook/paused"
  printf '%%s\n' "$op" >"$hook/arrived"
  read -r _ <"$hook/resume"
fi
if setting unreachable-from; then
  : >"$hook/unreachable"
fi
if [[ -e "$hook/unreachable" ]]; then
  export AWS_ENDPOINT_URL=%q AWS_MAX_ATTEMPTS=1
fi
"$real" "$@"
status=$?
if setting interrupt-after; then
  rm -f "$hook/interrupt-after"
  kill -INT 0
fi
exit "$status"
`

// NewHook writes the wrapper around the AWS CLI found on the PATH of env.
func NewHook(t testing.TB, env []string) *Hook {
	t.Helper()
	real, err := lookPath("aws", Getenv(env, "PATH"))
	if err != nil {
		t.Fatal(err)
	}
	h := &Hook{dir: t.TempDir()}
	script := fmt.Sprintf(hookScript, real, UnreachableURL)
	if err := os.WriteFile(filepath.Join(h.dir, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// lookPath finds an executable on a PATH list.
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not on PATH %q", name, path)
}

// Env returns env with the wrapper first on PATH.
func (h *Hook) Env(env []string) []string {
	return WithEnv(env, "PATH="+h.dir+string(os.PathListSeparator)+Getenv(env, "PATH"), "IR_TEST_AWS_HOOK="+h.dir)
}

func (h *Hook) set(t testing.TB, name, operation string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, name), []byte(operation), 0o600); err != nil {
		t.Fatal(err)
	}
}

// InterruptAfter makes the first call of operation ("ec2 run-instances")
// send SIGINT to its process group once the real call has returned.
func (h *Hook) InterruptAfter(t testing.TB, operation string) {
	t.Helper()
	h.set(t, "interrupt-after", operation)
}

// UnreachableFrom sends the first call of operation, and every call after
// it, to an endpoint where nothing listens, with no retries, as when the
// network goes away in the middle of a run.
func (h *Hook) UnreachableFrom(t testing.TB, operation string) {
	t.Helper()
	h.set(t, "unreachable-from", operation)
}

// PauseBefore makes the first call of operation wait, before it is made,
// until Resume. WaitPaused returns once it waits.
func (h *Hook) PauseBefore(t testing.TB, operation string) {
	t.Helper()
	for _, fifo := range []string{"arrived", "resume"} {
		if err := mkfifo(filepath.Join(h.dir, fifo)); err != nil {
			t.Fatalf("PauseBefore needs named pipes: %v", err)
		}
	}
	h.set(t, "pause-before", operation)
}

// WaitPaused returns nil when the paused call has arrived; an error if ended
// is closed first (the script ended without reaching the call) or after
// timeout.
func (h *Hook) WaitPaused(timeout time.Duration, ended <-chan struct{}) error {
	arrived := make(chan error, 1)
	go func() {
		// Opening a named pipe for reading waits for its writer.
		b, err := os.ReadFile(filepath.Join(h.dir, "arrived"))
		if err == nil && len(b) == 0 {
			err = fmt.Errorf("the wrapper closed %s without a word", filepath.Join(h.dir, "arrived"))
		}
		arrived <- err
	}()
	select {
	case err := <-arrived:
		return err
	case <-ended:
		return errors.New("the script ended before the paused call")
	case <-time.After(timeout):
		return fmt.Errorf("no call paused within %s", timeout)
	}
}

// Resume lets the paused call go on.
func (h *Hook) Resume(t testing.TB) {
	t.Helper()
	// Opening a named pipe for writing waits for its reader, the wrapper.
	if err := os.WriteFile(filepath.Join(h.dir, "resume"), []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Calls returns the arguments of every call made through the wrapper so
// far, one line a call, words separated by spaces.
func (h *Hook) Calls(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(h.dir, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		calls = append(calls, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

// OwnProcessGroup puts cmd in a process group of its own, and makes its
// context's cancellation kill that whole group: the AWS CLI calls it started
// too.
func OwnProcessGroup(cmd *exec.Cmd) {
	ownProcessGroup(cmd)
	cmd.Cancel = func() error {
		killProcessGroup(cmd)
		return nil
	}
}
