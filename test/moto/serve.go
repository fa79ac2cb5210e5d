package moto

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// The scripts under test call `aws` hundreds of times. To spare each call
// the CLI's start-up, the wrapper that Env puts first on PATH (calls.go)
// hands the call to this test process: it runs the test binary itself as a
// small client (see init below), which sends its arguments, environment and
// working directory over a Unix socket that only this user can reach; the
// server runs the command in one of the in-process AWS CLI drivers
// (cli.go), the same code as `aws`, and the client prints the command's
// output and exits with its status. IR_TEST_AWS_CLI=process, in the test's
// environment or in a script's, makes the wrapper run the real `aws`
// instead.

// serveVar carries the socket to the client; set only by the wrapper.
const serveVar = "IR_TEST_AWS_SERVE"

// cliMode is "process" when the test process's environment asks for the
// real AWS CLI everywhere.
var cliMode = os.Getenv("IR_TEST_AWS_CLI")

func init() {
	// The test binary started by the wrapper, as `aws`.
	if socket := os.Getenv(serveVar); socket != "" {
		os.Exit(cliClient(socket, os.Args[1:]))
	}
}

// cliClient sends one AWS CLI command to the server at socket, prints its
// output and returns its exit status.
func cliClient(socket string, args []string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "aws (test/moto client): %v\n", err)
		return 255
	}
	dir, err := os.Getwd()
	if err != nil {
		return fail(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, serveVar+"=") {
			env = append(env, kv)
		}
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(driverRequest{Args: args, Env: env, Dir: dir}); err != nil {
		return fail(err)
	}
	var ans driverAnswer
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&ans); err != nil {
		return fail(fmt.Errorf("no answer from the test process: %w", err))
	}
	os.Stdout.WriteString(ans.Stdout)
	os.Stderr.WriteString(ans.Stderr)
	return ans.Code
}

// serveCLI starts serving AWS CLI commands for this server's scripts on a
// Unix socket in a private directory, and returns the socket's path; ""
// if the commands cannot run in-process here, or the test process asks for
// the real AWS CLI. It stops when the server does.
func (s *Server) serveCLI() string {
	if cliMode == "process" || !clis.usable(s.awsPath) {
		return ""
	}
	// A directory of its own, short enough for a socket's path.
	dir, err := os.MkdirTemp("", "moto-aws-")
	if err != nil {
		return ""
	}
	socket := filepath.Join(dir, "s")
	l, err := net.Listen("unix", socket)
	if err != nil {
		os.RemoveAll(dir)
		return ""
	}
	s.onClose(func() {
		l.Close()
		os.RemoveAll(dir)
	})
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go s.serveOne(conn)
		}
	}()
	return socket
}

// serveOne answers one client.
func (s *Server) serveOne(conn net.Conn) {
	defer conn.Close()
	var req driverRequest
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		return
	}
	s.served.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	var ans driverAnswer
	var err error
	ans.Stdout, ans.Stderr, ans.Code, err = clis.run(ctx, s.awsPath, req.Args, req.Env, req.Dir)
	if err != nil {
		ans = driverAnswer{Code: 255, Stderr: fmt.Sprintf("aws (test/moto): %v\n", err)}
	}
	_ = json.NewEncoder(conn).Encode(ans)
}
