// Package projectnode makes a program that uses the CDK run jsii on the
// Node.js the project pins, whoever starts it: the app, its tests and the
// tests of each construct.
package projectnode

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// Use makes this process run jsii on the Node.js that the project
// installs (root/node_modules/.bin/node, pinned in package.json).
//
// jsii creates its Node process while Go packages initialize, before main or
// TestMain run, and fixes the Node binary and the environment then. So when
// JSII_NODE is unset and the project's Node exists, Use sets
// JSII_NODE and re-executes the program with the same arguments; the second
// run finds JSII_NODE set and returns at once. make and the CDK CLI (through
// npx) already provide the right Node, so only a bare `go test` or `go run`
// pays for the re-execution. Without the project's Node (before `make
// setup`), jsii uses `node` from PATH.
func Use(root string) {
	if os.Getenv("JSII_NODE") != "" {
		return
	}
	node, err := filepath.Abs(filepath.Join(root, "node_modules", ".bin", "node"))
	if err != nil {
		return
	}
	if info, err := os.Stat(node); err != nil || info.IsDir() {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	// Nothing has talked to jsii yet: closing only removes the runtime it
	// unpacked for the Node process it has not started.
	jsii.Close()
	env := append(os.Environ(), "JSII_NODE="+node)
	err = syscall.Exec(self, os.Args, env)
	fmt.Fprintf(os.Stderr, "warning: could not restart on %s, using node from PATH: %v\n", node, err)
}
