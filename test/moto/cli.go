package moto

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"
)

// A test's own AWS CLI calls (Server.AWS) are many: deployments, set-up,
// and every check of what a script did. Started as a process each, every
// one costs the CLI's start-up, about half a second of CPU, most of a
// call's cost against the emulator. So when the AWS CLI on PATH is v1 (the
// Python package awscli), Server.AWS hands the command to a few long-lived
// Python processes that run the CLI's own driver (awscli_driver.py): the
// same argument parsing, requests, output and error messages, for about a
// tenth of the CPU. Otherwise, or with IR_TEST_AWS_CLI=process in the test's
// environment, it runs `aws` once per call. The scripts under test reach the
// same drivers through serve.go.

//go:embed awscli_driver.py
var driverSource string

// driverReadyTimeout bounds a driver's start-up (importing awscli).
const driverReadyTimeout = time.Minute

// clis is the pool of drivers that every server of the test binary shares:
// a driver serves any environment.
var clis = newDriverPool(max(2, runtime.GOMAXPROCS(0)+1))

// driverPool holds up to cap(slots) drivers, started when first needed.
type driverPool struct {
	// slots holds an idle driver, or nil for one not started yet.
	slots chan *driver

	once   sync.Once
	python []string // the interpreter command that imports awscli
	err    error    // why drivers are not used, if they are not
}

func newDriverPool(size int) *driverPool {
	p := &driverPool{slots: make(chan *driver, size)}
	for range size {
		p.slots <- nil
	}
	return p
}

// driver is one Python process running awscli_driver.py.
type driver struct {
	cmd     *exec.Cmd
	in      *json.Encoder
	out     *bufio.Reader
	stopped sync.Once
}

type driverRequest struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

type driverAnswer struct {
	Ready  bool   `json:"ready"`
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// errFallBack reports that the pool runs no drivers (wrapped with the
// reason); the caller runs the CLI as a process.
var errFallBack = errors.New("no in-process AWS CLI")

// run runs one AWS CLI command in a driver. It returns an error that wraps
// errFallBack when drivers cannot be used.
func (p *driverPool) run(ctx context.Context, awsPath string, args, env []string, dir string) (stdout, stderr string, code int, err error) {
	if !p.usable(awsPath) {
		return "", "", 0, p.err
	}
	if readsStdin(args) {
		// A driver's standard input carries its requests.
		return "", "", 0, fmt.Errorf("%w: an argument may read standard input", errFallBack)
	}
	var d *driver
	select {
	case d = <-p.slots:
	case <-ctx.Done():
		return "", "", 0, ctx.Err()
	}
	if d == nil {
		if d, err = startDriver(p.python); err != nil {
			p.slots <- nil
			return "", "", 0, err
		}
	}
	ans, err := d.call(ctx, driverRequest{Args: args, Env: env, Dir: dir})
	if err != nil {
		d.stop()
		p.slots <- nil
		return "", "", 0, err
	}
	p.slots <- d
	return ans.Stdout, ans.Stderr, ans.Code, nil
}

// readsStdin reports whether an argument may make the AWS CLI read its
// standard input: "-" (as in aws s3 cp - s3://...), or a file:// or
// fileb:// parameter naming it. The wrapper script (calls.go) matches the
// same patterns.
func readsStdin(args []string) bool {
	for _, a := range args {
		if a == "-" || strings.Contains(a, "/dev/stdin") || strings.Contains(a, "/dev/fd/") || strings.Contains(a, "/proc/self/fd/") {
			return true
		}
	}
	return false
}

// usable reports whether drivers can run the AWS CLI at awsPath; the first
// call finds out.
func (p *driverPool) usable(awsPath string) bool {
	p.once.Do(func() {
		p.python, p.err = driverInterpreter(awsPath)
		if cliMode == "process" {
			p.err = fmt.Errorf("%w: IR_TEST_AWS_CLI=process", errFallBack)
		}
	})
	return p.err == nil
}

// driverInterpreter returns the command of the Python interpreter that runs
// the AWS CLI at awsPath, if it is AWS CLI v1: the interpreter its #! line
// names, else python3 from PATH; an error if that cannot import awscli.
func driverInterpreter(awsPath string) ([]string, error) {
	python := []string{"python3"}
	if b, err := os.ReadFile(awsPath); err == nil {
		first, _, _ := bytes.Cut(b, []byte("\n"))
		if line, ok := bytes.CutPrefix(first, []byte("#!")); ok && bytes.Contains(line, []byte("python")) {
			python = strings.Fields(string(line))
		}
	}
	out, err := exec.Command(python[0], append(python[1:], "-c", "import awscli.clidriver")...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%w: %s cannot import awscli (%v): %s", errFallBack, strings.Join(python, " "), err, bytes.TrimSpace(out))
	}
	return python, nil
}

func startDriver(python []string) (*driver, error) {
	cmd := exec.Command(python[0], append(python[1:], "-c", driverSource)...)
	cmd.Stderr = os.Stderr // a driver reports only its own crash here
	ownProcessGroup(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the in-process AWS CLI: %w", err)
	}
	// The driver ends when its standard input closes, at the latest when
	// this process exits.
	d := &driver{cmd: cmd, in: json.NewEncoder(in), out: bufio.NewReaderSize(out, 1<<20)}
	ctx, cancel := context.WithTimeout(context.Background(), driverReadyTimeout)
	defer cancel()
	if ans, err := d.answer(ctx); err != nil || !ans.Ready {
		d.stop()
		return nil, fmt.Errorf("starting the in-process AWS CLI: %v", err)
	}
	return d, nil
}

func (d *driver) call(ctx context.Context, req driverRequest) (driverAnswer, error) {
	if err := d.in.Encode(req); err != nil {
		return driverAnswer{}, fmt.Errorf("in-process AWS CLI: %w", err)
	}
	return d.answer(ctx)
}

// answer reads the driver's next answer, or gives up when ctx ends.
func (d *driver) answer(ctx context.Context) (driverAnswer, error) {
	type result struct {
		ans driverAnswer
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		line, err := d.out.ReadBytes('\n')
		if err != nil {
			r.err = fmt.Errorf("in-process AWS CLI ended: %w", err)
		} else if err := json.Unmarshal(line, &r.ans); err != nil {
			r.err = fmt.Errorf("in-process AWS CLI answered %q: %w", line, err)
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.ans, r.err
	case <-ctx.Done():
		d.stop()
		return driverAnswer{}, ctx.Err()
	}
}

func (d *driver) stop() {
	d.stopped.Do(func() {
		killProcessGroup(d.cmd)
		_ = d.cmd.Wait()
	})
}
