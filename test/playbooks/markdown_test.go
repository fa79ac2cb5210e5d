package playbooks

import (
	"io/fs"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// skeleton is the H2 outline every playbook follows, the incident life cycle
// of NIST SP 800-61r3 as the playbooks spell it, then the revision history;
// required lists the H3 sections that the fixed parts must hold. Contain,
// Eradicate and Recover hold steps of their own.
var (
	skeleton = []string{
		"Overview", "Prepare", "Detect and analyze", "Contain", "Eradicate", "Recover",
		"Post-incident activity", "References", "Revision history",
	}
	required = map[string][]string{
		"Overview": {
			"Threat and scope", "What opens this playbook", "Severity", "Classification", "Roles",
			"Who to call", "Communication",
		},
		"Prepare":            {"Service configuration", "Game day"},
		"Detect and analyze": {"Triage questions", "Evidence checklist", "Detection", "Analysis"},
		"Contain":            {"Containment decision"},
		"Post-incident activity": {
			"Timeline and metrics", "Lessons learned", "Detection gap analysis", "Detective controls",
			"Preventive controls",
		},
	}
)

func TestPlaybooksShareOneSkeleton(t *testing.T) {
	var names []string
	for _, d := range playbookDirs(t) {
		names = append(names, filepath.Base(d))
	}
	if want := slices.Sorted(slices.Values(slices.Concat(wantPlaybooks, querySets))); !reflect.DeepEqual(names, want) {
		t.Errorf("playbooks and query sets %v, want %v", names, want)
	}
	for _, book := range wantPlaybooks {
		dir := filepath.Join(repoRoot(t), playbook.Dir, book)
		path := filepath.Join(dir, "README.md")
		var h2 []string
		h3 := map[string][]string{}
		h1 := 0
		for _, h := range readme(t, dir).Headings {
			switch h.Level {
			case 1:
				h1++
			case 2:
				h2 = append(h2, h.Text)
			case 3:
				if len(h2) > 0 {
					h3[h2[len(h2)-1]] = append(h3[h2[len(h2)-1]], h.Text)
				}
			}
		}
		if h1 != 1 {
			t.Errorf("%s: %d level-1 headings, want one title", rel(t, path), h1)
		}
		if !reflect.DeepEqual(h2, skeleton) {
			t.Errorf("%s: sections %q\nwant %q", rel(t, path), h2, skeleton)
		}
		for section, subs := range required {
			for _, sub := range subs {
				if !slices.Contains(h3[section], sub) {
					t.Errorf("%s: section %q has no %q (has %q)", rel(t, path), section, sub, h3[section])
				}
			}
		}
	}
}

func TestPlaybookIndexListsEveryPlaybook(t *testing.T) {
	index := filepath.Join(repoRoot(t), "playbooks", "README.md")
	var targets []string
	for _, l := range playbook.ParseMarkdown([]byte(readFile(t, index))).Links {
		targets = append(targets, strings.TrimPrefix(l.Target, "./"))
	}
	for _, book := range slices.Concat(wantPlaybooks, querySets) {
		if !slices.Contains(targets, book+"/README.md") && !slices.Contains(targets, book+"/") {
			t.Errorf("%s: no link to %s/README.md", rel(t, index), book)
		}
	}
}

// TestMarkdownLinksResolve: every relative link and image in the
// repository's markdown points at a file that exists, and every #anchor at
// a heading of the file it names.
func TestMarkdownLinksResolve(t *testing.T) {
	root := repoRoot(t)
	files, err := markdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no markdown found")
	}
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		anchors[path] = playbook.ParseMarkdown(raw).Anchors()
		return anchors[path]
	}
	for _, f := range files {
		for _, l := range playbook.ParseMarkdown([]byte(readFile(t, f))).Links {
			if !isRelative(l.Target) {
				continue
			}
			target, fragment, _ := strings.Cut(l.Target, "#")
			target, _, _ = strings.Cut(target, "?")
			if dec, err := url.PathUnescape(target); err == nil {
				target = dec
			}
			path := f
			if target != "" {
				path = filepath.Join(filepath.Dir(f), filepath.FromSlash(target))
				if strings.HasPrefix(target, "/") {
					path = filepath.Join(root, filepath.FromSlash(target))
				}
			}
			if !strings.HasPrefix(path, root) {
				t.Errorf("%s:%d: link %q leaves the repository", rel(t, f), l.Line+1, l.Target)
				continue
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s:%d: link %q: %s does not exist", rel(t, f), l.Line+1, l.Target, rel(t, path))
				continue
			}
			if fragment == "" {
				continue
			}
			if info.IsDir() {
				path = filepath.Join(path, "README.md")
			}
			if !strings.HasSuffix(path, ".md") {
				continue
			}
			if !anchorsOf(path)[strings.ToLower(fragment)] {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", rel(t, f), l.Line+1, l.Target, rel(t, path), fragment)
			}
		}
	}
}

