package test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
)

// TestREADMEParameterTableMatchesTheTemplate pins the README's table of
// WorkshopStack's parameters to the template: the same parameters, each
// with the default the template declares ("empty" for an empty one).
func TestREADMEParameterTableMatchesTheTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(raw), "\n### Parameters of WorkshopStack\n")
	if !found {
		t.Fatal("README.md has no section \"Parameters of WorkshopStack\"")
	}
	documented := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "### ") {
			break
		}
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 3 {
			continue
		}
		documented[strings.Trim(cells[0], "| `")] = cells[1]
	}
	params := synthApp(t).json["WorkshopStack"]["Parameters"].(map[string]any)
	if got, want := keys(documented), keys(params); !slices.Equal(got, want) {
		t.Errorf("README documents parameters %v; the template has %v", got, want)
	}
	for name, cell := range documented {
		p, ok := params[name].(map[string]any)
		if !ok {
			continue
		}
		def := fmt.Sprint(p["Default"])
		if def == "" && strings.HasPrefix(cell, "empty") {
			continue
		}
		if cell != "`"+def+"`" {
			t.Errorf("README gives %s the default %s; the template's is %q", name, cell, def)
		}
	}
}

// TestREADMEWarningListsTheDeliberateWeaknesses keeps the README's warning
// box and the code in step: the weaknesses it lists in bold are exactly the
// deliberate weaknesses that the synthesized templates suppress cdk-nag
// findings for (package weakness), no more, no fewer.
func TestREADMEWarningListsTheDeliberateWeaknesses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, box, found := strings.Cut(string(raw), "\n> **Deploy this only in a new, empty sandbox account.**")
	if !found {
		t.Fatal("README.md has no warning box starting \"> **Deploy this only in a new, empty sandbox account.**\"")
	}
	var listed []string
	for _, line := range strings.Split(box, "\n")[1:] {
		if !strings.HasPrefix(line, ">") {
			break
		}
		if item, ok := strings.CutPrefix(line, "> - **"); ok {
			name, _, _ := strings.Cut(item, "**")
			listed = append(listed, name)
		}
	}
	slices.Sort(listed)
	var inCode []string
	for _, tmpl := range synthApp(t).json {
		inCode = append(inCode, weakness.Names(tmpl)...)
	}
	slices.Sort(inCode)
	inCode = slices.Compact(inCode)
	if len(inCode) == 0 {
		t.Fatal("the templates record no deliberate weakness")
	}
	if !slices.Equal(listed, inCode) {
		t.Errorf("the README's warning box lists the weaknesses\n  %q\nthe templates suppress findings for\n  %q", listed, inCode)
	}
}
