// Package playbook reads the playbooks under playbooks/: their Athena
// query files, and their README.md as markdown (fenced code blocks,
// headings, links). It is the one reader of those files: the workshop's
// Athena named queries, the offline rehearsal and the playbook tests all
// use it. It imports neither the CDK nor DuckDB.
//
// A playbook is a folder playbooks/NAME/ with a README.md. Its queries are
// playbooks/NAME/queries/NN_step_name.sql; each starts with "--" comment
// lines, the query's description. The hunting queries (playbooks/hunting)
// have the same layout and are read the same way, as a playbook: only the
// playbook checks tell them apart, as a set of queries that does not follow
// the incident skeleton.
//
// The README shows each query in a fenced sql block with the file's exact
// text and, right after it, before the next sql block, a fenced text block
// with the query's result over the rehearsal's sample incident, as
// `go run ./playbooks/rehearse PLAYBOOK` prints it (an aligned table and a
// row count). `go run ./playbooks/rehearse -w PLAYBOOK` writes or refreshes
// those blocks (WriteResults); the rehearsal's tests compare them (Find).
package playbook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Dir is where the playbooks are, relative to the repository root.
const Dir = "playbooks"

// Query is one query file of a playbook.
type Query struct {
	Playbook string // credential_exposure
	Name     string // 01_leaked_key_activity
	Path     string // the file, under the root given to Queries
	SQL      string // the file's content, unchanged
}

// File is the query's path relative to its playbook: queries/NAME.sql.
func (q Query) File() string { return "queries/" + q.Name + ".sql" }

// Description is the text of the "--" comment lines the query file starts
// with, joined by spaces.
func (q Query) Description() string {
	var parts []string
	for _, line := range strings.Split(q.SQL, "\n") {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
		if !ok {
			break
		}
		if text = strings.TrimSpace(text); text != "" {
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, " ")
}

var (
	playbookName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	queryName    = regexp.MustCompile(`^[0-9]{2}_[a-z0-9]+(_[a-z0-9]+)*\.sql$`)
)

// Root is the repository: the nearest directory at or above the working
// directory that holds go.mod and playbooks/.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		_, errMod := os.Stat(filepath.Join(dir, "go.mod"))
		_, errDir := os.Stat(filepath.Join(dir, Dir))
		if errMod == nil && errDir == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it from the repository (no go.mod with a playbooks folder above the working directory)")
		}
		dir = parent
	}
}

// List returns the names of the playbooks under root: the folders of
// root/playbooks that hold a README.md, sorted.
func List(root string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(root, Dir)); err != nil {
		return nil, fmt.Errorf("listing playbooks: %w", err)
	}
	readmes, err := filepath.Glob(filepath.Join(root, Dir, "*", "README.md"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range readmes {
		out = append(out, filepath.Base(filepath.Dir(r)))
	}
	return out, nil
}

// Queries returns the query files of the named playbooks, or of every
// playbook when no name is given, sorted by playbook and file. A file whose
// name breaks the convention (NN_step_name.sql, in a folder named with
// lower-case letters, digits, '_' and '-') or that is empty is an error
// that names it: the names become Athena's query names and CloudFormation
// logical IDs.
func Queries(root string, names ...string) ([]Query, error) {
	if len(names) == 0 {
		var err error
		if names, err = List(root); err != nil {
			return nil, err
		}
	}
	var out []Query
	for _, book := range names {
		files, err := filepath.Glob(filepath.Join(root, Dir, book, "queries", "*.sql"))
		if err != nil {
			return nil, err
		}
		for _, f := range files { // Glob sorts
			if !playbookName.MatchString(book) || !queryName.MatchString(filepath.Base(f)) {
				return nil, fmt.Errorf("query %s: name playbook folders with lower-case letters, digits, '_' and '-', and query files NN_step_name.sql", f)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading query %s: %w", f, err)
			}
			if strings.TrimSpace(string(raw)) == "" {
				return nil, fmt.Errorf("query %s is empty", f)
			}
			out = append(out, Query{Playbook: book, Name: strings.TrimSuffix(filepath.Base(f), ".sql"), Path: f, SQL: string(raw)})
		}
	}
	return out, nil
}

// StraySQL returns the .sql files under root/playbooks that are no
// playbook's query (Queries would not find them), skipping testdata
// folders.
func StraySQL(root string) ([]string, error) {
	queries, err := Queries(root)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, q := range queries {
		known[q.Path] = true
	}
	var out []string
	err = filepath.WalkDir(filepath.Join(root, Dir), func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "testdata":
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(p, ".sql") && !known[p]:
			out = append(out, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return out, err
}
