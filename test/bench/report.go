package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// event is one line of `go test -json` (go doc test2json).
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type pkgResult struct {
	name      string
	wall      float64
	user, sys float64
	hasCPU    bool
	action    string
}

type testResult struct {
	pkg, name string
	wall      float64
	action    string
	// AWS CLI calls, from test/moto's log line.
	scripts, own int
	hasCalls     bool
}

// report reads `go test -json` and prints where the time went.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	top := fs.Int("top", 25, "how many tests to list")
	fs.Parse(args)
	in := io.Reader(os.Stdin)
	if fs.NArg() > 0 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}

	pkgs := map[string]*pkgResult{}
	tests := map[string]*testResult{} // package + " " + test
	var first, last time.Time
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Package == "" {
			continue // go test's own messages (build failures) are not JSON events
		}
		if first.IsZero() || e.Time.Before(first) {
			first = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
		p := pkgs[e.Package]
		if p == nil {
			p = &pkgResult{name: e.Package}
			pkgs[e.Package] = p
		}
		if e.Test == "" {
			switch e.Action {
			case "pass", "fail", "skip":
				p.wall, p.action = e.Elapsed, e.Action
			case "output":
				if u, s, ok := parseCPU(e.Output); ok {
					p.user, p.sys, p.hasCPU = u, s, true
				}
			}
			continue
		}
		key := e.Package + " " + e.Test
		t := tests[key]
		if t == nil {
			t = &testResult{pkg: e.Package, name: e.Test}
			tests[key] = t
		}
		switch e.Action {
		case "pass", "fail", "skip":
			t.wall, t.action = e.Elapsed, e.Action
		case "output":
			if s, o, ok := moto.ParseCalls(e.Output); ok {
				t.scripts, t.own, t.hasCalls = s, o, true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(pkgs) == 0 {
		return errors.New("no go test -json events in the input")
	}
	short := shortener()

	var ran []*pkgResult
	var sumUser, sumSys float64
	for _, p := range pkgs {
		if p.action == "" || (p.action == "skip" && p.wall == 0) {
			continue // no test files
		}
		ran = append(ran, p)
		sumUser, sumSys = sumUser+p.user, sumSys+p.sys
	}
	slices.SortFunc(ran, func(a, b *pkgResult) int { return cmp.Compare(b.wall, a.wall) })
	fmt.Printf("Packages, slowest first: wall and CPU seconds (CPU: the test binary and every process it started)\n")
	fmt.Printf("%8s %8s  %s\n", "wall", "cpu", "package")
	for _, p := range ran {
		cpu := "-"
		if p.hasCPU {
			cpu = fmt.Sprintf("%.1f", p.user+p.sys)
		}
		fmt.Printf("%8.1f %8s  %s%s\n", p.wall, cpu, short(p.name), flagFailed(p.action))
	}
	fmt.Printf("whole run: %.1f s wall; %.1f s CPU (%.1f user, %.1f sys) in %d packages\n\n",
		last.Sub(first).Seconds(), sumUser+sumSys, sumUser, sumSys, len(ran))

	var all []*testResult
	counts := map[string]int{}
	for _, t := range tests {
		if t.action == "" {
			t.action = "unfinished"
		}
		counts[t.action]++
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b *testResult) int {
		return cmp.Or(cmp.Compare(b.wall, a.wall), cmp.Compare(a.pkg, b.pkg), cmp.Compare(a.name, b.name))
	})
	fmt.Printf("Slowest tests: wall seconds (a test's time includes its subtests')\n")
	for _, t := range all[:min(*top, len(all))] {
		fmt.Printf("%8.1f  %s %s%s\n", t.wall, short(t.pkg), t.name, flagFailed(t.action))
	}
	fmt.Println()

	var called []*testResult
	var sumScripts, sumOwn int
	for _, t := range all {
		if t.hasCalls {
			called = append(called, t)
			sumScripts, sumOwn = sumScripts+t.scripts, sumOwn+t.own
		}
	}
	if len(called) > 0 {
		slices.SortFunc(called, func(a, b *testResult) int {
			return cmp.Or(cmp.Compare(b.scripts+b.own, a.scripts+a.own), cmp.Compare(a.pkg, b.pkg), cmp.Compare(a.name, b.name))
		})
		fmt.Printf("AWS CLI calls by test, most first: by the scripts it ran, by the test itself\n")
		for _, t := range called[:min(*top, len(called))] {
			fmt.Printf("%8d %5d  %s %s\n", t.scripts, t.own, short(t.pkg), t.name)
		}
		fmt.Printf("all tests: %d AWS CLI calls by scripts, %d by the tests, in %d tests\n\n", sumScripts, sumOwn, len(called))
	}

	fmt.Printf("tests: %d passed, %d failed, %d skipped", counts["pass"], counts["fail"], counts["skip"])
	if n := counts["unfinished"]; n > 0 {
		fmt.Printf(", %d unfinished", n)
	}
	fmt.Println()
	failed := counts["fail"] + counts["unfinished"]
	for _, p := range ran {
		if p.action == "fail" {
			failed++
		}
	}
	if failed > 0 {
		return errors.New("some tests failed; see the marked lines")
	}
	return nil
}

func flagFailed(action string) string {
	if action == "pass" || action == "skip" {
		return ""
	}
	return "  [" + strings.ToUpper(action) + "]"
}

// shortener returns a function that drops the module path of go.mod in the
// working directory from package names.
func shortener() func(string) string {
	module := ""
	if b, err := os.ReadFile("go.mod"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "module "); ok {
				module = strings.TrimSpace(rest)
				break
			}
		}
	}
	return func(pkg string) string {
		if module == "" {
			return pkg
		}
		if pkg == module {
			return "."
		}
		return strings.TrimPrefix(pkg, module+"/")
	}
}
