package playbook

import (
	"reflect"
	"strings"
	"testing"
)

const table = `name | n
-----+---
a|b  | 1
c    | 2
(2 rows)
`

func TestParseTableCutsCellsAtTheRule(t *testing.T) {
	got, err := ParseTable(table)
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{Columns: []string{"name", "n"}, Rows: [][]string{{"a|b", "1"}, {"c", "2"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTable = %+v, want %+v", got, want)
	}
	empty, err := ParseTable("a | b\n--+--\n(0 rows)\n")
	if err != nil || len(empty.Rows) != 0 || len(empty.Columns) != 2 {
		t.Errorf("empty table: %+v, %v", empty, err)
	}
}

func TestParseTableRejectsWhatIsNotATable(t *testing.T) {
	for name, text := range map[string]string{
		"NoRule":     "a | b\nx | y\n(1 row)\n",
		"NoCount":    "a | b\n--+--\nx | y\n",
		"WrongCount": "a | b\n--+--\nx | y\n(2 rows)\n",
		"Misaligned": "a | b\n--+--\nxyz\n(1 row)\n",
		"TooShort":   "a\n",
	} {
		if _, err := ParseTable(text); err == nil {
			t.Errorf("%s: ParseTable accepted %q", name, text)
		}
	}
}

func TestDiffNamesTheCells(t *testing.T) {
	a := &Table{Columns: []string{"k", "v"}, Rows: [][]string{{"x", "1"}, {"y", "2"}}}
	b := &Table{Columns: []string{"k", "v"}, Rows: [][]string{{"x", "1"}, {"y", "3"}, {"z", "4"}}}
	d := Diff(a, b)
	for _, want := range []string{`row 2, v: shown "2", real "3"`, "row 3 is not shown: z | 4", "shown 2 rows, real 3"} {
		if !strings.Contains(d, want) {
			t.Errorf("Diff lacks %q:\n%s", want, d)
		}
	}
	if Diff(a, a) != "" {
		t.Error("Diff of a table with itself is not empty")
	}
	if d := Diff(a, &Table{Columns: []string{"k"}}); !strings.Contains(d, "columns differ") {
		t.Errorf("Diff of other columns: %s", d)
	}
}

const readme = "# P\n\n```sql\nSELECT 1 AS n\n```\n\nText.\n\n  ```sql\n  SELECT 2 AS n\n  ```\n\n  ```text\n  old\n  ```\n"

func TestFindAndWriteResults(t *testing.T) {
	queries := []Query{{Name: "01_one", SQL: "SELECT 1 AS n\n"}, {Name: "02_two", SQL: "SELECT 2 AS n\n"}, {Name: "03_gone", SQL: "SELECT 3\n"}}
	shown := Find(ParseMarkdown([]byte(readme)), queries)
	if shown["01_one"].Query == nil || shown["01_one"].Result != nil {
		t.Errorf("01_one: %+v", shown["01_one"])
	}
	if shown["02_two"].Result == nil || shown["02_two"].Result.Text != "old\n" {
		t.Errorf("02_two: %+v", shown["02_two"])
	}
	if shown["03_gone"].Query != nil {
		t.Errorf("03_gone: %+v", shown["03_gone"])
	}
	out, missing := WriteResults(readme, queries, map[string]string{"01_one": "R1\n", "02_two": "R2\n", "03_gone": "R3\n"})
	want := "# P\n\n```sql\nSELECT 1 AS n\n```\n\n```text\nR1\n```\n\nText.\n\n  ```sql\n  SELECT 2 AS n\n  ```\n\n  ```text\n  R2\n  ```\n"
	if out != want {
		t.Errorf("WriteResults:\n%s\nwant:\n%s", out, want)
	}
	if !reflect.DeepEqual(missing, []string{"03_gone"}) {
		t.Errorf("missing = %v", missing)
	}
}
