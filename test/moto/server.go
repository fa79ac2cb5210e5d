// Package moto runs a local moto_server (https://github.com/getmoto/moto) for
// tests that need AWS APIs to answer, drives it with the AWS CLI (and, for
// reads that only gather facts to check, the AWS SDK for Go: sdk.go), and
// deploys the project's CloudFormation templates into it.
//
// Everything here talks only to 127.0.0.1: the server listens on a loopback
// port, and the environments that Env builds point the AWS CLI at that port
// (AWS_ENDPOINT_URL, which AWS CLI v1 with botocore 1.31 or later and v2
// honour for every service), with configuration files in a temporary
// directory instead of ~/.aws; SDKConfig points the SDK at the same port.
//
// It needs moto_server (pip install 'moto[server]') and the AWS CLI on PATH.
package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// Region is the region that Env configures.
	Region = "us-east-1"

	startTimeout = 30 * time.Second
	awsTimeout   = 2 * time.Minute
	// logTail bounds how much of the server log a failed test prints.
	logTail = 64 << 10
)

// Options configures a server.
type Options struct {
	// NoAuthActionCount, when positive, makes moto authenticate and authorize
	// every request after the first NoAuthActionCount ones: signatures must
	// come from access keys that moto's IAM issued, and the caller's IAM
	// policies must allow the action. AdminEnv uses AdminSetupCalls of them.
	NoAuthActionCount int
	// Record makes moto record every request (MOTO_ENABLE_RECORDING) into
	// Server.RecordingFile.
	Record bool
}

// Server is a running moto_server, stopped when the test that started it ends.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT.
	URL string
	// RecordingFile is where moto writes its recording when Options.Record is
	// set.
	RecordingFile string

	tb      testing.TB // the test that started the server; nil for a shared one
	dir     string
	awsPath string
	logPath string
	envs    atomic.Int64

	closeMu sync.Mutex
	closers []func() // what close runs, last first, for a shared server

	wrapOnce sync.Once
	wrapDir  string       // the AWS CLI wrapper's directory (calls.go)
	served   atomic.Int64 // scripts' calls run in-process (serve.go)

	admin struct {
		once        sync.Once
		key, secret string
		err         error
	}
	accounts accounts // account.go
}

// errPortTaken reports that the server could not bind the port picked for it.
var errPortTaken = errors.New("port already in use")

// Start starts moto_server on a free loopback port and waits until it
// answers. The server is killed when the test ends; its output is printed only
// if the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is not on PATH (%v); install moto with its server extra: pip install 'moto[server]'", err)
	}
	s, err := start(t, bin, t.TempDir(), opts)
	if err != nil {
		t.Fatalf("starting moto_server: %v", err)
	}
	return s
}

