package playbooks

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// scriptMention is any scripts/NAME.sh a playbook names, in prose or code.
var scriptMention = regexp.MustCompile(`scripts/[A-Za-z0-9_.-]+\.sh`)

// playbookMarkdown is playbooks/README.md and every playbook.
func playbookMarkdown(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(repoRoot(t), "playbooks", "README.md")}
	for _, d := range playbookDirs(t) {
		files = append(files, filepath.Join(d, "README.md"))
	}
	return files
}

// TestPlaybookScriptsExist: every scripts/*.sh a playbook names, in prose
// or in a command, exists. A missing script fails the test: the playbook
// would fail the responder.
func TestPlaybookScriptsExist(t *testing.T) {
	root := repoRoot(t)
	named := map[string][]string{}
	for _, f := range playbookMarkdown(t) {
		for _, m := range scriptMention.FindAllString(readFile(t, f), -1) {
			named[m] = append(named[m], rel(t, f))
		}
	}
	if len(named) == 0 {
		t.Fatal("the playbooks name no script")
	}
	for _, script := range slices.Sorted(maps.Keys(named)) {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(script))); err != nil {
			t.Errorf("%s does not exist, but %v name it", script, slices.Compact(slices.Sorted(slices.Values(named[script]))))
		}
	}
}

// optionParsing tells a script that parses options from one that does not
// (a user data script, a library): only the first is ever run with -h.
var optionParsing = regexp.MustCompile(`\bgetopts\b`)

// TestPlaybookCommandsMatchScriptInterfaces: every script a playbook's shell
// commands run exists, is executable, and documents in its usage text
// (script -h, exit 0) every short option the commands pass to it. A missing
// script fails the test.
func TestPlaybookCommandsMatchScriptInterfaces(t *testing.T) {
	root := repoRoot(t)
	flags := map[string]map[string][]string{} // script -> flag -> where
	for _, f := range playbookMarkdown(t) {
		for _, b := range playbook.ParseMarkdown([]byte(readFile(t, f))).Blocks {
			if !slices.Contains(shellBlocks, b.Lang) {
				continue
			}
			for _, call := range scriptCalls(b) {
				if flags[call.Script] == nil {
					flags[call.Script] = map[string][]string{}
				}
				for _, flag := range call.Flags {
					flags[call.Script][flag] = append(flags[call.Script][flag], fmt.Sprintf("%s:%d", rel(t, f), call.Line))
				}
			}
		}
	}
	if len(flags) == 0 {
		t.Fatal("the playbooks' shell commands run no script")
	}
	for _, script := range slices.Sorted(maps.Keys(flags)) {
		t.Run(filepath.Base(script), func(t *testing.T) {
			path := filepath.Join(root, filepath.FromSlash(script))
			info, err := os.Stat(path)
			if err != nil {
				t.Fatalf("%s does not exist, but the playbooks run it with %v (at %v)", script, slices.Sorted(maps.Keys(flags[script])), where(flags[script]))
			}
			if info.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable; the playbooks run it as %s", script, script)
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !optionParsing.Match(src) {
				t.Fatalf("%s parses no options (no getopts): it cannot take %v; not running it", script, slices.Sorted(maps.Keys(flags[script])))
			}
			usage, err := helpText(root, script)
			if err != nil {
				t.Fatalf("bash %s -h: %v\n%s", script, err, usage)
			}
			for _, flag := range slices.Sorted(maps.Keys(flags[script])) {
				documented := regexp.MustCompile(`(^|[^A-Za-z0-9-])` + regexp.QuoteMeta(flag) + `\b`)
				if !documented.MatchString(usage) {
					t.Errorf("%s -h does not document %s, which %v pass", script, flag, flags[script][flag])
				}
			}
		})
	}
}

func where(m map[string][]string) []string {
	var out []string
	for _, locs := range m {
		out = append(out, locs...)
	}
	slices.Sort(out)
	return out
}

// helpText runs `bash script -h` from the repository root without AWS
// credentials, so that a script that ignored -h could not reach AWS.
func helpText(root, script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, "-h")
	cmd.Dir = root
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("no answer within 20 s")
	}
	return string(out), err
}

func TestScriptCallsFindFlags(t *testing.T) {
	block := playbook.Block{Lang: "bash", Open: 6, Text: strings.Join([]string{
		`scripts/contain-access-key.sh -k "$KEY" \`,
		`  -n "$INCIDENT_ID" -p ir-breakglass  # -x is a comment`,
		`IDS=$(bash scripts/get-guardduty-findings.sh -t 'CryptoCurrency:EC2/BitcoinTool.B!DNS' -i) && echo "$IDS" | head -1`,
		`./scripts/isolate-instance.sh -i i-1234567890abcdef0 | tee out.txt -a`,
	}, "\n")}
	var got []string
	for _, c := range scriptCalls(block) {
		got = append(got, c.Script+" "+strings.Join(c.Flags, " "))
	}
	want := []string{
		"scripts/contain-access-key.sh -k -n -p",
		"scripts/get-guardduty-findings.sh -t -i",
		"scripts/isolate-instance.sh -i",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// scriptCall is an invocation of a repository script in a shell block.
type scriptCall struct {
	Script string   // scripts/NAME.sh
	Flags  []string // -x options passed, in order
	Line   int      // line of the code block's opening fence, from 1
}

var (
	scriptRef   = regexp.MustCompile(`(?:^|[\s;&|(=$"'])(?:\./)?(scripts/[A-Za-z0-9_.-]+\.sh)`)
	shortOption = regexp.MustCompile(`^-[A-Za-z]$`)
	// shellComment is a # that starts a word, and the rest of the line.
	shellComment = regexp.MustCompile(`(^|\s)#.*$`)
	// shellBlocks are the languages whose code blocks hold commands to run.
	shellBlocks = []string{"bash", "sh", "shell", "console"}
)

// scriptCalls returns the scripts/*.sh invocations of a shell code block and
// the short options each gets. Continuation lines are joined; an invocation
// ends at ;, &&, ||, |, ), a redirection or a comment.
func scriptCalls(block playbook.Block) []scriptCall {
	text := strings.ReplaceAll(block.Text, "\\\n", " ")
	var out []scriptCall
	for _, line := range strings.Split(text, "\n") {
		line = shellComment.ReplaceAllString(line, "")
		for _, loc := range scriptRef.FindAllStringSubmatchIndex(line, -1) {
			call := scriptCall{Script: line[loc[2]:loc[3]], Line: block.Open + 1}
			for _, word := range strings.Fields(line[loc[3]:]) {
				if strings.ContainsAny(word[:1], ";&|)#><") {
					break
				}
				if w := strings.TrimRight(word, ";)"); shortOption.MatchString(w) {
					call.Flags = append(call.Flags, w)
				}
				if strings.HasSuffix(word, ";") || strings.HasSuffix(word, ")") {
					break
				}
			}
			out = append(out, call)
		}
	}
	return out
}
