package projectnode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// root is the project root as seen from this package's folder.
const root = "../.."

// childEnv, when set, makes the test binary a program that calls Use and
// prints, at each start, the entries of its environment that Use sets.
const childEnv = "PROJECTNODE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		fmt.Printf("start %q\n", slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return !strings.HasPrefix(kv, "JSII_NODE=") && !strings.HasPrefix(kv, "NODE_OPTIONS=")
		}))
		Use(root)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startsOf runs the test binary as a program that calls Use, with env added
// to this process's environment less JSII_NODE and NODE_OPTIONS, and
// returns what it printed at each start.
func startsOf(t *testing.T, env ...string) []string {
	t.Helper()
	// A restart that does not take makes Use restart forever.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "JSII_NODE=") || strings.HasPrefix(kv, "NODE_OPTIONS=")
	})
	cmd.Env = append(cmd.Env, append(env, childEnv+"=1")...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%v did not end within a minute: does Use restart forever? %d starts", cmd, strings.Count(string(out), "start "))
	}
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestUseRestartsOnceOnTheProjectsNodeWithItsOptions(t *testing.T) {
	node, err := filepath.Abs(filepath.Join(root, "node_modules", ".bin", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(node); err != nil {
		t.Fatalf("the project's Node.js is not installed (make setup): %v", err)
	}
	const own = "--max-old-space-size=3000"
	cases := []struct {
		name string
		env  []string
		want []string // what each start prints
	}{{
		name: "NothingSet",
		want: []string{
			`start []`,
			fmt.Sprintf("start %q", []string{"JSII_NODE=" + node, "NODE_OPTIONS=" + NodeOptions}),
		},
	}, {
		name: "OwnNodeOptionsKept",
		env:  []string{"JSII_NODE=/some/node", "NODE_OPTIONS=" + own},
		want: []string{
			fmt.Sprintf("start %q", []string{"JSII_NODE=/some/node", "NODE_OPTIONS=" + own}),
			fmt.Sprintf("start %q", []string{"JSII_NODE=/some/node", "NODE_OPTIONS=" + own + " " + NodeOptions}),
		},
	}, {
		name: "BothSetNoRestart",
		env:  []string{"JSII_NODE=/some/node", "NODE_OPTIONS=" + NodeOptions},
		want: []string{
			fmt.Sprintf("start %q", []string{"JSII_NODE=/some/node", "NODE_OPTIONS=" + NodeOptions}),
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := startsOf(t, c.env...); !slices.Equal(got, c.want) {
				t.Errorf("starts:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
		})
	}
}

// TestNodeAcceptsTheOptions runs the project's Node.js with NodeOptions: a
// quoting mistake makes Node fail before it runs anything.
func TestNodeAcceptsTheOptions(t *testing.T) {
	node := filepath.Join(root, "node_modules", ".bin", "node")
	cmd := exec.Command(node, "-e", "console.log('ran')")
	cmd.Env = append(os.Environ(), "NODE_OPTIONS="+NodeOptions)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ran" {
		t.Fatalf("node with NODE_OPTIONS=%s: %v\n%s", NodeOptions, err, out)
	}
}
