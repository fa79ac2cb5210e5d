package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// problem is what is wrong with one query of a playbook.
type problem struct {
	query string // the query file, relative to the repository
	msg   string
}

// checkPlaybook runs each query of a playbook over the sample incident and
// compares its result with the one the playbook's README.md shows (see
// package playbook for the convention). It returns one problem per query
// that fails, does not bind, reads a table without a date_partition
// predicate, is not shown, or shows another result.
func checkPlaybook(ctx context.Context, s *session, root, name string) ([]problem, error) {
	queries, err := playbook.Queries(root, name)
	if err != nil {
		return nil, err
	}
	readme := filepath.ToSlash(filepath.Join(playbook.Dir, name, "README.md"))
	raw, err := os.ReadFile(filepath.Join(root, readme))
	if err != nil {
		return nil, fmt.Errorf("playbook %s has queries but no README.md that shows them: %w", name, err)
	}
	shown := playbook.Find(playbook.ParseMarkdown(raw), queries)
	refresh := "go run ./playbooks/rehearse -w " + name
	var out []problem
	for _, q := range queries {
		file := filepath.ToSlash(filepath.Join(playbook.Dir, name, q.File()))
		res, err := s.run(ctx, q)
		if err != nil {
			out = append(out, problem{file, err.Error()})
			continue
		}
		real := res.Table()
		sh := shown[q.Name]
		switch {
		case sh.Query == nil:
			out = append(out, problem{file, fmt.Sprintf(
				"%s does not show %s in a ```sql block with the file's exact text; show it, followed by its result over the sample incident in a ```text block:\n%s",
				readme, q.File(), real)})
		case sh.Result == nil:
			out = append(out, problem{file, fmt.Sprintf(
				"%s shows no result for %s: put this ```text block right after its sql block (line %d), or run `%s`:\n%s",
				readme, q.File(), sh.Query.Open+1, refresh, real)})
		default:
			want, err := playbook.ParseTable(sh.Result.Text)
			if err != nil {
				out = append(out, problem{file, fmt.Sprintf(
					"%s line %d: the result block of %s is not a table as the rehearsal prints it (%v); rewrite it with `%s`; the real result:\n%s",
					readme, sh.Result.Open+1, q.File(), err, refresh, real)})
				continue
			}
			got := &playbook.Table{Columns: res.Columns, Rows: res.Rows}
			if diff := playbook.Diff(want, got); diff != "" {
				hint := "If the real result is right (the sample, the query or the engine changed on purpose), refresh the block with `" + refresh + "`."
				if sameRows(want, got) {
					hint = "The rows are the same but in another order: the query's ORDER BY leaves ties, and Athena may return tied rows in any order. Order by enough columns to make the order total."
				}
				out = append(out, problem{file, fmt.Sprintf(
					"%s line %d shows another result for %s than the query returns over the sample incident:\n%s\nthe real result:\n%s%s",
					readme, sh.Result.Open+1, q.File(), diff, real, hint)})
			}
		}
	}
	return out, nil
}

// sameRows tells whether two tables hold the same rows in any order.
func sameRows(a, b *playbook.Table) bool {
	if len(a.Rows) != len(b.Rows) {
		return false
	}
	key := func(t *playbook.Table) []string {
		var ks []string
		for _, r := range t.Rows {
			ks = append(ks, strings.Join(r, "\x00"))
		}
		sort.Strings(ks)
		return ks
	}
	return strings.Join(key(a), "\x01") == strings.Join(key(b), "\x01")
}
