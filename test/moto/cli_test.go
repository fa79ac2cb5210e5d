package moto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAWSCLIRunsInProcessAsItWouldAsAProcess pins down what cli.go and
// serve.go promise: a command run in-process answers as the AWS CLI run as
// a process does (output, exit status, error message), for the test's own
// calls and for a script's; a script's calls are counted, and
// IR_TEST_AWS_CLI=process in its environment runs the real `aws`.
func TestAWSCLIRunsInProcessAsItWouldAsAProcess(t *testing.T) {
	s := Start(t, Options{})
	env := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-does-not-check-this-key")
	if !clis.usable(s.awsPath) {
		t.Skipf("no in-process AWS CLI here (%v): every call runs aws as a process", clis.err)
	}
	s.MustAWS(t, env, "iam", "create-user", "--user-name", "someone")
	s.MustAWS(t, env, "s3api", "create-bucket", "--bucket", "piped")

	commands := map[string][]string{
		"Succeeds":        {"iam", "get-user", "--user-name", "someone", "--query", "User.UserName"},
		"FailsInAWS":      {"iam", "get-user", "--user-name", "nobody"},
		"FailsToParse":    {"iam", "get-user", "--no-such-option"},
		"WritesTextTable": {"iam", "list-users", "--output", "text", "--query", "Users[].UserName"},
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			args := append(args[:len(args):len(args)], "--output", "json")
			wantOut, wantErr, wantCode, err := s.execAWS(ctx, env, args)
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code, err := clis.run(ctx, s.awsPath, args, env, s.dir)
			if err != nil {
				t.Fatal(err)
			}
			if out != wantOut || code != wantCode || errOut != wantErr {
				t.Errorf("in-process: exit %d\nstdout %q\nstderr %q\nas a process: exit %d\nstdout %q\nstderr %q",
					code, out, errOut, wantCode, wantOut, wantErr)
			}
		})
	}

	// One driver serving commands in a row answers each as a process of its
	// own would, whatever the commands before it asked for: another service,
	// region, endpoint, credentials or output format. (s3 presign resolves
	// its URL with no request made; its signed query, which holds the time,
	// is left out of the comparison.) Each command costs an AWS CLI process,
	// so there are few.
	t.Run("CommandsInARowKeepTheirOwnSettings", func(t *testing.T) {
		var noEndpoint []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
				noEndpoint = append(noEndpoint, kv)
			}
		}
		other := s.Env("AKIAI44QH8DHBEXAMPLE", "another-key-moto-does-not-check")
		p := newDriverPool(1)
		if !p.usable(s.awsPath) {
			t.Fatal(p.err)
		}
		t.Cleanup(func() {
			if d := <-p.slots; d != nil {
				d.stop()
			}
		})
		commands := []struct {
			env  []string
			args []string
		}{
			{env, []string{"iam", "get-user", "--user-name", "someone", "--output", "text"}},
			{noEndpoint, []string{"s3", "presign", "s3://piped/object", "--region", "eu-west-1"}},
			{other, []string{"sts", "get-caller-identity", "--region", "ap-southeast-2", "--output", "table"}},
		}
		ctx := context.Background()
		unsigned := func(out string) string { before, _, _ := strings.Cut(out, "?"); return before }
		for i, c := range commands {
			wantOut, wantErr, wantCode, err := s.execAWS(ctx, c.env, c.args)
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code, err := p.run(ctx, s.awsPath, c.args, c.env, s.dir)
			if err != nil {
				t.Fatal(err)
			}
			if unsigned(out) != unsigned(wantOut) || code != wantCode || errOut != wantErr {
				t.Errorf("command %d, aws %s:\nin-process: exit %d\nstdout %q\nstderr %q\nas a process: exit %d\nstdout %q\nstderr %q",
					i+1, strings.Join(c.args, " "), code, out, errOut, wantCode, wantOut, wantErr)
			}
		}
	})

	t.Run("ScriptCallsAreServedAndCounted", func(t *testing.T) {
		script := `aws iam get-user --user-name someone --query User.UserName --output text
aws iam get-user --user-name nobody || echo "exit $?"
IR_TEST_AWS_CLI=process aws iam get-user --user-name someone --query User.UserName --output text
printf 'from standard input\n' | aws s3 cp - s3://piped/object
aws s3 cp s3://piped/object -
`
		var counted []string
		served := s.served.Load()
		// A subtest of its own, so that its count is logged and read here.
		t.Run("Script", func(t *testing.T) {
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = CountScriptCalls(t, env)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if got, want := stdout.String(), "someone\nexit 255\nsomeone\nfrom standard input\n"; got != want {
				t.Errorf("stdout %q, want %q\nstderr: %s", got, want, stderr.String())
			}
			if !strings.Contains(stderr.String(), "NoSuchEntity") {
				t.Errorf("stderr lacks the error of the failed call: %q", stderr.String())
			}
			counted = append(counted, fmt.Sprint(tallyOf(t).scripts()))
		})
		if want := []string{"5"}; fmt.Sprint(counted) != fmt.Sprint(want) {
			t.Errorf("counted %v calls, want %v", counted, want)
		}
		if got := s.served.Load() - served; got != 2 {
			t.Errorf("%d calls were served in-process, want 2 (the third asked for the real aws, the last two name standard input or output, -)", got)
		}
	})
}

func TestCallsLineReadsBack(t *testing.T) {
	scripts, own, ok := ParseCalls("    server.go:1: " + fmt.Sprintf(CallsFormat, 36, 7))
	if !ok || scripts != 36 || own != 7 {
		t.Errorf("ParseCalls: %d, %d, %t; want 36, 7, true", scripts, own, ok)
	}
	if _, _, ok := ParseCalls("aws cli calls: many"); ok {
		t.Error("ParseCalls read a line that is not in CallsFormat")
	}
}

// A driver that cannot start leaves the caller to run aws as a process.
func TestDriverPoolFallsBackWithoutAwscli(t *testing.T) {
	dir := t.TempDir()
	fake := dir + "/aws"
	if err := os.WriteFile(fake, []byte("#!/usr/bin/env python-without-awscli\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := newDriverPool(1)
	_, _, _, err := p.run(context.Background(), fake, []string{"sts", "get-caller-identity"}, nil, dir)
	if !errors.Is(err, errFallBack) {
		t.Errorf("error %v, want one that wraps errFallBack", err)
	}
}

// A driver's standard input carries its requests, so a command that may
// read standard input must not run in one.
func TestCommandsThatMayReadStandardInputRunAsProcesses(t *testing.T) {
	for args, want := range map[string]bool{
		"s3 cp - s3://bucket/key":                                      true,
		"iam create-policy --policy-document file:///dev/stdin":        true,
		"ec2 run-instances --user-data fileb:///dev/fd/0":              true,
		"iam get-user --cli-input-json file:///proc/self/fd/0":         true,
		"s3 cp s3://bucket/key /tmp/copy":                              false,
		"ec2 run-instances --user-data file://crypto-mining-user-data": false,
	} {
		if got := readsStdin(strings.Fields(args)); got != want {
			t.Errorf("readsStdin(%s) = %t, want %t", args, got, want)
		}
	}
	p := newDriverPool(1)
	p.once.Do(func() {}) // usable, without a driver to start
	if _, _, _, err := p.run(context.Background(), "aws", []string{"s3", "cp", "-", "s3://bucket/key"}, nil, t.TempDir()); !errors.Is(err, errFallBack) {
		t.Errorf("a command reading standard input: error %v, want one that wraps errFallBack", err)
	}
}
