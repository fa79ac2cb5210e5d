package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cdkCLI runs the project's pinned CDK CLI in the project root, the way a
// user runs `npx cdk`, and returns its combined output and exit code. The
// cloud assembly goes to a folder of the test's, not to the repository's
// cdk.out, whose templates are committed.
func cdkCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(root, "node_modules", ".bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "cdk")); err != nil {
		t.Fatalf("the CDK CLI is not installed: run make setup (%v)", err)
	}
	cmd := exec.Command(filepath.Join(bin, "cdk"), append(args, "--no-notices", "--no-color", "--output", t.TempDir())...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_VERSION_CHECK=true")
	out, err := cmd.CombinedOutput()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running cdk %v: %v", args, err)
	}
	if strings.Contains(string(out), "end-of-life") || strings.Contains(string(out), "not supported anymore") {
		t.Errorf("cdk %v printed a Node.js end-of-life banner:\n%s", args, out)
	}
	return string(out), code
}

// TestCLIListsStacksAndRejectsBadContext runs the real CLI path: cdk.json's
// app command, context from -c, the app's validation and exit code.
func TestCLIListsStacksAndRejectsBadContext(t *testing.T) {
	out, code := cdkCLI(t, "ls")
	if code != 0 || !strings.Contains(out, "WorkshopStack") || !strings.Contains(out, "SimulationStack") {
		t.Fatalf("cdk ls exited %d:\n%s", code, out)
	}
	out, code = cdkCLI(t, "ls", "-c", "simulation=false")
	if code != 0 || !strings.Contains(out, "WorkshopStack") || strings.Contains(out, "SimulationStack") {
		t.Errorf("cdk ls -c simulation=false exited %d:\n%s", code, out)
	}
	out, code = cdkCLI(t, "ls", "-c", "simulation=maybe")
	if code == 0 {
		t.Errorf("cdk ls -c simulation=maybe succeeded:\n%s", out)
	}
	for _, want := range []string{"simulation=maybe", "true or false"} {
		if !strings.Contains(out, want) {
			t.Errorf("cdk ls -c simulation=maybe does not say %q:\n%s", want, out)
		}
	}
}

// TestMakeRejectsUnknownStackName covers the stack name a user types for
// make deploy, diff and destroy.
func TestMakeRejectsUnknownStackName(t *testing.T) {
	cmd := exec.Command("make", "-s", "check-stack", "STACK=WorkshopStak")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() == 0 {
		t.Fatalf("make check-stack STACK=WorkshopStak: %v\n%s", err, out)
	}
	for _, want := range []string{"STACK=WorkshopStak", "WorkshopStack SimulationStack"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message does not say %q:\n%s", want, out)
		}
	}
	for _, good := range []string{"WorkshopStack", "SimulationStack"} {
		cmd := exec.Command("make", "-s", "check-stack", "STACK="+good)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("make check-stack STACK=%s: %v\n%s", good, err, out)
		}
	}
}
