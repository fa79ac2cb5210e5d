package workshop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// UseProjectNode points jsii at the Node.js that the project installs
// (node_modules/.bin/node under root, pinned in package.json) unless JSII_NODE
// is already set. jsii starts Node on its first call, so call this before
// any CDK call. Without the project's Node, jsii uses `node` from PATH.
func UseProjectNode(root string) {
	if os.Getenv("JSII_NODE") != "" {
		return
	}
	node, err := filepath.Abs(filepath.Join(root, "node_modules", ".bin", "node"))
	if err != nil {
		return
	}
	if info, err := os.Stat(node); err == nil && !info.IsDir() {
		os.Setenv("JSII_NODE", node)
	}
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
