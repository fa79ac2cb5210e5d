package playbooks

import (
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// Playbooks that must exist, in the order playbooks/README.md lists them.
var wantPlaybooks = []string{"credential_exposure", "crypto_mining", "template"}

var (
	rootOnce sync.Once
	rootDir  string
)

// repoRoot is the directory that holds go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := filepath.Abs(".")
		if err != nil {
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	if rootDir == "" {
		t.Fatal("cannot find the repository root (no go.mod above the test)")
	}
	return rootDir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(raw)
}

// rel is path relative to the repository root, for messages.
func rel(t *testing.T, path string) string {
	t.Helper()
	r, err := filepath.Rel(repoRoot(t), path)
	if err != nil {
		return path
	}
	return r
}

// playbookDirs returns the playbooks: playbooks/*/ folders with a README.md
// and a queries/ folder, plus every folder of wantPlaybooks. Other folders
// under playbooks/ (tools that work on the playbooks) are not playbooks.
func playbookDirs(t *testing.T) []string {
	t.Helper()
	root := filepath.Join(repoRoot(t), "playbooks")
	matches, err := filepath.Glob(filepath.Join(root, "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range matches {
		dir := filepath.Dir(m)
		if info, err := os.Stat(filepath.Join(dir, "queries")); err == nil && info.IsDir() {
			seen[dir] = true
		}
	}
	for _, book := range wantPlaybooks {
		seen[filepath.Join(root, book)] = true
	}
	dirs := sortedKeys(seen)
	sort.Strings(dirs)
	return dirs
}

// queryFiles returns playbooks/*/queries/*.sql, sorted.
func queryFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "playbooks", "*", "queries", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func catalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := NewCatalog(logschema.Tables())
	if err != nil {
		t.Fatalf("parsing logschema: %v", err)
	}
	return c
}
