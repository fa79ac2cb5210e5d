// Package projectnode makes a program that uses the CDK run jsii on the
// Node.js the project pins, with the project's Node.js options, whoever
// starts it: the app, its tests and the tests of each construct.
package projectnode

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// NodeOptions is what Use adds to NODE_OPTIONS for jsii's Node process:
// before any other module loads, it makes V8 compile WebAssembly with its
// baseline compiler (Liftoff) only.
//
// Every synthesis runs the CDK's built-in CloudFormation validation, 9 MB of
// WebAssembly that each run compiles anew and uses once. By default V8 also
// recompiles its busiest functions with its optimizing compiler, on
// background threads that Node waits for before it exits; for this one-shot
// use that costs more than it saves. A synthesis of the workshop app took
// 7.4 s of CPU (4.6 s wall) with it and 5.9 s (4.0 s) without, with the same
// findings (Node.js 22, 2 cores). V8 accepts the flag only on its command
// line or through its API, and jsii starts Node with neither, so the option
// sets it through the API from a module Node imports first (a data: URL).
const NodeOptions = `--import="data:text/javascript,import v8 from 'node:v8'; v8.setFlagsFromString('--liftoff-only')"`

// Use makes this process run jsii on the Node.js that the project
// installs (root/node_modules/.bin/node, pinned in package.json), with
// NodeOptions.
//
// jsii creates its Node process while Go packages initialize, before main or
// TestMain run, and fixes the Node binary and the environment then. So when
// JSII_NODE is unset and the project's Node exists, or NODE_OPTIONS lacks
// NodeOptions, Use sets them and re-executes the program with the same
// arguments; the second run finds both set and returns at once. Without the
// project's Node (before `make setup`), jsii uses `node` from PATH.
func Use(root string) {
	set := map[string]string{}
	if os.Getenv("JSII_NODE") == "" {
		if node, ok := projectNode(root); ok {
			set["JSII_NODE"] = node
		}
	}
	if options := os.Getenv("NODE_OPTIONS"); !strings.Contains(options, NodeOptions) {
		set["NODE_OPTIONS"] = strings.TrimSpace(options + " " + NodeOptions)
	}
	if len(set) == 0 {
		return
	}
	// Go and C programs read the first entry of a name: drop the old ones.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		_, replaced := set[name]
		return replaced
	})
	for _, name := range slices.Sorted(maps.Keys(set)) {
		env = append(env, name+"="+set[name])
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: could not restart with %v: %v\n", set, err)
		return
	}
	// Nothing has talked to jsii yet: closing only removes the runtime it
	// unpacked for the Node process it has not started.
	jsii.Close()
	err = syscall.Exec(self, os.Args, env)
	fmt.Fprintf(os.Stderr, "warning: could not restart with %v: %v\n", set, err)
}

// projectNode returns the absolute path of root/node_modules/.bin/node if it
// exists.
func projectNode(root string) (string, bool) {
	node, err := filepath.Abs(filepath.Join(root, "node_modules", ".bin", "node"))
	if err != nil {
		return "", false
	}
	if info, err := os.Stat(node); err != nil || info.IsDir() {
		return "", false
	}
	return node, true
}
