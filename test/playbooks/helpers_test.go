package playbooks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// Playbooks that must exist, in the order playbooks/README.md lists them.
var wantPlaybooks = []string{"credential_exposure", "crypto_mining", "s3_exfiltration", "s3_ransomware", "template"}

// querySets are the folders that playbook.List finds besides the playbooks:
// queries with a README that shows them, without the incident skeleton.
var querySets = []string{"hunting"}

// repoRoot is the repository (playbook.Root).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := playbook.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
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

// playbookDirs returns the folders that playbook.List finds: the playbooks
// and the query sets.
func playbookDirs(t *testing.T) []string {
	t.Helper()
	books, err := playbook.List(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, b := range books {
		dirs = append(dirs, filepath.Join(repoRoot(t), playbook.Dir, b))
	}
	return dirs
}

// readme parses a playbook's README.md.
func readme(t *testing.T, dir string) playbook.Markdown {
	t.Helper()
	return playbook.ParseMarkdown([]byte(readFile(t, filepath.Join(dir, "README.md"))))
}

// queries returns every playbook's queries (playbook.Queries).
func queries(t *testing.T) []playbook.Query {
	t.Helper()
	qs, err := playbook.Queries(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatal("no playbooks/*/queries/*.sql")
	}
	return qs
}
