package playbooks

import (
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
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