// markdownFiles returns the markdown files under root, skipping trees that
// are installed or generated rather than written here.
func markdownFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && slices.Contains([]string{".git", "node_modules", ".build", "cdk.out"}, d.Name()):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(d.Name(), ".md"):
			out = append(out, path)
		}
		return nil
	})
	return out, err
}

// isRelative reports whether a link target points into the repository.
func isRelative(target string) bool {
	if strings.HasPrefix(target, "//") {
		return false
	}
	if i := strings.IndexAny(target, ":/#?"); i >= 0 && target[i] == ':' {
		return false // scheme: http:, https:, mailto:, ...
	}
	return true
}

// sectionTables gives, by section, the header of each table that the
// section of every playbook holds; "" is the top, between the title and the
// first section.
var sectionTables = map[string][][]string{
	"":                     {{"version", "owner", "last reviewed"}},
	"Communication":        {{"severity", "status update", "to whom"}, {"who", "what they need", "when"}},
	"Containment decision": {{"what to contain", "first when", "what it breaks", "who decides"}},
	"Timeline and metrics": {{"time (UTC)", "what happened", "source", "who"}},
	"Detection gap analysis": {
		{"signal", "expected from the simulation", "fired, when", "why not, and what would catch it"},
	},
	"Revision history": {{"version", "date", "changes"}},
}

// tablesBySection returns a playbook's tables by the section they are in:
// the text of the nearest heading above, "" for the title.
func tablesBySection(md playbook.Markdown) map[string][]playbook.MarkdownTable {
	out := map[string][]playbook.MarkdownTable{}
	for _, tb := range md.Tables {
		section := ""
		for _, h := range md.Headings {
			if h.Line < tb.Line && h.Level > 1 {
				section = h.Text
			}
		}
		out[section] = append(out[section], tb)
	}
	return out
}

