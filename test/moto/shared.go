package moto

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Shared is one moto_server for all the tests of a package, each in an
// account of its own (Server.NewAccount): starting a server costs a second
// or two of CPU, and loading a service's backend more. The first test that
// asks for it starts it; TestMain stops it after the tests:
//
//	var emulator = moto.NewShared(moto.Options{NoAuthActionCount: moto.AdminSetupCalls})
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		emulator.Close()
//		os.Exit(code)
//	}
type Shared struct {
	opts Options
	once sync.Once
	s    *Server
	err  error
}

// NewShared describes a shared server; nothing starts yet. A server that
// checks credentials needs NoAuthActionCount: AdminSetupCalls: it makes its
// administrator (AdminEnv) as soon as it starts.
func NewShared(opts Options) *Shared {
	return &Shared{opts: opts}
}

// Server returns the shared server, started on first use. If t fails, it
// prints the tail of the server's log, which holds every test's requests.
func (sh *Shared) Server(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() { sh.s, sh.err = startShared(sh.opts) })
	if sh.err != nil {
		t.Fatalf("starting the shared moto_server: %v", sh.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("moto_server log (%s, shared by the package's tests):\n%s", sh.s.URL, readTail(sh.s.logPath, logTail))
		}
	})
	return sh.s
}

// Close stops the server, if it started, and removes its files.
func (sh *Shared) Close() {
	if sh.s != nil {
		sh.s.close()
	}
}

func startShared(opts Options) (*Server, error) {
	if opts.NoAuthActionCount != 0 && opts.NoAuthActionCount != AdminSetupCalls {
		return nil, fmt.Errorf("a shared server that checks credentials needs NoAuthActionCount %d, not %d", AdminSetupCalls, opts.NoAuthActionCount)
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not on PATH (%v); install moto with its server extra: pip install 'moto[server]'", err)
	}
	dir, err := os.MkdirTemp("", "moto-shared-")
	if err != nil {
		return nil, err
	}
	s, err := start(nil, bin, dir, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.closers = append([]func(){func() { os.RemoveAll(dir) }}, s.closers...)
	if opts.NoAuthActionCount > 0 {
		// The administrator's calls are the unauthenticated ones, before
		// any test's.
		s.admin.once.Do(func() {
			setup := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-unauthenticated-setup")
			s.admin.key, s.admin.secret, s.admin.err = makeAdministrator(func(args ...string) (string, error) {
				out, stderr, err := s.run(setup, args, func(error) {})
				if err != nil {
					err = fmt.Errorf("aws %s: %w: %s", operation(args), err, stderr)
				}
				return out, err
			})
		})
		if s.admin.err != nil {
			s.close()
			return nil, errors.Join(errors.New("making the server's administrator"), s.admin.err)
		}
	}
	return s, nil
}
