package playbooks

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// MarkdownFiles returns the markdown files under root, skipping trees that
// are installed or generated rather than written here.
func MarkdownFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", ".build", "cdk.out":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			out = append(out, path)
		}
		return nil
	})
	return out, err
}

// Line is one line of markdown outside fenced code, with inline code spans
// blanked out so that nothing inside them reads as a link.
type Line struct {
	Number int
	Text   string
}

// CodeBlock is a fenced code block.
type CodeBlock struct {
	Lang string // the info string's first word, lower-cased
	Text string // the content, without the fences
	Line int    // line of the opening fence
}

var fence = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)")

// SplitMarkdown separates prose lines from fenced code blocks.
func SplitMarkdown(md string) ([]Line, []CodeBlock) {
	var lines []Line
	var blocks []CodeBlock
	var cur *CodeBlock
	var marker string
	var body []string
	for i, text := range strings.Split(md, "\n") {
		if cur != nil {
			if strings.HasPrefix(strings.TrimLeft(text, " "), marker) && strings.TrimSpace(strings.Trim(strings.TrimSpace(text), marker[:1])) == "" {
				cur.Text = strings.Join(body, "\n")
				blocks = append(blocks, *cur)
				cur, body = nil, nil
				continue
			}
			body = append(body, text)
			continue
		}
		if m := fence.FindStringSubmatch(text); m != nil {
			cur = &CodeBlock{Lang: strings.ToLower(m[2]), Line: i + 1}
			marker = m[1]
			continue
		}
		lines = append(lines, Line{Number: i + 1, Text: blankCodeSpans(text)})
	}
	return lines, blocks
}

var codeSpan = regexp.MustCompile("`+[^`]*`+")

func blankCodeSpans(s string) string {
	return codeSpan.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat(" ", len(m)) })
}

// Link is a link or image target in markdown prose.
type Link struct {
	Target string
	Line   int
	Image  bool
}

var (
	inlineLink = regexp.MustCompile(`(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refDef     = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
)

// Links returns the inline links, images and reference definitions.
func Links(md string) []Link {
	lines, _ := SplitMarkdown(md)
	var out []Link
	for _, l := range lines {
		for _, m := range inlineLink.FindAllStringSubmatch(l.Text, -1) {
			out = append(out, Link{Target: m[2], Line: l.Number, Image: m[1] == "!"})
		}
		if m := refDef.FindStringSubmatch(l.Text); m != nil {
			out = append(out, Link{Target: m[1], Line: l.Number})
		}
	}
	return out
}

// IsRelative reports whether a link target points into the repository.
func IsRelative(target string) bool {
	if strings.HasPrefix(target, "//") {
		return false
	}
	if i := strings.IndexAny(target, ":/#?"); i >= 0 && target[i] == ':' {
		return false // scheme: http:, https:, mailto:, ...
	}
	return true
}

// Heading is an ATX heading.
type Heading struct {
	Level int
	Text  string
	Line  int
}

var atx = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)

// Headings returns the ATX headings outside code blocks.
func Headings(md string) []Heading {
	lines, _ := SplitMarkdown(md)
	raw := strings.Split(md, "\n")
	var out []Heading
	for _, l := range lines {
		// Headings keep their code spans as text: match the raw line.
		if m := atx.FindStringSubmatch(raw[l.Number-1]); m != nil {
			out = append(out, Heading{Level: len(m[1]), Text: m[2], Line: l.Number})
		}
	}
	return out
}

var mdLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// Anchors returns the anchor of every heading as GitHub renders it:
// markup dropped, lower-cased, characters other than letters, digits,
// spaces, hyphens and underscores removed, spaces turned into hyphens, and
// -1, -2, ... appended to repeats.
func Anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range Headings(md) {
		text := mdLinkText.ReplaceAllString(h.Text, "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			out[slug+"-"+itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// ScriptCall is an invocation of a repository script in a shell block.
type ScriptCall struct {
	Script string   // scripts/NAME.sh
	Flags  []string // -x options passed, in order
	Line   int      // line of the code block's opening fence
}

var (
	scriptRef   = regexp.MustCompile(`(?:^|[\s;&|(=$"'])(?:\./)?(scripts/[A-Za-z0-9_.-]+\.sh)`)
	shortOption = regexp.MustCompile(`^-[A-Za-z]$`)
	// shellComment is a # that starts a word, and the rest of the line.
	shellComment = regexp.MustCompile(`(^|\s)#.*$`)
)

// ShellBlocks are the languages whose code blocks hold commands to run.
var ShellBlocks = setOf("bash", "sh", "shell", "console")

// ScriptCalls returns the scripts/*.sh invocations of a shell code block and
// the short options each gets. Continuation lines are joined; an invocation
// ends at ;, &&, ||, |, ), a redirection or a comment.
func ScriptCalls(block CodeBlock) []ScriptCall {
	text := strings.ReplaceAll(block.Text, "\\\n", " ")
	var out []ScriptCall
	for _, line := range strings.Split(text, "\n") {
		line = shellComment.ReplaceAllString(line, "")
		for _, loc := range scriptRef.FindAllStringSubmatchIndex(line, -1) {
			call := ScriptCall{Script: line[loc[2]:loc[3]], Line: block.Line}
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
