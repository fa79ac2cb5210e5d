package playbook

import (
	"sort"
	"strings"
)

// Shown is what a playbook's README shows of one query.
type Shown struct {
	// Query is the sql block with the query's text; nil if the README does
	// not show the query.
	Query *Block
	// Result is the text block right after it; nil if there is none.
	Result *Block
}

// SameSQL compares query texts, ignoring trailing whitespace.
func SameSQL(a, b string) bool {
	norm := func(s string) string {
		lines := strings.Split(strings.TrimRight(s, " \t\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t\r")
		}
		return strings.Join(lines, "\n")
	}
	return norm(a) == norm(b)
}

// Find returns what a README shows of each query, by query name.
func Find(md Markdown, queries []Query) map[string]Shown {
	blocks := md.Blocks
	out := map[string]Shown{}
	for _, q := range queries {
		var s Shown
		for i := range blocks {
			if blocks[i].Lang != "sql" || !SameSQL(blocks[i].Text, q.SQL) {
				continue
			}
			s.Query = &blocks[i]
			if i+1 < len(blocks) && blocks[i+1].Lang == "text" {
				s.Result = &blocks[i+1]
			}
			break
		}
		out[q.Name] = s
	}
	return out
}

// WriteResults rewrites a README so that each query's sql block is
// followed by a text block with its result (results by query name): a
// result block that is there gets the new text, a missing one is added
// after a blank line. It returns the new README and the names of the
// queries the README does not show (nothing is written for those).
func WriteResults(readme string, queries []Query, results map[string]string) (string, []string) {
	shown := Find(ParseMarkdown([]byte(readme)), queries)
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
		block := []string{indent + s.Query.Fence + "text"}
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
	lines := strings.Split(readme, "\n")
	for _, e := range edits {
		lines = append(lines[:e.from], append(e.with, lines[min(e.to, len(lines)):]...)...)
	}
	return strings.Join(lines, "\n"), missing
}
