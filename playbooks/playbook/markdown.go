package playbook

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Markdown is what the checks and the rehearsal read of a markdown file,
// as goldmark parses it (CommonMark, with GitHub's tables). Line numbers
// count from 0.
type Markdown struct {
	Blocks   []Block
	Headings []Heading
	Links    []Link
	Tables   []MarkdownTable
}

// Block is a fenced code block.
type Block struct {
	Lang   string // the info string's first word, lower-cased: sql, text, bash
	Text   string // the content, without the fences
	Open   int    // line of the opening fence
	Close  int    // line of the closing fence (len(lines) if unclosed)
	Indent string // what precedes the opening fence on its line
	Fence  string // ``` or ~~~, as long as in the file
}

// Heading is a heading, its text without markup.
type Heading struct {
	Level int
	Text  string
	Line  int
}

// MarkdownTable is a table of the markdown (GitHub's pipe tables), its cells'
// text without markup.
type MarkdownTable struct {
	Header []string
	Rows   [][]string
	Line   int // line of the header row
}

// Link is the target of a link, an image or a link reference definition.
type Link struct {
	Target string
	Line   int
}

// ParseMarkdown parses markdown source.
func ParseMarkdown(src []byte) Markdown {
	ctx := parser.NewContext()
	doc := goldmark.New(goldmark.WithExtensions(extension.Table)).Parser().Parse(text.NewReader(src), parser.WithContext(ctx))
	starts := []int{0} // offset of each line
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	lineOf := func(offset int) int {
		n, _ := slices.BinarySearch(starts, offset+1)
		return n - 1
	}
	firstLine := func(n ast.Node) int { // of the first text inside n
		line := -1
		_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
			if t, ok := c.(*ast.Text); ok && entering {
				line = lineOf(t.Segment.Start)
				return ast.WalkStop, nil
			}
			return ast.WalkContinue, nil
		})
		return line
	}

	var md Markdown
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.FencedCodeBlock:
			b := Block{Lang: strings.ToLower(string(n.Language(src)))}
			lines := n.Lines()
			switch {
			case n.Info != nil:
				b.Open = lineOf(n.Info.Segment.Start)
			case lines.Len() > 0:
				b.Open = lineOf(lines.At(0).Start) - 1
			default:
				return ast.WalkSkipChildren, nil // no info, no content: nothing to read
			}
			var body bytes.Buffer
			for i := range lines.Len() {
				seg := lines.At(i)
				body.Write(seg.Value(src))
			}
			b.Text = body.String()
			b.Close = b.Open + 1 + lines.Len()
			open := string(src[starts[b.Open]:])
			at := strings.IndexAny(open, "`~")
			fence := open[at:]
			b.Indent, b.Fence = open[:at], fence[:len(fence)-len(strings.TrimLeft(fence, fence[:1]))]
			md.Blocks = append(md.Blocks, b)
		case *ast.Heading:
			md.Headings = append(md.Headings, Heading{Level: n.Level, Text: plainText(n, src), Line: firstLine(n)})
		case *ast.Link:
			md.Links = append(md.Links, Link{Target: string(n.Destination), Line: firstLine(n)})
		case *ast.Image:
			md.Links = append(md.Links, Link{Target: string(n.Destination), Line: firstLine(n)})
		case *east.Table:
			t := MarkdownTable{Line: -1}
			for row := n.FirstChild(); row != nil; row = row.NextSibling() {
				var cells []string
				for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
					cells = append(cells, strings.TrimSpace(plainText(cell, src)))
					if l := firstLine(cell); t.Line < 0 && l >= 0 {
						t.Line = l
					}
				}
				if _, header := row.(*east.TableHeader); header {
					t.Header = cells
				} else {
					t.Rows = append(t.Rows, cells)
				}
			}
			md.Tables = append(md.Tables, t)
		}
		return ast.WalkContinue, nil
	})
	// Reference definitions are not in the tree; their links are, but an
	// unused definition must resolve too.
	lower := bytes.ToLower(src)
	for _, ref := range ctx.References() {
		at := bytes.Index(lower, bytes.ToLower([]byte("["+string(ref.Label())+"]:")))
		md.Links = append(md.Links, Link{Target: string(ref.Destination()), Line: lineOf(max(at, 0))})
	}
	return md
}

// plainText is the text of a node without markup: code spans and link
// texts are kept, emphasis markers and link targets dropped.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() {
				b.WriteByte(' ')
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// Anchors returns the anchor of every heading as GitHub renders it:
// lower-cased, characters other than letters, digits, spaces, hyphens and
// underscores removed, spaces turned into hyphens, and -1, -2, ... appended
// to repeats.
func (md Markdown) Anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range md.Headings {
		slug := strings.Map(func(r rune) rune {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				return unicode.ToLower(r)
			case r == ' ':
				return '-'
			}
			return -1
		}, h.Text)
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}
