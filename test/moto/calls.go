package moto

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// AWS CLI calls are what a test's time mostly depends on. Each test that
// calls the AWS CLI logs, when it ends, a line in CallsFormat: how many
// calls the scripts it ran made (counted by the wrapper that Env puts first
// on PATH, for the environments that CountScriptCalls marks), and how many
// the test itself made through Server.AWS. `make bench` collects these
// lines from `go test -json`.

// CallsFormat is the line a test logs; CallsPattern reads it back.
const CallsFormat = "aws cli calls: %d by scripts, %d by the test"

// CallsPattern matches a CallsFormat line: the scripts' count, the test's.
var CallsPattern = regexp.MustCompile(`aws cli calls: (\d+) by scripts, (\d+) by the test`)

// callsVar names the file that the wrapper appends one line a call to.
const callsVar = "IR_TEST_AWS_CALLS"

// cliScript is the aws that Env puts first on PATH: it counts the call,
// then runs it in-process through the server (serve.go), or runs the real
// AWS CLI when the test process or the caller's environment has
// IR_TEST_AWS_CLI=process, when there is no in-process AWS CLI, or when an
// argument may read standard input (readsStdin's patterns), which only the
// real CLI, started by the caller, can read.
const cliScript = `#!/usr/bin/env bash
# The AWS CLI as the scripts under test see it: see test/moto/calls.go.
if [[ -n "${IR_TEST_AWS_CALLS:-}" ]]; then
  printf '%%s %%s\n' "${1:-}" "${2:-}" >>"$IR_TEST_AWS_CALLS"
fi
for arg in "$@"; do
  case "$arg" in
    -|*/dev/stdin*|*/dev/fd/*|*/proc/self/fd/*) exec %[1]q "$@" ;;
  esac
done
if [[ -n %[2]q && "${IR_TEST_AWS_CLI:-}" != process ]]; then
  IR_TEST_AWS_SERVE=%[2]q exec %[3]q "$@"
fi
exec %[1]q "$@"
`

// tally counts one test's calls.
type tally struct {
	file string       // the scripts' calls, one line each
	own  atomic.Int64 // the test's own calls
}

// tallies maps each test that called the AWS CLI to its tally.
var tallies sync.Map // testing.TB → *tally

// tallyOf returns t's tally, making it (and the log line at t's end) on
// first use.
func tallyOf(t testing.TB) *tally {
	if v, ok := tallies.Load(t); ok {
		return v.(*tally)
	}
	// TempDir before Cleanup: cleanups run last first, so the count is
	// read before the directory goes.
	fresh := &tally{file: filepath.Join(t.TempDir(), "aws-calls")}
	v, loaded := tallies.LoadOrStore(t, fresh)
	if !loaded {
		t.Cleanup(func() {
			t.Logf(CallsFormat, fresh.scripts(), fresh.own.Load())
			tallies.Delete(t)
		})
	}
	return v.(*tally)
}

func (tl *tally) scripts() int {
	b, err := os.ReadFile(tl.file)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// CountScriptCalls returns env marked so that the AWS CLI processes started
// with it (by a script, through the wrapper on Env's PATH) count as t's.
func CountScriptCalls(t testing.TB, env []string) []string {
	t.Helper()
	return WithEnv(env, callsVar+"="+tallyOf(t).file)
}

// cliPath writes the wrapper around the AWS CLI into the server's
// directory, once, and returns its directory; "" if there is no AWS CLI to
// wrap.
func (s *Server) cliPath() string {
	s.wrapOnce.Do(func() {
		if s.awsPath == "" {
			return
		}
		socket, self := s.serveCLI(), ""
		if socket != "" {
			var err error
			if self, err = os.Executable(); err != nil {
				socket = ""
			}
		}
		dir := filepath.Join(s.dir, "bin")
		script := fmt.Sprintf(cliScript, s.awsPath, socket, self)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.errorf("writing the AWS CLI wrapper: %v", err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(script), 0o755); err != nil {
			s.errorf("writing the AWS CLI wrapper: %v", err)
			return
		}
		s.wrapDir = dir
	})
	return s.wrapDir
}

// ParseCalls reads a CallsFormat line: the scripts' and the test's counts.
func ParseCalls(line string) (scripts, own int, ok bool) {
	m := CallsPattern.FindStringSubmatch(line)
	if m == nil {
		return 0, 0, false
	}
	scripts, _ = strconv.Atoi(m[1])
	own, _ = strconv.Atoi(m[2])
	return scripts, own, true
}
