package playbook

import (
	"fmt"
	"regexp"
	"strings"
)

// Table is a query result as the rehearsal prints it: column names and
// rows of cells.
type Table struct {
	Columns []string
	Rows    [][]string
}

var rowCount = regexp.MustCompile(`^\(([0-9]+) rows?\)$`)

// ParseTable reads an aligned table: a header line, a rule of '-' with '+'
// where columns meet, one line a row, and a "(N rows)" line. Cells are cut
// at the rule's '+' positions and trimmed, so a cell may hold '|'.
func ParseTable(text string) (*Table, error) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("want a header, a rule, rows and a row count; got %d lines", len(lines))
	}
	rule := []rune(lines[1])
	var cuts []int
	for i, c := range rule {
		switch c {
		case '+':
			cuts = append(cuts, i)
		case '-':
		default:
			return nil, fmt.Errorf("line 2 is not a rule of '-' and '+': %q", lines[1])
		}
	}
	split := func(line string) ([]string, error) {
		rs := []rune(line)
		var cells []string
		from := 0
		for _, c := range cuts {
			if c < len(rs) && rs[c] != '|' {
				return nil, fmt.Errorf("no '|' under the rule's '+' at column %d", c+1)
			}
			to := min(c, len(rs))
			cells = append(cells, strings.TrimSpace(string(rs[min(from, to):to])))
			from = c + 1
		}
		cells = append(cells, strings.TrimSpace(string(rs[min(from, len(rs)):])))
		return cells, nil
	}
	t := &Table{}
	var err error
	if t.Columns, err = split(lines[0]); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	last := lines[len(lines)-1]
	m := rowCount.FindStringSubmatch(last)
	if m == nil {
		return nil, fmt.Errorf("the last line is not a row count such as (3 rows): %q", last)
	}
	for i, l := range lines[2 : len(lines)-1] {
		row, err := split(l)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		t.Rows = append(t.Rows, row)
	}
	if fmt.Sprint(len(t.Rows)) != m[1] {
		return nil, fmt.Errorf("%d rows, but the count says %s", len(t.Rows), m[1])
	}
	return t, nil
}

// Diff describes how got differs from want, cell by cell, or returns "".
func Diff(want, got *Table) string {
	if strings.Join(want.Columns, "\x00") != strings.Join(got.Columns, "\x00") {
		return fmt.Sprintf("columns differ:\n  shown: %s\n  real:  %s", strings.Join(want.Columns, ", "), strings.Join(got.Columns, ", "))
	}
	var b strings.Builder
	n := max(len(want.Rows), len(got.Rows))
	shown := 0
	for i := 0; i < n && shown < 10; i++ {
		var w, g []string
		if i < len(want.Rows) {
			w = want.Rows[i]
		}
		if i < len(got.Rows) {
			g = got.Rows[i]
		}
		if strings.Join(w, "\x00") == strings.Join(g, "\x00") {
			continue
		}
		shown++
		switch {
		case w == nil:
			fmt.Fprintf(&b, "  row %d is not shown: %s\n", i+1, strings.Join(g, " | "))
		case g == nil:
			fmt.Fprintf(&b, "  row %d is shown but not returned: %s\n", i+1, strings.Join(w, " | "))
		default:
			for j := range w {
				if j < len(g) && w[j] != g[j] {
					fmt.Fprintf(&b, "  row %d, %s: shown %q, real %q\n", i+1, want.Columns[j], w[j], g[j])
				}
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	if len(want.Rows) != len(got.Rows) {
		fmt.Fprintf(&b, "  shown %d rows, real %d\n", len(want.Rows), len(got.Rows))
	}
	return strings.TrimRight(b.String(), "\n")
}
