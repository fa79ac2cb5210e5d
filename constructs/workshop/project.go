package workshop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ir-workshop/incident-response-playbooks/internal/projectnode"
)

// UseProjectNode makes this process run jsii on the Node.js that the project
// installs (root/node_modules/.bin/node, pinned in package.json); see
// projectnode.Use.
func UseProjectNode(root string) {
	projectnode.Use(root)
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
