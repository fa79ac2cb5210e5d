package appmodules

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// buildTargets are the packages `make synth` builds.
var buildTargets = []string{"."}

// TestMakefileDownloadsWhatTheAppBuilds checks the Makefile's APP_MODULES,
// the modules `make synth` downloads before it builds: a module missing
// from it is fetched by go build one at a time, one too many is downloaded
// for nothing.
func TestMakefileDownloadsWhatTheAppBuilds(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
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

	args := append([]string{"list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}"}, buildTargets...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := slices.Compact(slices.Sorted(slices.Values(strings.Fields(string(out)))))
	if !slices.Equal(listed, needed) {
		t.Errorf("Makefile APP_MODULES lists\n\t%s\nbut %s build from\n\t%s", strings.Join(listed, "\n\t"), strings.Join(buildTargets, " "), strings.Join(needed, "\n\t"))
	}
}