// start launches the server for the test t, or shared when t is nil.
func start(t testing.TB, bin, dir string, opts Options) (*Server, error) {
	// Another process can take the free port between our probe and moto's
	// bind; try a few ports before giving up.
	for attempt := 1; ; attempt++ {
		s, err := launch(t, bin, dir, opts)
		if err == nil {
			return s, nil
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		return nil, err
	}
}

// onClose runs f when the test that started the server ends, or, for a
// shared server, when it is closed.
func (s *Server) onClose(f func()) {
	if s.tb != nil {
		s.tb.Cleanup(f)
		return
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.closers = append(s.closers, f)
}

// close runs what onClose registered for a shared server, last first.
func (s *Server) close() {
	s.closeMu.Lock()
	closers := s.closers
	s.closers = nil
	s.closeMu.Unlock()
	for _, f := range slices.Backward(closers) {
		f()
	}
}

// errorf fails the test that started the server, or reports on standard
// error for a shared one.
func (s *Server) errorf(format string, args ...any) {
	if s.tb != nil {
		s.tb.Errorf(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, "moto: "+format+"\n", args...)
}

func launch(t testing.TB, bin, dir string, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	awsPath, _ := exec.LookPath("aws") // AWS reports it missing
	logPath := filepath.Join(dir, fmt.Sprintf("moto_server-%d.log", port))
	s := &Server{
		URL:           "http://127.0.0.1:" + strconv.Itoa(port),
		awsPath:       awsPath,
		RecordingFile: filepath.Join(dir, "moto_recording"),
		tb:            t,
		dir:           dir,
		logPath:       logPath,
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = dir // moto writes files (its recording) into its working directory
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = os.Environ()
	if opts.NoAuthActionCount > 0 {
		cmd.Env = append(cmd.Env, "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(opts.NoAuthActionCount))
	}
	if opts.Record {
		cmd.Env = append(cmd.Env, "MOTO_ENABLE_RECORDING=True", "MOTO_RECORDER_FILEPATH="+s.RecordingFile)
	}
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		killProcessGroup(cmd)
		<-exited
	}
	s.onClose(func() {
		stop()
		if t != nil && t.Failed() {
			t.Logf("moto_server log (%s):\n%s", s.URL, readTail(logPath, logTail))
		}
	})

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			stopped = true
			out := readTail(logPath, logTail)
			if strings.Contains(out, "Address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("moto_server exited before answering (%v):\n%s", err, out)
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("moto_server did not answer on %s within %s:\n%s", s.URL, startTimeout, readTail(logPath, logTail))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readTail returns the last max bytes of the file at path.
func readTail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	if len(b) > max {
		return "[...]\n" + string(b[len(b)-max:])
	}
	return string(b)
}

// Env returns an environment for the AWS CLI that reaches only this server,
// signing with the given access key. Each call gets its own empty AWS CLI
// config and credentials files in a temporary directory, so profiles that a
// test writes stay in that environment and never touch ~/.aws. First on its
// PATH is a wrapper around the AWS CLI that counts the calls of a script run
// with CountScriptCalls and runs them in-process where it can (calls.go,
// serve.go).
func (s *Server) Env(accessKeyID, secretKey string) []string {
	dir := filepath.Join(s.dir, fmt.Sprintf("aws-%d", s.envs.Add(1)))
	if err := os.Mkdir(dir, 0o700); err != nil {
		// Errorf, not Fatalf: Env may run on a subtest's goroutine.
		s.errorf("creating the AWS CLI config directory: %v", err)
	}
	path := os.Getenv("PATH")
	if wrap := s.cliPath(); wrap != "" {
		path = wrap + string(os.PathListSeparator) + path
	}
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + accessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_REGION=" + Region,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"PATH=" + path,
		// The real HOME, so that an AWS CLI installed with pip --user still
		// finds its modules; the two files above keep it out of ~/.aws.
		"HOME=" + os.Getenv("HOME"),
	}
}

// Getenv returns the value of key in env, the last one if it is set twice.
func Getenv(env []string, key string) string {
	value := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			value = v
		}
	}
	return value
}

// WithEnv returns a copy of env in which each "KEY=VALUE" of set replaces any
// earlier value of KEY; a bare "KEY" removes it.
func WithEnv(env []string, set ...string) []string {
	out := make([]string, 0, len(env)+len(set))
	drop := map[string]bool{}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	for _, kv := range set {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		}
	}
	return out
}

// AWS runs the AWS CLI with env and --output json, and returns its standard
// output. The error carries the CLI's standard error. env must point at this
// server (see Env). The command runs in-process where it can (see cli.go)
// and counts as one of t's own calls (calls.go).
func (s *Server) AWS(t testing.TB, env []string, args ...string) (string, error) {
	t.Helper()
	if got := Getenv(env, "AWS_ENDPOINT_URL"); got != s.URL {
		t.Fatalf("refusing to run the AWS CLI with AWS_ENDPOINT_URL=%q: the environment must point at the emulator %s (use Server.Env)", got, s.URL)
	}
	if s.awsPath == "" {
		t.Fatal("the AWS CLI (aws) is not on PATH; install it (pip install awscli, or AWS CLI v2)")
	}
	tallyOf(t).own.Add(1)
	stdout, stderr, err := s.run(env, args, func(err error) {
		fallBackNoted.Do(func() { t.Logf("%v: running aws once per call", err) })
	})
	if err != nil {
		// Name the operation, not every argument: arguments can be long
		// policy documents.
		return stdout, fmt.Errorf("aws %s: %w: %s", operation(args), err, strings.TrimSpace(stderr))
	}
	return stdout, nil
}

// run runs the AWS CLI with env and --output json, in-process where it can,
// calling fellBack with the reason when it cannot. A non-zero exit status
// is an error.
func (s *Server) run(env, args []string, fellBack func(error)) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	args = append(args[:len(args):len(args)], "--output", "json")
	stdout, stderr, code, err := clis.run(ctx, s.awsPath, args, env, s.dir)
	if errors.Is(err, errFallBack) {
		fellBack(err)
		stdout, stderr, code, err = s.execAWS(ctx, env, args)
	}
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	return stdout, stderr, err
}

