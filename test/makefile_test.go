package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMakefileDownloadsWhatTheAppBuilds checks the Makefile's APP_MODULES,
// the modules `make synth` downloads before it builds the app: a module
// missing from it is fetched by go build one at a time, one too many is
// downloaded for nothing.
func TestMakefileDownloadsWhatTheAppBuilds(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^APP_MODULES := ((?:.*\\\n)*.*)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile: no APP_MODULES := ... assignment")
	}
	listed := strings.Fields(strings.ReplaceAll(string(m[1]), "\\", " "))
	slices.Sort(listed)

	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}", ".")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := slices.Compact(slices.Sorted(slices.Values(strings.Fields(string(out)))))
	if !slices.Equal(listed, needed) {
		t.Errorf("Makefile APP_MODULES lists\n\t%s\nbut the app builds from\n\t%s", strings.Join(listed, "\n\t"), strings.Join(needed, "\n\t"))
	}
}
