package test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