var (
	versionNumber = regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`)
	isoDate       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// TestPlaybookSectionsHoldTheirTables: the version, owner and last review
// at the top, the tables of communication, the containment decision, the
// timeline, the detection gaps and the revision history, with the columns
// the skeleton gives them; the revision history's versions and dates go up,
// and its last version and date are the ones at the top.
func TestPlaybookSectionsHoldTheirTables(t *testing.T) {
	for _, book := range wantPlaybooks {
		path := filepath.Join(repoRoot(t), playbook.Dir, book, "README.md")
		md := playbook.ParseMarkdown([]byte(readFile(t, path)))
		tables := tablesBySection(md)
		find := func(section string, header []string) *playbook.MarkdownTable {
			for i, tb := range tables[section] {
				if reflect.DeepEqual(tb.Header, header) {
					return &tables[section][i]
				}
			}
			return nil
		}
		for _, section := range slices.Sorted(maps.Keys(sectionTables)) {
			for _, header := range sectionTables[section] {
				if find(section, header) == nil {
					t.Errorf("%s: section %q has no table | %s |", rel(t, path), section, strings.Join(header, " | "))
				}
			}
		}

		top := find("", sectionTables[""][0])
		history := find("Revision history", sectionTables["Revision history"][0])
		if top == nil || history == nil {
			continue
		}
		if len(top.Rows) != 1 || len(top.Rows[0]) != 3 {
			t.Errorf("%s: the version table has %d rows, want one", rel(t, path), len(top.Rows))
			continue
		}
		version, owner, reviewed := top.Rows[0][0], top.Rows[0][1], top.Rows[0][2]
		if !versionNumber.MatchString(version) || owner == "" || !validDate(reviewed) {
			t.Errorf("%s: version %q, owner %q, last reviewed %q: want a version such as 1.2, an owner and a date such as 2026-12-03", rel(t, path), version, owner, reviewed)
		}
		if len(history.Rows) == 0 {
			t.Errorf("%s: the revision history has no row", rel(t, path))
			continue
		}
		var lastVersion []int
		lastDate := ""
		for _, row := range history.Rows {
			m := versionNumber.FindStringSubmatch(row[0])
			if m == nil || !validDate(row[1]) || row[2] == "" {
				t.Errorf("%s: revision %q: want a version such as 1.2, a date such as 2026-12-03 and the changes", rel(t, path), strings.Join(row, " | "))
				continue
			}
			major, _ := strconv.Atoi(m[1])
			minor, _ := strconv.Atoi(m[2])
			if lastVersion != nil && (slices.Compare([]int{major, minor}, lastVersion) <= 0 || row[1] < lastDate) {
				t.Errorf("%s: revision %s of %s follows %d.%d of %s: list revisions oldest first", rel(t, path), row[0], row[1], lastVersion[0], lastVersion[1], lastDate)
			}
			lastVersion, lastDate = []int{major, minor}, row[1]
		}
		last := history.Rows[len(history.Rows)-1]
		if last[0] != version || reviewed < last[1] {
			t.Errorf("%s: the top says version %s, last reviewed %s; the revision history ends with %s of %s", rel(t, path), version, reviewed, last[0], last[1])
		}
	}
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return isoDate.MatchString(s) && err == nil
}

// TestCommunicationFollowsTheSeverities: the status cadence has one row per
// severity of the playbook's severity table, in its order, and a status
// update template gives the status and the next update's time.
func TestCommunicationFollowsTheSeverities(t *testing.T) {
	for _, book := range wantPlaybooks {
		path := filepath.Join(repoRoot(t), playbook.Dir, book, "README.md")
		md := playbook.ParseMarkdown([]byte(readFile(t, path)))
		tables := tablesBySection(md)
		var severities, cadence []string
		for _, tb := range tables["Severity"] {
			for _, row := range tb.Rows {
				severities = append(severities, strings.Fields(row[0] + " ")[0])
			}
		}
		for _, tb := range tables["Communication"] {
			if reflect.DeepEqual(tb.Header, sectionTables["Communication"][0]) {
				for _, row := range tb.Rows {
					cadence = append(cadence, row[0])
				}
			}
		}
		if len(severities) == 0 || !reflect.DeepEqual(cadence, severities) {
			t.Errorf("%s: status updates for %q, want one row per severity %q", rel(t, path), cadence, severities)
		}
		from, to := sectionLines(md, "Communication")
		template := false
		for _, b := range md.Blocks {
			if b.Open > from && b.Open < to && b.Lang == "text" && strings.Contains(b.Text, "Status:") && strings.Contains(b.Text, "Next update:") {
				template = true
			}
		}
		if !template {
			t.Errorf("%s: section Communication has no status update template (a text block with Status: and Next update:)", rel(t, path))
		}
	}
}

// sectionLines returns the lines a section spans: its heading's, and the
// next heading's of the same level or above (the end of the file if none).
func sectionLines(md playbook.Markdown, section string) (from, to int) {
	from, to = -1, math.MaxInt
	level := 0
	for _, h := range md.Headings {
		switch {
		case from < 0 && h.Text == section:
			from, level = h.Line, h.Level
		case from >= 0 && h.Level <= level:
			return from, h.Line
		}
	}
	return from, to
}

// TestEachFindingTypeOpensOnePlaybook: no GuardDuty finding type, or family
// of types, is listed by two playbooks' "What opens this playbook": each
// playbook's alert rule would route the finding, and one finding would page
// the responder twice, into two playbooks.
func TestEachFindingTypeOpensOnePlaybook(t *testing.T) {
	triggers, err := playbook.Triggers(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	covers := func(listed, typ string) bool {
		if family, ok := strings.CutSuffix(listed, "*"); ok {
			return strings.HasPrefix(strings.TrimSuffix(typ, "*"), family)
		}
		return listed == typ
	}
	for i, a := range triggers {
		for _, b := range triggers[i+1:] {
			for _, x := range a.FindingTypes {
				for _, y := range b.FindingTypes {
					if covers(x, y) || covers(y, x) {
						t.Errorf("%s lists %s and %s lists %s: a finding of that type would open both", a.Path, x, b.Path, y)
					}
				}
			}
		}
	}
}
