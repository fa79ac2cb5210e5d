package playbooks

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Athena's limits on a named query (constructs/analytics loads the files
// into AWS::Athena::NamedQuery resources).
const (
	maxQueryBytes       = 262144
	maxDescriptionBytes = 1024
)

var queryName = regexp.MustCompile(`^([0-9]{2})_[a-z0-9]+(_[a-z0-9]+)*\.sql$`)

func TestPlaybookQueriesReferenceOnlyLogSchema(t *testing.T) {
	c := catalog(t)
	files := queryFiles(t)
	if len(files) == 0 {
		t.Fatal("no playbooks/*/queries/*.sql")
	}
	for _, f := range files {
		for _, err := range c.CheckQuery(rel(t, f), readFile(t, f)) {
			t.Error(err)
		}
	}
}

func TestQueryFilesAreNumberedNamedAndDescribed(t *testing.T) {
	byBook := map[string][]int{}
	for _, f := range queryFiles(t) {
		name := filepath.Base(f)
		m := queryName.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: want NN_step_name.sql (two digits, then lower-case letters, digits and _)", rel(t, f))
			continue
		}
		n, _ := strconv.Atoi(m[1])
		book := filepath.Base(filepath.Dir(filepath.Dir(f)))
		byBook[book] = append(byBook[book], n)

		sql := readFile(t, f)
		if len(sql) > maxQueryBytes {
			t.Errorf("%s: %d bytes, Athena takes at most %d", rel(t, f), len(sql), maxQueryBytes)
		}
		if !strings.HasSuffix(sql, "\n") {
			t.Errorf("%s: want a final newline", rel(t, f))
		}
		desc := description(sql)
		switch {
		case desc == "":
			t.Errorf("%s: want leading -- comment lines that describe the query", rel(t, f))
		case len(desc) > maxDescriptionBytes:
			t.Errorf("%s: description is %d bytes, Athena takes at most %d", rel(t, f), len(desc), maxDescriptionBytes)
		}
		if strings.TrimSpace(strings.Join(codeLines(sql), "")) == "" {
			t.Errorf("%s: only comments, no query", rel(t, f))
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

// description is what constructs/analytics makes of a query file's leading
// "--" lines.
func description(sql string) string {
	var parts []string
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		if text := strings.TrimSpace(strings.TrimPrefix(line, "--")); text != "" {
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, " ")
}

func codeLines(sql string) []string {
	var out []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return out
}

// TestPlaybooksShowTheirQueries: a playbook shows each of its queries, as
// the same text as the file, in file order, and shows no SQL that is not a
// file (so that what the reader sees is what Athena runs).
func TestPlaybooksShowTheirQueries(t *testing.T) {
	for _, dir := range playbookDirs(t) {
		readme := filepath.Join(dir, "README.md")
		_, blocks := SplitMarkdown(readFile(t, readme))
		var shown []string
		for _, b := range blocks {
			if b.Lang == "sql" {
				shown = append(shown, strings.TrimSpace(b.Text))
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "queries", "*.sql"))
		var want []string
		for _, f := range files {
			want = append(want, strings.TrimSpace(readFile(t, f)))
			if !strings.Contains(readFile(t, readme), "(queries/"+filepath.Base(f)+")") {
				t.Errorf("%s: no link to queries/%s", rel(t, readme), filepath.Base(f))
			}
		}
		if len(shown) != len(want) {
			t.Errorf("%s: %d sql blocks, %d query files: show each file once, and only files", rel(t, readme), len(shown), len(want))
		}
		for i := 0; i < len(shown) && i < len(want); i++ {
			if shown[i] != want[i] {
				t.Errorf("%s: sql block %d differs from %s:\n%s", rel(t, readme), i+1, rel(t, files[i]), firstDiff(shown[i], want[i]))
			}
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  playbook: %q\n  file:     %q", i+1, x, y)
		}
	}
	return ""
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
	for _, f := range queryFiles(t) {
		check(rel(t, f), readFile(t, f), true)
	}
	for _, dir := range playbookDirs(t) {
		readme := filepath.Join(dir, "README.md")
		_, blocks := SplitMarkdown(readFile(t, readme))
		for _, b := range blocks {
			check(fmt.Sprintf("%s:%d", rel(t, readme), b.Line), b.Text, b.Lang == "sql")
		}
	}
}
