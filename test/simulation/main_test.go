// Package simulation runs the threat simulations, their undo scripts and the
// response helpers in scripts/ against a local moto_server into which the
// committed templates (cdk.out/*.yaml) are deployed. It checks what each
// simulation creates, that undo leaves nothing of it behind (also after an
// interrupted run) and touches nothing else, how the scripts refuse bad
// input, and what the response helpers change. Everything talks only to
// 127.0.0.1.
//
// # Writing a test here
//
// One moto_server serves the whole package (emulator below); moto checks
// every key and IAM policy, and records every request. Each top-level test
// works in an AWS account of its own on it, so tests run side by side and
// never see each other's resources; nothing is reset between them. The
// pattern:
//
//	func TestSomethingTheScriptsDo(t *testing.T) {
//		t.Parallel()
//		w := newWorkshop(t) // a new account: both stacks, profiles, bystanders
//		res := runScript(t, "", w.env, "simulate-….sh", …)
//		… check with w.s.AWS(t, w.env, …) …
//		w.expectUndone(t, runID) // for each run the test undid
//		requireRunsUndone(t, w)
//		requireBystandersUntouched(t, w)
//	}
//
// newWorkshop costs a few seconds of CPU (two stack deployments, the
// profiles, the bystanders, an inventory), so cases that can share an
// account do: subtests with t.Parallel() whose runs have IDs of their own,
// checked by one inventory at the end (see inventory_test.go). Cases that
// need the account unchanged while they run, as the bad-input cases do,
// need it to themselves: a phase of their own (as in
// TestScriptsAgainstTheEmulatedWorkshop) or an account of their own. A case
// that needs moto without credential checks (GuardDuty) starts a server of
// its own. Names that are global in AWS (S3 buckets) are global on the
// emulator too: put the account ID or the run ID in them.
//
// The tests mostly wait for other processes (moto_server, the in-process
// AWS CLI, the scripts), so TestMain runs 4 x GOMAXPROCS of them at once
// unless -parallel says otherwise; with IR_TEST_AWS_CLI=process, where
// every call is half a second of CPU, go test's default (GOMAXPROCS).
//
// The AWS CLI, the test's own calls and the scripts' alike, runs in a few
// long-lived processes (test/moto, cli.go and serve.go): a call costs tens
// of milliseconds instead of half a second. IR_TEST_AWS_CLI=process runs the
// real aws for every call. Each test logs how many calls it made; `make
// bench-test PKGS=./test/simulation` lists them.
package simulation

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// emulator is the package's moto_server: it checks credentials and IAM
// policies (after making its administrator) and records every request.
var emulator = moto.NewShared(moto.Options{NoAuthActionCount: moto.AdminSetupCalls, Record: true})

func TestMain(m *testing.M) {
	// moto 5 has no AWS managed policies (AdministratorAccess, which the
	// credential exposure simulation attaches) unless asked to load them;
	// moto passes this process's environment to moto_server.
	if err := os.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flag.Parse()
	if os.Getenv("IR_TEST_AWS_CLI") != "process" {
		parallelByDefault(4 * runtime.GOMAXPROCS(0))
	}
	code := m.Run()
	emulator.Close()
	os.Exit(code)
}

// parallelByDefault sets go test's -parallel to n unless the command line
// sets it. go test's default, GOMAXPROCS, suits tests that keep a core
// busy; these mostly wait for other processes (moto_server, the AWS CLI,
// the scripts), so more of them at once keep the cores busy.
func parallelByDefault(n int) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