// fallBackNoted makes the test log once why the AWS CLI runs as a process.
var fallBackNoted sync.Once

// execAWS runs the AWS CLI as a process of its own.
func (s *Server) execAWS(ctx context.Context, env, args []string) (stdout, stderr string, code int, err error) {
	cmd := exec.CommandContext(ctx, s.awsPath, args...)
	cmd.Env = env
	cmd.Dir = s.dir
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		code, err = exit.ExitCode(), nil
	}
	return out.String(), errOut.String(), code, err
}

// operation returns the service and operation named in args.
func operation(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
		if len(words) == 2 {
			break
		}
	}
	return strings.Join(words, " ")
}

// MustAWS is AWS that fails the test, with the CLI's error output, when the
// command fails.
func (s *Server) MustAWS(t testing.TB, env []string, args ...string) string {
	t.Helper()
	out, err := s.AWS(t, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// MustAWSJSON is MustAWS that decodes the command's JSON output into v.
func (s *Server) MustAWSJSON(t testing.TB, env []string, v any, args ...string) {
	t.Helper()
	out := s.MustAWS(t, env, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decoding the output of aws %s: %v\n%s", operation(args), err, out)
	}
}

// AdminSetupCalls is how many AWS calls AdminEnv makes before its access key
// exists. Start the server with Options{NoAuthActionCount: AdminSetupCalls}
// to have every call after AdminEnv authenticated and authorized.
const AdminSetupCalls = 3

// AdminEnv returns an Env signed with an access key of the server's
// administrator, an IAM user allowed every action, which the first call
// creates. On a server started with NoAuthActionCount: AdminSetupCalls, make
// that first call before any other.
func (s *Server) AdminEnv(t testing.TB) []string {
	t.Helper()
	s.admin.once.Do(func() {
		// Before authentication starts any key signs; moto's own default
		// account key says what it is.
		setup := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-unauthenticated-setup")
		s.admin.key, s.admin.secret, s.admin.err = makeAdministrator(func(args ...string) (string, error) {
			return s.AWS(t, setup, args...)
		})
	})
	if s.admin.err != nil {
		t.Fatal(s.admin.err)
	}
	return s.Env(s.admin.key, s.admin.secret)
}

// adminUser is the IAM user that makeAdministrator creates.
const adminUser = "moto-test-admin"

// makeAdministrator creates, through call (the AWS CLI, signed by whoever
// may), an IAM user allowed every action and an access key of it, in
// AdminSetupCalls calls, and returns the key.
func makeAdministrator(call func(args ...string) (string, error)) (keyID, secret string, err error) {
	if _, err := call("iam", "create-user", "--user-name", adminUser); err != nil {
		return "", "", err
	}
	if _, err := call("iam", "put-user-policy", "--user-name", adminUser, "--policy-name", "AllowEverything",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`); err != nil {
		return "", "", err
	}
	out, err := call("iam", "create-access-key", "--user-name", adminUser)
	if err != nil {
		return "", "", err
	}
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(out), &key); err != nil {
		return "", "", fmt.Errorf("decoding the administrator's access key: %w", err)
	}
	return key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, nil
}
