package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// sampleRoot is a repository root with one playbook, for tests that must
// not depend on the real playbooks.
const sampleRoot = "testdata/root"

var (
	once    sync.Once
	shared  *session
	loadErr error
)

// loaded returns the sample incident, written and loaded once per test
// binary.
func loaded(t *testing.T) *session {
	t.Helper()
	once.Do(func() { shared, loadErr = newSession(context.Background(), DefaultSeed, "") })
	if loadErr != nil {
		t.Fatalf("loading the sample incident: %v", loadErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

func repo(t *testing.T) string {
	t.Helper()
	root, err := playbook.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestEveryPlaybookQueryReturnsTheResultItsPlaybookShows runs every query
// of every playbook over the sample incident: each must pass engine.Check
// (the one check of a playbook query) and return exactly the rows that its
// playbook's README.md shows right after it.
func TestEveryPlaybookQueryReturnsTheResultItsPlaybookShows(t *testing.T) {
	root := repo(t)
	books, err := playbook.List(root)
	if err != nil {
		t.Fatal(err)
	}
	s := loaded(t)
	for _, name := range books {
		t.Run(name, func(t *testing.T) {
			problems, err := checkPlaybook(context.Background(), s, root, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%s:\n%s", p.query, p.msg)
			}
		})
	}
}

// copyTree copies the sample root into a temporary directory.
func copyTree(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return to
}

func TestSamplePlaybookShowsItsRealResults(t *testing.T) {
	problems, err := checkPlaybook(context.Background(), loaded(t), sampleRoot, "sample")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s:\n%s", p.query, p.msg)
	}
}

func TestCheckPlaybookNamesTheQueryWhoseShownResultDrifted(t *testing.T) {
	readme := filepath.Join("playbooks", "sample", "README.md")
	tests := []struct {
		name  string
		edit  func(string) string
		query string
		want  []string
	}{
		{
			name: "CellChanged",
			edit: func(s string) string {
				return strings.Replace(s, "203.0.113.26 | A           |     618", "203.0.113.26 | A           |     617", 1)
			},
			query: "playbooks/sample/queries/02_pool_answers.sql",
			want:  []string{"shows another result", `answers: shown "617", real "618"`, "-w sample"},
		},
		{
			name: "RowsReordered",
			edit: func(s string) string {
				a := "xmr.nanopool.org. | 203.0.113.25 | A           |     618\n"
				b := "xmr.nanopool.org. | 203.0.113.26 | A           |     618\n"
				return strings.Replace(s, a+b, b+a, 1)
			},
			query: "playbooks/sample/queries/02_pool_answers.sql",
			want:  []string{"same but in another order"},
		},
		{
			name:  "ResultBlockMissing",
			edit:  func(s string) string { return cutBlockAfter(s, "ORDER BY 1, 2\n```\n") },
			query: "playbooks/sample/queries/03_isolated_flows.sql",
			want:  []string{"shows no result for queries/03_isolated_flows.sql", "after_isolation | action"},
		},
		{
			name: "QueryNotShown",
			edit: func(s string) string {
				return strings.Replace(s, "ORDER BY first_seen, eventname\n```", "ORDER BY first_seen\n```", 1)
			},
			query: "playbooks/sample/queries/01_leaked_key_calls.sql",
			want:  []string{"does not show queries/01_leaked_key_calls.sql"},
		},
		{
			name:  "NotATable",
			edit:  func(s string) string { return strings.Replace(s, "(3 rows)", "three rows", 1) },
			query: "playbooks/sample/queries/03_isolated_flows.sql",
			want:  []string{"is not a table"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, sampleRoot)
			path := filepath.Join(root, readme)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			edited := tt.edit(string(b))
			if edited == string(b) {
				t.Fatal("the edit changed nothing")
			}
			if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			problems, err := checkPlaybook(context.Background(), loaded(t), root, "sample")
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != 1 || problems[0].query != tt.query {
				t.Fatalf("problems %+v, want one for %s", problems, tt.query)
			}
			for _, w := range tt.want {
				if !strings.Contains(problems[0].msg, w) {
					t.Errorf("message lacks %q:\n%s", w, problems[0].msg)
				}
			}
		})
	}
}

// cutBlockAfter removes the text block that follows marker, and the blank
// line before it.
func cutBlockAfter(s, marker string) string {
	i := strings.Index(s, marker)
	if i < 0 {
		return s
	}
	rest := s[i+len(marker):]
	open := strings.Index(rest, "```text\n")
	end := strings.Index(rest[open+8:], "```\n")
	return s[:i+len(marker)] + rest[open+8+end+4:]
}

func TestCheckPlaybookNamesAQueryThatDoesNotRun(t *testing.T) {
	root := copyTree(t, sampleRoot)
	bad := filepath.Join(root, "playbooks", "sample", "queries", "04_no_partition.sql")
	if err := os.WriteFile(bad, []byte("SELECT count(*) AS n FROM ir_workshop.cloudtrail_logs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := checkPlaybook(context.Background(), loaded(t), root, "sample")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].msg, "playbooks/sample/queries/04_no_partition.sql") ||
		!strings.Contains(problems[0].msg, "without a date_partition predicate") {
		t.Errorf("problems %+v, want one naming 04_no_partition.sql and its missing date_partition predicate", problems)
	}
}

func TestWriteRefreshesAndAddsResultBlocks(t *testing.T) {
	root := copyTree(t, sampleRoot)
	path := filepath.Join(root, "playbooks", "sample", "README.md")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One block gone, one stale.
	stale := cutBlockAfter(string(orig), "ORDER BY 1, 2\n```\n")
	stale = strings.Replace(stale, "|     618\n(2 rows)", "|       1\n(2 rows)", 1)
	if err := os.WriteFile(path, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), root, []string{"-w", "sample"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(orig) {
		t.Errorf("README after -w differs from the committed one:\n%s", got)
	}
}

func TestCommandPrintsEachQueryAndItsResult(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), sampleRoot, []string{"sample"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"== sample/queries/01_leaked_key_calls.sql ==\n-- Sample step 1",
		"eventsource                  | eventname                | calls | first_seen\n-----------------------------+",
		"== sample/queries/03_isolated_flows.sql ==",
		"(3 rows)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		noLogsMade bool
	}{
		{name: "Help", args: []string{"-h"}, code: 0, stdout: "Usage: go run ./playbooks/rehearse"},
		{name: "NoPlaybook", args: nil, code: 2, stderr: "want one playbook"},
		{name: "TwoPlaybooks", args: []string{"sample", "other"}, code: 2, stderr: "want one playbook, got 2"},
		{name: "UnknownFlag", args: []string{"-x", "sample"}, code: 2, stderr: "flag provided but not defined: -x"},
		{name: "UnknownPlaybook", args: []string{"ransomware"}, code: 2, stderr: `unknown playbook "ransomware"; available: sample`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), sampleRoot, tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
			if tt.code == 2 && !strings.Contains(stderr.String(), "Usage:") && tt.name != "UnknownPlaybook" {
				t.Errorf("usage error without usage on stderr: %s", stderr.String())
			}
		})
	}
}

func TestLogsFlagKeepsTheSampleLogs(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), sampleRoot, []string{"-logs", dir, "sample"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, prefix := range []string{"CloudTrail/us-east-1/2026/01/01", "vpcflowlogs/us-east-1/2026/01/01", "vpcdnsquerylogs/vpc-1234567890abcdef0/2026/01/01"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "AWSLogs", "111122223333", filepath.FromSlash(prefix), "*.gz"))
		if len(matches) == 0 {
			t.Errorf("no log file under AWSLogs/111122223333/%s", prefix)
		}
	}
}
