package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// translate rewrites the one Trino form whose meaning DuckDB's parser
// accepts but changes: UNNEST in a FROM clause. Trino expands an array of
// rows into one column per field, so that
//
//	CROSS JOIN UNNEST(d.answers) AS a (rdata, answer_type, answer_class)
//
// names the three fields of each DNS answer; DuckDB would give one STRUCT
// column and take the first alias for it. Each such UNNEST(x, ...) [WITH
// ORDINALITY] [AS] alias [(columns)] becomes
//
//	LATERAL (SELECT unnest(x, recursive := true), ... [, generate_subscripts(x, 1)]) AS alias [(columns)]
//
// which expands a row's fields into columns, zips several arrays as Trino
// does, and numbers the elements for WITH ORDINALITY. Limit: a row whose
// fields are themselves rows or arrays would be expanded further than
// Trino does; the workshop's tables have none (answers and resources hold
// flat rows). The query file is never changed: only the text handed to
// DuckDB.
func (e *Engine) translate(ctx context.Context, query string, strict bool) (string, error) {
	if !strings.Contains(strings.ToLower(query), "unnest") {
		return query, nil
	}
	statements, err := e.parse(ctx, query)
	if err != nil {
		return query, nil // DuckDB reports the syntax error when it runs it
	}
	var starts []int
	for _, st := range statements {
		walk(st, func(m map[string]any) {
			if m["type"] != "TABLE_FUNCTION" {
				return
			}
			fn, _ := m["function"].(map[string]any)
			if name, _ := fn["function_name"].(string); !strings.EqualFold(name, "unnest") {
				return
			}
			if at, ok := location(m, query); ok {
				starts = append(starts, at)
			}
		})
	}
	// Rewrite from the end, so that earlier offsets stay valid.
	slices.Sort(starts)
	slices.Reverse(starts)
	out := query
	for _, start := range starts {
		end, repl, err := unnestRewrite(out, start, strict)
		if err != nil {
			return "", fmt.Errorf("UNNEST at offset %d: %w", start, err)
		}
		out = out[:start] + repl + out[end:]
	}
	return out, nil
}

// unnestRewrite reads UNNEST(args) [WITH ORDINALITY] [AS] alias [(cols)]
// at s[start:] and returns where it ends and its LATERAL form. DuckDB lets
// a column list name fewer columns than there are, where Trino requires
// one name a column: strict makes DuckDB require it too, with an empty
// UNION ALL arm of as many columns as the list names.
func unnestRewrite(s string, start int, strict bool) (int, string, error) {
	i := start
	if !strings.EqualFold(s[i:min(i+6, len(s))], "unnest") {
		return 0, "", fmt.Errorf("no UNNEST at the parser's location")
	}
	i = skipSpace(s, i+6)
	if i >= len(s) || s[i] != '(' {
		return 0, "", fmt.Errorf("UNNEST without (")
	}
	close, err := matchParen(s, i)
	if err != nil {
		return 0, "", err
	}
	args := splitTopLevel(s[i+1 : close])
	end := close + 1
	j := skipSpace(s, end)
	ordinality := false
	if w, k := word(s, j); strings.EqualFold(w, "with") {
		if w2, k2 := word(s, skipSpace(s, k)); strings.EqualFold(w2, "ordinality") {
			ordinality = true
			end = k2
			j = skipSpace(s, end)
		}
	}
	if w, k := word(s, j); strings.EqualFold(w, "as") {
		j = skipSpace(s, k)
	}
	alias := ""
	if j < len(s) && s[j] == '"' {
		k := strings.IndexByte(s[j+1:], '"')
		if k < 0 {
			return 0, "", fmt.Errorf("unterminated quoted alias")
		}
		alias, end = s[j:j+k+2], j+k+2
	} else if w, k := word(s, j); w != "" && !reserved[strings.ToLower(w)] {
		alias, end = w, k
	}
	cols := ""
	if alias != "" {
		if k := skipSpace(s, end); k < len(s) && s[k] == '(' {
			c, err := matchParen(s, k)
			if err != nil {
				return 0, "", err
			}
			cols, end = s[k:c+1], c+1
		}
	}
	var exprs []string
	for _, a := range args {
		exprs = append(exprs, "unnest("+strings.TrimSpace(a)+", recursive := true)")
	}
	if ordinality && len(args) > 0 {
		exprs = append(exprs, "generate_subscripts("+strings.TrimSpace(args[0])+", 1)")
	}
	repl := "LATERAL (SELECT " + strings.Join(exprs, ", ")
	if strict && cols != "" {
		n := len(splitTopLevel(cols[1 : len(cols)-1]))
		repl += " UNION ALL SELECT " + strings.Repeat("NULL, ", n-1) + "NULL WHERE false"
	}
	repl += ")"
	if alias == "" {
		alias = "unnest"
	}
	repl += " AS " + alias
	if cols != "" {
		repl += " " + cols
	}
	return end, repl, nil
}

// reserved are words that end a FROM item rather than name its alias.
var reserved = map[string]bool{
	"where": true, "join": true, "cross": true, "left": true, "right": true, "inner": true, "full": true,
	"on": true, "group": true, "order": true, "limit": true, "union": true, "having": true, "window": true,
	"natural": true, "using": true, "except": true, "intersect": true,
}

// skipSpace skips whitespace and comments.
func skipSpace(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			k := strings.Index(s[i+2:], "*/")
			if k < 0 {
				return len(s)
			}
			i += k + 4
		default:
			return i
		}
	}
	return i
}

// word reads a bare identifier at i.
func word(s string, i int) (string, int) {
	j := i
	for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i && s[j] >= '0' && s[j] <= '9') {
		j++
	}
	return s[i:j], j
}

// matchParen returns the index of the ')' that closes the '(' at i,
// skipping strings, quoted names and comments.
func matchParen(s string, i int) (int, error) {
	depth := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			k := i + 1
			for k < len(s) {
				if s[k] == c {
					if k+1 < len(s) && s[k+1] == c {
						k += 2
						continue
					}
					break
				}
				k++
			}
			i = k + 1
			continue
		case strings.HasPrefix(s[i:], "--") || strings.HasPrefix(s[i:], "/*"):
			i = skipSpace(s, i)
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
		i++
	}
	return 0, fmt.Errorf("unbalanced parentheses")
}

// splitTopLevel splits at commas outside parentheses, strings and names.
func splitTopLevel(s string) []string {
	var parts []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			for i++; i < len(s) && s[i] != c; i++ {
			}
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[from:i])
				from = i + 1
			}
		}
	}
	return append(parts, s[from:])
}
