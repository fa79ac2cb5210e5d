package playbooks

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// TestQueryFilesAreNumberedAndDescribed: a playbook's queries are numbered
// 01, 02, ... in playbook order, each ends in a newline and starts with
// comment lines that say what it finds (Athena's description of the named
// query). playbook.Queries enforces the NN_step_name.sql names.
func TestQueryFilesAreNumberedAndDescribed(t *testing.T) {
	byBook := map[string][]int{}
	for _, q := range queries(t) {
		n, _ := strconv.Atoi(q.Name[:2])
		byBook[q.Playbook] = append(byBook[q.Playbook], n)
		if !strings.HasSuffix(q.SQL, "\n") {
			t.Errorf("%s: want a final newline", rel(t, q.Path))
		}
		if q.Description() == "" {
			t.Errorf("%s: want leading -- comment lines that describe the query", rel(t, q.Path))
		}
	}
	for book, nums := range byBook {
		for i, n := range nums {
			if n != i+1 {
				t.Errorf("playbooks/%s/queries: numbers %v, want 01, 02, ... in playbook order without gaps", book, nums)
				break
			}
		}
	}
}

// TestEverySQLFileIsAPlaybookQuery: a .sql file under playbooks/ outside a
// playbook's queries/ folder would never become a named query nor be
// rehearsed.
func TestEverySQLFileIsAPlaybookQuery(t *testing.T) {
	stray, err := playbook.StraySQL(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stray {
		t.Errorf("%s: a playbook query belongs in playbooks/PLAYBOOK/queries/ of a playbook with a README.md", rel(t, f))
	}
}

// TestPlaybooksShowTheirQueries: the sql blocks of a playbook are its query
// files, in file order, and it links to each file (so that what the reader
// sees is what Athena runs). That each file is shown with its result, the
// rehearsal checks.
func TestPlaybooksShowTheirQueries(t *testing.T) {
	byBook := map[string][]playbook.Query{}
	for _, q := range queries(t) {
		byBook[q.Playbook] = append(byBook[q.Playbook], q)
	}
	for _, dir := range playbookDirs(t) {
		path := filepath.Join(dir, "README.md")
		var shown []playbook.Block
		for _, b := range readme(t, dir).Blocks {
			if b.Lang == "sql" {
				shown = append(shown, b)
			}
		}
		files := byBook[filepath.Base(dir)]
		for i, b := range shown {
			if i >= len(files) || !playbook.SameSQL(b.Text, files[i].SQL) {
				t.Errorf("%s:%d: sql block %d is not the text of query file %d (of %d): show each file once, in order, and only files", rel(t, path), b.Open+1, i+1, i+1, len(files))
			}
		}
		for _, q := range files {
			if !strings.Contains(readFile(t, path), "("+q.File()+")") {
				t.Errorf("%s: no link to %s", rel(t, path), q.File())
			}
		}
	}
}

var (
	accessKeyLike = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)
	// exampleKey matches the example key IDs of AWS's documentation
	// (AKIAIOSFODNN7EXAMPLE, AKIAI44QH8DHBEXAMPLE), which all end in
	// EXAMPLE; the rehearsal's sample incident needs a third such key.
	exampleKey  = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{9}EXAMPLE$`)
	accountLike = regexp.MustCompile(`\b[0-9]{12}\b`)
	ipv4Like    = regexp.MustCompile(`\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b`)
	angleHolder = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9_ -]*>`)
	// Addresses an example may use: AWS's documentation ranges (RFC 5737),
	// the workshop VPC, and the link-local addresses of the Amazon DNS
	// server, time sync and instance metadata.
	exampleNets = []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "192.168.0.0/16", "169.254.169.0/24", "0.0.0.0/32"}
)

// TestExamplesUseDocumentedPlaceholders: queries and shell commands use
// AWS's documented example identifiers, never real-looking ones, and the
// SQL runs as written (no <PLACEHOLDER> in it).
func TestExamplesUseDocumentedPlaceholders(t *testing.T) {
	var nets []*net.IPNet
	for _, c := range exampleNets {
		_, n, _ := net.ParseCIDR(c)
		nets = append(nets, n)
	}
	check := func(where, text string, sql bool) {
		for _, k := range accessKeyLike.FindAllString(text, -1) {
			if !exampleKey.MatchString(k) {
				t.Errorf("%s: access key %s; use AKIAIOSFODNN7EXAMPLE", where, k)
			}
		}
		for _, a := range accountLike.FindAllString(text, -1) {
			if a != "111122223333" && a != "444455556666" {
				t.Errorf("%s: account-like number %s; use 111122223333", where, a)
			}
		}
		for _, ip := range ipv4Like.FindAllString(text, -1) {
			addr := net.ParseIP(ip)
			ok := addr == nil // not an address (a version number, say)
			for _, n := range nets {
				ok = ok || n.Contains(addr)
			}
			if !ok {
				t.Errorf("%s: address %s; use one of %v", where, ip, exampleNets)
			}
		}
		if sql {
			if m := angleHolder.FindString(text); m != "" {
				t.Errorf("%s: placeholder %s; SQL must run as written, use an example value and say what to replace", where, m)
			}
		}
	}
	for _, q := range queries(t) {
		check(rel(t, q.Path), q.SQL, true)
	}
	for _, dir := range playbookDirs(t) {
		for _, b := range readme(t, dir).Blocks {
			check(fmt.Sprintf("%s:%d", rel(t, filepath.Join(dir, "README.md")), b.Open+1), b.Text, b.Lang == "sql")
		}
	}
}
