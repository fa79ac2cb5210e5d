package playbook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// write writes files (path under root → content).
func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for path, text := range files {
		full := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueriesReadEveryPlaybookInOrder(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"playbooks/README.md": "index"})
	if qs, err := Queries(root); err != nil || len(qs) != 0 {
		t.Fatalf("no playbook: %v, %v", qs, err)
	}
	write(t, root, map[string]string{
		"playbooks/crypto_mining/README.md":                "# Crypto mining",
		"playbooks/crypto_mining/queries/02_dns.sql":       "-- Mining pool lookups\n--\n-- from the instance\nSELECT 1\n",
		"playbooks/crypto_mining/queries/01_flows.sql":     "SELECT 2\n",
		"playbooks/crypto_mining/queries/notes.txt":        "not a query",
		"playbooks/a_book/README.md":                       "# A",
		"playbooks/a_book/queries/01_x.sql":                "SELECT 3\n",
		"playbooks/tool/queries/01_not_a_playbook.sql":     "SELECT 4\n",
		"playbooks/a_book/queries/testdata/01_fixture.sql": "SELECT 5\n",
	})
	qs, err := Queries(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range qs {
		names = append(names, q.Playbook+"/"+q.Name)
	}
	if want := []string{"a_book/01_x", "crypto_mining/01_flows", "crypto_mining/02_dns"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("queries %v, want %v", names, want)
	}
	q := qs[2]
	if q.Description() != "Mining pool lookups from the instance" || q.SQL != "-- Mining pool lookups\n--\n-- from the instance\nSELECT 1\n" || q.File() != "queries/02_dns.sql" {
		t.Errorf("query %+v, description %q", q, q.Description())
	}
	if d := qs[1].Description(); d != "" {
		t.Errorf("description of a query without comments: %q", d)
	}
	stray, err := StraySQL(root)
	if err != nil || len(stray) != 1 || !strings.HasSuffix(stray[0], "01_not_a_playbook.sql") {
		t.Errorf("StraySQL = %v, %v; want tool/queries/01_not_a_playbook.sql", stray, err)
	}
}

func TestQueriesNameTheFileThatBreaksTheConvention(t *testing.T) {
	for name, path := range map[string]string{
		"empty":        "playbooks/a/queries/03_empty.sql",
		"space":        "playbooks/a/queries/Bad Name.sql",
		"not numbered": "playbooks/a/queries/dns.sql",
		"folder":       "playbooks/A B/queries/01_x.sql",
	} {
		root := t.TempDir()
		dir := filepath.Dir(filepath.Dir(path))
		write(t, root, map[string]string{dir + "/README.md": "# A", path: map[bool]string{true: " \n", false: "SELECT 1\n"}[name == "empty"]})
		if _, err := Queries(root); err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: error %v does not name %s", name, err, filepath.Base(path))
		}
	}
}

func TestParseMarkdownFindsBlocksHeadingsAndLinks(t *testing.T) {
	md := ParseMarkdown([]byte("# Title\n\n## Contain: `deny-all` the [key](k.md)\n\nSee [a](a.md) and ![b](img/b.png).\n`[c](c.md)`\n\n" +
		"- step\n\n  ~~~~bash extra\n  echo [d](d.md)\n  ~~~~\n\n```sql\nSELECT 1\n```\n\n[e]: e.md\n"))
	wantBlocks := []Block{
		{Lang: "bash", Text: "echo [d](d.md)\n", Open: 9, Close: 11, Indent: "  ", Fence: "~~~~"},
		{Lang: "sql", Text: "SELECT 1\n", Open: 13, Close: 15, Fence: "```"},
	}
	if !reflect.DeepEqual(md.Blocks, wantBlocks) {
		t.Errorf("blocks %+v\nwant %+v", md.Blocks, wantBlocks)
	}
	wantHeadings := []Heading{{1, "Title", 0}, {2, "Contain: deny-all the key", 2}}
	if !reflect.DeepEqual(md.Headings, wantHeadings) {
		t.Errorf("headings %+v, want %+v", md.Headings, wantHeadings)
	}
	wantLinks := []Link{{"k.md", 2}, {"a.md", 4}, {"img/b.png", 4}, {"e.md", 17}}
	if !reflect.DeepEqual(md.Links, wantLinks) {
		t.Errorf("links %+v, want %+v", md.Links, wantLinks)
	}
}

func TestParseMarkdownFindsTables(t *testing.T) {
	md := ParseMarkdown([]byte("# Title\n\n| version | *owner* | last reviewed |\n| --- | --- | --- |\n| 1.1 | [lead](l.md) | 2026-12-03 |\n" +
		"| 1.2 | | |\n\nNot | a table\n\n```text\n| a | b |\n| --- | --- |\n```\n"))
	want := []MarkdownTable{{
		Header: []string{"version", "owner", "last reviewed"},
		Rows:   [][]string{{"1.1", "lead", "2026-12-03"}, {"1.2", "", ""}},
		Line:   2,
	}}
	if !reflect.DeepEqual(md.Tables, want) {
		t.Errorf("tables %+v\nwant %+v", md.Tables, want)
	}
	if len(md.Links) != 1 || md.Links[0].Target != "l.md" {
		t.Errorf("links %+v, want the one in the table", md.Links)
	}
}

func TestAnchorsFollowGitHub(t *testing.T) {
	md := ParseMarkdown([]byte("# Title\n\n## Contain: `deny-all` the key\n\n### Check\n\n## Step 1 (of 2)\n\n### Check\n\n### snake_case\n\n```sh\n# not a heading\n```\n"))
	got := md.Anchors()
	for _, want := range []string{"title", "contain-deny-all-the-key", "check", "check-1", "step-1-of-2", "snake_case"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block became a heading")
	}
}
