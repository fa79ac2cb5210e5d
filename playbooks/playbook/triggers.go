package playbook

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Headings of the sections that Triggers reads; every playbook has them
// (test/playbooks checks the skeleton).
const (
	OpensSection  = "What opens this playbook"
	TriageSection = "Triage questions"
)

// Trigger is what pages a responder into a playbook and where they start:
// the GuardDuty finding types its "What opens this playbook" section lists,
// its title, its README and its first step.
type Trigger struct {
	Playbook string // the folder: credential_exposure
	Title    string // the README's level-1 heading
	Path     string // the README, relative to the root, with '/': playbooks/credential_exposure/README.md
	// FirstStep is the first item of the "Triage questions" list, as plain
	// text (markup dropped, code kept); "" when the section has no list.
	FirstStep string
	// FindingTypes are the code spans of the "What opens this playbook"
	// section that name a GuardDuty finding type, in the order written,
	// without repeats. One that ends in '*' names a family: every type
	// that starts with what comes before the '*'.
	FindingTypes []string
}

var (
	// findingTypeLike is a code span that means to be a finding type: a
	// threat purpose, ':', a resource type, '/'.
	findingTypeLike = regexp.MustCompile(`^[A-Za-z]+:[A-Za-z0-9]+/`)
	// findingType is GuardDuty's ThreatPurpose:ResourceTypeAffected/
	// ThreatFamilyName.DetectionMechanism!Artifact, or a family of them.
	findingType = regexp.MustCompile(`^[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9&_.!-]+\*?$`)
)

// Triggers reads the named playbooks, or every playbook when no name is
// given, sorted by folder. A code span in "What opens this playbook" that
// starts like a finding type but is not one (a space, a '*' inside) is an
// error naming the playbook and the span, so a typo never silently drops a
// type.
func Triggers(root string, names ...string) ([]Trigger, error) {
	if len(names) == 0 {
		var err error
		if names, err = List(root); err != nil {
			return nil, err
		}
	}
	var out []Trigger
	for _, name := range names {
		path := filepath.Join(root, Dir, name, "README.md")
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading playbook %s: %w", name, err)
		}
		t, err := parseTrigger(src)
		if err != nil {
			return nil, fmt.Errorf("playbook %s (%s): %w", name, path, err)
		}
		t.Playbook = name
		t.Path = Dir + "/" + name + "/README.md"
		out = append(out, t)
	}
	return out, nil
}

// parseTrigger reads a playbook's title, its opening finding types and its
// first triage question from its README.
func parseTrigger(src []byte) (Trigger, error) {
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	var t Trigger
	var problems []string
	seen := map[string]bool{}
	section := "" // the heading of the section being read
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok {
			section = plainText(h, src)
			if h.Level == 1 && t.Title == "" {
				t.Title = section
			}
			continue
		}
		switch section {
		case OpensSection:
			_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
				span, ok := c.(*ast.CodeSpan)
				if !entering || !ok {
					return ast.WalkContinue, nil
				}
				code := strings.TrimSpace(plainText(span, src))
				switch {
				case !findingTypeLike.MatchString(code):
				case !findingType.MatchString(code):
					problems = append(problems, fmt.Sprintf("%q in %q is not a GuardDuty finding type (Purpose:Resource/Family.Detection!Artifact) or a family of them (ending in '*')", code, OpensSection))
				case !seen[code]:
					seen[code] = true
					t.FindingTypes = append(t.FindingTypes, code)
				}
				return ast.WalkSkipChildren, nil
			})
		case TriageSection:
			if list, ok := n.(*ast.List); ok && t.FirstStep == "" && list.FirstChild() != nil {
				t.FirstStep = strings.Join(strings.Fields(plainText(list.FirstChild(), src)), " ")
			}
		}
	}
	if len(problems) > 0 {
		return Trigger{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return t, nil
}
