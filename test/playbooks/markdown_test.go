package playbooks

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// skeleton is the H2 outline every playbook follows, the incident life cycle
// of NIST SP 800-61r3 as the playbooks spell it; required lists the H3
// sections that the fixed parts must hold. Contain, Eradicate and Recover
// hold steps of their own.
var (
	skeleton = []string{
		"Overview", "Prepare", "Detect and analyze", "Contain", "Eradicate", "Recover",
		"Post-incident activity", "References",
	}
	required = map[string][]string{
		"Overview": {
			"Threat and scope", "What opens this playbook", "Severity", "Classification", "Roles",
			"Who to call",
		},
		"Prepare":                {"Service configuration", "Game day"},
		"Detect and analyze":     {"Triage questions", "Evidence checklist", "Detection", "Analysis"},
		"Post-incident activity": {"Lessons learned", "Detective controls", "Preventive controls"},
	}
)

func TestPlaybooksShareOneSkeleton(t *testing.T) {
	dirs := playbookDirs(t)
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(d))
	}
	if !reflect.DeepEqual(names, wantPlaybooks) {
		t.Errorf("playbooks %v, want %v", names, wantPlaybooks)
	}
	for _, dir := range dirs {
		readme := filepath.Join(dir, "README.md")
		hs := Headings(readFile(t, readme))
		var h2 []string
		h3 := map[string][]string{}
		h1 := 0
		for _, h := range hs {
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
			t.Errorf("%s: %d level-1 headings, want one title", rel(t, readme), h1)
		}
		if !reflect.DeepEqual(h2, skeleton) {
			t.Errorf("%s: sections %q\nwant %q", rel(t, readme), h2, skeleton)
		}
		for section, subs := range required {
			for _, sub := range subs {
				if !contains(h3[section], sub) {
					t.Errorf("%s: section %q has no %q (has %q)", rel(t, readme), section, sub, h3[section])
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPlaybookIndexListsEveryPlaybook(t *testing.T) {
	index := filepath.Join(repoRoot(t), "playbooks", "README.md")
	var targets []string
	for _, l := range Links(readFile(t, index)) {
		targets = append(targets, strings.TrimPrefix(l.Target, "./"))
	}
	for _, book := range wantPlaybooks {
		if !contains(targets, book+"/README.md") && !contains(targets, book+"/") {
			t.Errorf("%s: no link to %s/README.md", rel(t, index), book)
		}
	}
}

// TestMarkdownLinksResolve: every relative link and image in the
// repository's markdown points at a file that exists, and every #anchor at
// a heading of the file it names.
func TestMarkdownLinksResolve(t *testing.T) {
	root := repoRoot(t)
	files, err := MarkdownFiles(root)
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
		anchors[path] = Anchors(string(raw))
		return anchors[path]
	}
	for _, f := range files {
		for _, l := range Links(readFile(t, f)) {
			if !IsRelative(l.Target) {
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
				t.Errorf("%s:%d: link %q leaves the repository", rel(t, f), l.Line, l.Target)
				continue
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s:%d: link %q: %s does not exist", rel(t, f), l.Line, l.Target, rel(t, path))
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
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", rel(t, f), l.Line, l.Target, rel(t, path), fragment)
			}
		}
	}
}

func TestAnchorsFollowGitHub(t *testing.T) {
	md := "# Title\n\n## Contain: `deny-all` the key\n\n### Check\n\n## Step 1 (of 2)\n\n### Check\n\n```sh\n# not a heading\n```\n"
	got := Anchors(md)
	for _, want := range []string{"title", "contain-deny-all-the-key", "check", "check-1", "step-1-of-2"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block became a heading")
	}
}

func TestLinksSkipCodeAndFindImages(t *testing.T) {
	md := "See [a](a.md) and ![b](img/b.png).\n`[c](c.md)`\n\n```md\n[d](d.md)\n```\n\n[e]: e.md\n"
	var got []string
	for _, l := range Links(md) {
		got = append(got, l.Target)
	}
	if want := []string{"a.md", "img/b.png", "e.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
}
