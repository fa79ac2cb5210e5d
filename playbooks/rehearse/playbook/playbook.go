// Package playbook finds the playbooks' Athena queries and the results
// their markdown shows for them, and compares those with real results.
//
// The convention, which the rehearsal tests enforce: a playbook's
// README.md shows each query of playbooks/PLAYBOOK/queries/ in a fenced sql
// block with the file's exact text, and right after it, before the next sql
// block, a fenced text block with the query's result over the sample
// incident, as `go run ./playbooks/rehearse PLAYBOOK` prints it (an aligned
// table and a row count). `go run ./playbooks/rehearse -w PLAYBOOK` writes
// or refreshes those blocks.
package playbook

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Query is one query file of a playbook.
type Query struct {
	Playbook string // credential_exposure
	Name     string // 01_leaked_key_activity
	Path     string // the file, under the root given to Queries
	SQL      string
}

// File is the query's path relative to its playbook: queries/NAME.sql.
func (q Query) File() string { return "queries/" + q.Name + ".sql" }

// Dir is where the playbooks are, relative to the repository root.
const Dir = "playbooks"

// excluded are folders under playbooks/ that are not playbooks.
var excluded = map[string]bool{"rehearse": true}

// List returns the playbooks under root/playbooks: the folders that have a
// queries/ folder with at least one .sql file, sorted.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, Dir))
	if err != nil {
		return nil, fmt.Errorf("listing playbooks: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || excluded[e.Name()] {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, Dir, e.Name(), "queries", "*.sql"))
		if len(files) > 0 {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Queries returns the query files of a playbook, sorted by name.
func Queries(root, playbook string) ([]Query, error) {
	files, err := filepath.Glob(filepath.Join(root, Dir, playbook, "queries", "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Query
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		out = append(out, Query{Playbook: playbook, Name: strings.TrimSuffix(filepath.Base(f), ".sql"), Path: f, SQL: string(raw)})
	}
	return out, nil
}

// AllSQLFiles returns every .sql file under root/playbooks except the
// rehearsal's own, sorted.
func AllSQLFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(root, Dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != filepath.Join(root, Dir) && excluded[d.Name()] && filepath.Dir(p) == filepath.Join(root, Dir) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".sql") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Block is a fenced code block of a markdown file.
type Block struct {
	Info       string // the info string's first word: sql, text
	Text       string // the content, without the fences, ending in a newline if not empty
	Open       int    // index of the opening fence line
	Close      int    // index of the closing fence line
	Indent     string // the opening fence's indentation
	Fence      string // ``` or ~~~, as long as in the file
	FirstWords string // the whole info string
}

var fence = regexp.MustCompile("^([ \t]*)(```+|~~~+)[ \t]*(.*)$")

// Blocks returns the fenced code blocks of markdown text, split in lines.
func Blocks(lines []string) []Block {
	var out []Block
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := Block{Open: i, Indent: m[1], Fence: m[2], FirstWords: strings.TrimSpace(m[3])}
		b.Info = strings.ToLower(strings.Fields(b.FirstWords + " x")[0])
		if b.FirstWords == "" {
			b.Info = ""
		}
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if strings.HasPrefix(t, b.Fence) && strings.Trim(t, b.Fence[:1]) == "" {
				break
			}
			body = append(body, strings.TrimPrefix(lines[j], b.Indent))
		}
		b.Close = j
		if len(body) > 0 {
			b.Text = strings.Join(body, "\n") + "\n"
		}
		out = append(out, b)
		i = j
	}
	return out
}

// Shown is what a playbook's README shows of one query.
type Shown struct {
	// Query is the sql block with the query's text; nil if the README does
	// not show the query.
	Query *Block
	// Result is the text block right after it; nil if there is none.
	Result *Block
}

// sameSQL compares query texts, ignoring trailing whitespace.
func sameSQL(a, b string) bool {
	norm := func(s string) string {
		lines := strings.Split(strings.TrimRight(s, " \t\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t\r")
		}
		return strings.Join(lines, "\n")
	}
	return norm(a) == norm(b)
}

// Find returns what the README lines show of each query, by query name.
func Find(lines []string, queries []Query) map[string]Shown {
	blocks := Blocks(lines)
	out := map[string]Shown{}
	for _, q := range queries {
		var s Shown
		for i := range blocks {
			if blocks[i].Info != "sql" || !sameSQL(blocks[i].Text, q.SQL) {
				continue
			}
			s.Query = &blocks[i]
			if i+1 < len(blocks) && blocks[i+1].Info == "text" {
				s.Result = &blocks[i+1]
			}
			break
		}
		out[q.Name] = s
	}
	return out
}

// WriteResults rewrites README lines so that each query's sql block is
// followed by a text block with its result (results by query name): a
// result block that is there gets the new text, a missing one is added
// after a blank line. It returns the new lines and the names of the
// queries the README does not show (nothing is written for those).
func WriteResults(lines []string, queries []Query, results map[string]string) ([]string, []string) {
	shown := Find(lines, queries)
	type edit struct {
		from, to int // replace lines[from:to]
		with     []string
	}
	var edits []edit
	var missing []string
	for _, q := range queries {
		s := shown[q.Name]
		res, ok := results[q.Name]
		if !ok {
			continue
		}
		if s.Query == nil {
			missing = append(missing, q.Name)
			continue
		}
		indent := s.Query.Indent
		var block []string
		block = append(block, indent+s.Query.Fence+"text")
		for _, l := range strings.Split(strings.TrimRight(res, "\n"), "\n") {
			if l == "" {
				block = append(block, "")
			} else {
				block = append(block, indent+l)
			}
		}
		block = append(block, indent+s.Query.Fence)
		if s.Result != nil {
			edits = append(edits, edit{s.Result.Open, s.Result.Close + 1, block})
		} else {
			edits = append(edits, edit{s.Query.Close + 1, s.Query.Close + 1, append([]string{""}, block...)})
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	out := append([]string(nil), lines...)
	for _, e := range edits {
		out = append(out[:e.from], append(append([]string(nil), e.with...), out[e.to:]...)...)
	}
	return out, missing
}
