package workshop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// UseProjectNode makes this process run jsii on the Node.js that the project
// installs (root/node_modules/.bin/node, pinned in package.json).
//
// jsii creates its Node process while Go packages initialize, before main or
// TestMain run, and fixes the Node binary and the environment then. So when
// JSII_NODE is unset and the project's Node exists, UseProjectNode sets
// JSII_NODE and re-executes the program with the same arguments; the second
// run finds JSII_NODE set and returns at once. make and the CDK CLI (through
// npx) already provide the right Node, so only a bare `go test` or `go run`
// pays for the re-execution. Without the project's Node (before `make
// setup`), jsii uses `node` from PATH.
func UseProjectNode(root string) {
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

// ProjectContext reads the "context" object of root/cdk.json: the feature
// flags the CDK CLI passes to the app. Code that builds the app without the
// CLI (tests, benchmarks) passes it to NewApp so it synthesizes what
// `cdk synth` does.
func ProjectContext(root string) (map[string]any, error) {
	path := filepath.Join(root, "cdk.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return cdkJSON.Context, nil
}
