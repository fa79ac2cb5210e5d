package playbooks

// A small reference extractor for the Athena (Trino) SQL the playbooks keep.
// It is not a parser: it tokenizes a query, follows the paren structure far
// enough to know which query block a token is in, and pulls out what the
// schema check needs:
//
//   - tables named in FROM and JOIN clauses, with their aliases;
//   - the names a query defines itself: CTE names and column lists, output
//     aliases (AS name), subquery and UNNEST aliases and columns, lambda
//     parameters;
//   - every other identifier chain (name.name[...].name) as a column
//     reference, with whether it sits in a WHERE or ON clause next to a
//     comparison;
//   - function calls.
//
// Strings, comments and type names inside CAST are skipped; "quoted"
// identifiers are names like any other ("end" is the flow log column, bare
// END closes a CASE). Keywords and functions come from lists below that
// cover what Athena engine 3 queries typically use; an unknown function is
// reported rather than guessed at.
//
// schema.go then resolves each reference: qualified names through table
// aliases, unqualified ones against the log tables of the same query block
// and the blocks around it, struct paths through the Hive types, and UNNEST
// columns as Trino makes them (an array of structs gives one column per
// field).
//
// Limits, on purpose: it checks names, not syntax or expression types; the
// columns a CTE or subquery passes on are not tracked one by one (a name
// passes if the query defines it or a log table it reads has it); a
// parenthesized join (FROM (a JOIN b)) is not looked into; a reference after
// a closing paren ((expr).field) is not checked; a bare END is always the
// keyword; an alias made without AS in a select list reads as a column and
// is reported, which keeps the style explicit.

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokWord   tokenKind = iota + 1 // bare identifier or keyword, lower-cased
	tokQuoted                      // "quoted identifier", lower-cased as Athena folds it
	tokString                      // 'string literal'
	tokNumber                      // numeric literal
	tokPunct                       // operator or punctuation
)

type token struct {
	kind tokenKind
	text string
	line int
}

func (t token) is(text string) bool {
	return (t.kind == tokWord || t.kind == tokPunct) && t.text == text
}

func (t token) name() bool { return t.kind == tokWord || t.kind == tokQuoted }

// tokenize splits sql into tokens, dropping whitespace and comments.
func tokenize(sql string) ([]token, error) {
	var toks []token
	line := 1
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated /* comment", line)
			}
			line += strings.Count(sql[i:i+2+end], "\n")
			i += end + 4
		case c == '\'' || c == '"':
			start, startLine := i, line
			var b strings.Builder
			i++
			for {
				if i >= len(sql) {
					return nil, fmt.Errorf("line %d: unterminated %c", startLine, c)
				}
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c { // doubled quote escapes itself
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					break
				}
				if sql[i] == '\n' {
					line++
				}
				b.WriteByte(sql[i])
				i++
			}
			if c == '\'' {
				toks = append(toks, token{tokString, b.String(), startLine})
			} else {
				if b.Len() == 0 {
					return nil, fmt.Errorf("line %d: empty quoted identifier at offset %d", startLine, start)
				}
				toks = append(toks, token{tokQuoted, strings.ToLower(b.String()), startLine})
			}
		case isDigit(c) || (c == '.' && i+1 < len(sql) && isDigit(sql[i+1])):
			start := i
			for i < len(sql) && (isDigit(sql[i]) || sql[i] == '.' || sql[i] == 'e' || sql[i] == 'E' ||
				((sql[i] == '+' || sql[i] == '-') && (sql[i-1] == 'e' || sql[i-1] == 'E'))) {
				i++
			}
			toks = append(toks, token{tokNumber, sql[start:i], line})
		case isWordStart(c):
			start := i
			for i < len(sql) && isWordPart(sql[i]) {
				i++
			}
			toks = append(toks, token{tokWord, strings.ToLower(sql[start:i]), line})
		default:
			op := string(c)
			for _, two := range []string{"->", "<=", ">=", "<>", "!=", "||", "=>"} {
				if strings.HasPrefix(sql[i:], two) {
					op = two
					break
				}
			}
			if !strings.Contains("(),.;[]=<>+-*/%?:|!", op[:1]) {
				return nil, fmt.Errorf("line %d: unexpected character %q", line, c)
			}
			toks = append(toks, token{tokPunct, op, line})
			i += len(op)
		}
	}
	return toks, nil
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isWordPart(c byte) bool  { return isWordStart(c) || isDigit(c) }

// clause is the part of a query block a token is in, as far as the checks
// care.
type clause int

const (
	clauseNone clause = iota
	clauseSelect
	clauseFrom
	clauseFilter // WHERE or JOIN ... ON
	clauseOther  // GROUP BY, HAVING, ORDER BY, LIMIT, ...
)

// TableRef is a table named in a FROM or JOIN clause.
type TableRef struct {
	Name  []string // as written, lower-cased: table, db.table or catalog.db.table
	Alias string   // "" when the query gives none
	Block int
	Line  int
}

// Derived is a name a query defines for rows of its own: a CTE, a subquery
// alias or an UNNEST alias.
type Derived struct {
	Columns []string // the column list, when the query spells one out
	// Sources holds, for an UNNEST, the identifier chain of each argument
	// (nil when an argument is not a plain chain), in argument order.
	Sources [][]string
	Unnest  bool
	// Ordinality is set for UNNEST ... WITH ORDINALITY: one more column.
	Ordinality bool
	Line       int
	Block      int
}

// ColumnRef is an identifier chain in an expression: a column, a qualified
// column or a path into a struct. A subscript step is "[]", alias.* ends in
// "*".
type ColumnRef struct {
	Path     []string
	Block    int
	Line     int
	Filter   bool // in a WHERE or ON clause
	Compared bool // an operand of =, <, >, <=, >=, <>, BETWEEN, IN or LIKE
}

// FuncRef is a function call.
type FuncRef struct {
	Name string
	Line int
}

// UnnestColumn is a column that an UNNEST produces.
type UnnestColumn struct {
	Of    *Derived
	Index int // position in Of.Columns
}

// Refs is what a query references and defines.
type Refs struct {
	Tables        []TableRef
	Derived       map[string]*Derived // by alias or CTE name
	UnnestColumns map[string]UnnestColumn
	CTEs          map[string]bool
	Aliases       map[string]bool // output names: AS name, CTE column lists
	Lambdas       map[string]bool
	Columns       []ColumnRef
	Funcs         []FuncRef
	// Parent maps a query block to the block it is nested in (-1 for none).
	Parent map[int]int
}

// annot is what the structural pass learns about one token.
type annot struct {
	block    int
	atScope  bool // at the paren depth of its query block, not inside a call
	clause   clause
	castType bool // part of a type name in CAST(x AS type)
}

type paren struct {
	subquery bool
	opener   string // the word before "(", if any
	castAs   bool   // CAST( ... AS seen: the rest is a type
}

type scope struct {
	block  int
	depth  int // len(parens) inside the scope
	clause clause
}

// ExtractRefs tokenizes sql and extracts its references.
func ExtractRefs(sql string) (*Refs, error) {
	toks, err := tokenize(sql)
	if err != nil {
		return nil, err
	}
	ann, parent, err := annotate(toks)
	if err != nil {
		return nil, err
	}
	e := &extractor{toks: toks, ann: ann, used: make([]bool, len(toks)), refs: &Refs{
		Derived: map[string]*Derived{}, UnnestColumns: map[string]UnnestColumn{},
		CTEs: map[string]bool{}, Aliases: map[string]bool{},
		Lambdas: map[string]bool{}, Parent: parent,
	}}
	e.run()
	return e.refs, nil
}

// annotate gives every token its query block, clause and context.
func annotate(toks []token) ([]annot, map[int]int, error) {
	ann := make([]annot, len(toks))
	var parens []paren
	scopes := []scope{{block: 0}}
	parent := map[int]int{0: -1}
	next := 1
	for i, t := range toks {
		top := &scopes[len(scopes)-1]
		inCast := false
		for _, p := range parens {
			inCast = inCast || p.castAs
		}
		ann[i] = annot{block: top.block, atScope: len(parens) == top.depth, clause: top.clause, castType: inCast}
		switch {
		case t.is("("):
			p := paren{}
			if i > 0 && toks[i-1].kind == tokWord {
				p.opener = toks[i-1].text
			}
			if i+1 < len(toks) && (toks[i+1].is("select") || toks[i+1].is("with") || toks[i+1].is("values")) {
				p.subquery = true
			}
			parens = append(parens, p)
			if p.subquery {
				parent[next] = top.block
				scopes = append(scopes, scope{block: next, depth: len(parens), clause: clauseNone})
				next++
			}
		case t.is(")"):
			if len(parens) == 0 {
				return nil, nil, fmt.Errorf("line %d: unbalanced )", t.line)
			}
			if parens[len(parens)-1].subquery {
				scopes = scopes[:len(scopes)-1]
			}
			parens = parens[:len(parens)-1]
			ann[i].castType = false
		case t.is("as") && len(parens) > 0 && !inCast:
			if p := &parens[len(parens)-1]; p.opener == "cast" || p.opener == "try_cast" {
				p.castAs = true
				ann[i].castType = true
			}
		case t.kind == tokWord && len(parens) == top.depth:
			switch t.text {
			case "union", "intersect", "except":
				parent[next] = parent[top.block]
				top.block = next
				next++
				top.clause = clauseNone
				ann[i].block = top.block
			case "select":
				top.clause = clauseSelect
			case "from", "join":
				if !(t.text == "from" && i > 0 && toks[i-1].is("distinct")) {
					top.clause = clauseFrom
				}
			case "where", "on":
				top.clause = clauseFilter
			case "group", "having", "order", "limit", "offset", "fetch", "window":
				top.clause = clauseOther
			}
			ann[i].clause = top.clause
		}
	}
	if len(parens) != 0 {
		return nil, nil, fmt.Errorf("unbalanced (: %d left open", len(parens))
	}
	return ann, parent, nil
}

type extractor struct {
	toks []token
	ann  []annot
	used []bool
	refs *Refs
}

func (e *extractor) tok(i int) token {
	if i < 0 || i >= len(e.toks) {
		return token{}
	}
	return e.toks[i]
}

// match returns the index of the paren that closes the one at i.
func (e *extractor) match(i int) int {
	depth := 0
	for j := i; j < len(e.toks); j++ {
		switch {
		case e.toks[j].is("("), e.toks[j].is("["):
			depth++
		case e.toks[j].is(")"), e.toks[j].is("]"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(e.toks) - 1
}

func (e *extractor) run() {
	for i, t := range e.toks {
		if e.used[i] || e.ann[i].castType {
			continue
		}
		switch {
		case t.is("with") && !e.tok(i+1).is("ordinality"):
			e.ctes(i)
		case (t.is("from") || t.is("join")) && e.ann[i].atScope && e.ann[i].clause == clauseFrom:
			e.used[i] = true
			j := e.factor(i + 1)
			for t.is("from") && e.tok(j).is(",") {
				j = e.factor(j + 1)
			}
		}
	}
	for i, t := range e.toks {
		if e.used[i] || e.ann[i].castType {
			continue
		}
		switch {
		case t.is("as") && e.tok(i+1).name():
			// An output alias; CAST's AS was consumed as castType context.
			e.used[i], e.used[i+1] = true, true
			e.refs.Aliases[e.tok(i+1).text] = true
		case t.name() && e.tok(i+1).is("->"):
			e.used[i] = true
			e.refs.Lambdas[t.text] = true
		case t.is(")") && e.tok(i+1).is("->"):
			for j := e.open(i) + 1; j < i; j++ {
				if e.toks[j].name() {
					e.used[j] = true
					e.refs.Lambdas[e.toks[j].text] = true
				}
			}
		}
	}
	for i, t := range e.toks {
		if e.used[i] || e.ann[i].castType || !t.name() {
			continue
		}
		if t.kind == tokWord && e.tok(i+1).is("(") {
			if knownFunctions[t.text] || !keywords[t.text] {
				e.refs.Funcs = append(e.refs.Funcs, FuncRef{t.text, t.line})
			}
			e.used[i] = true
			continue
		}
		if t.kind == tokWord && keywords[t.text] {
			continue
		}
		if e.tok(i - 1).is(".") {
			continue // after (expr). : not a chain we can follow
		}
		e.chain(i)
	}
}

// open returns the index of the paren that the one at i closes.
func (e *extractor) open(i int) int {
	depth := 0
	for j := i; j >= 0; j-- {
		switch {
		case e.toks[j].is(")"):
			depth++
		case e.toks[j].is("("):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return 0
}

// ctes reads WITH [RECURSIVE] name [(cols)] AS (...) [, ...].
func (e *extractor) ctes(i int) {
	e.used[i] = true
	j := i + 1
	if e.tok(j).is("recursive") {
		e.used[j] = true
		j++
	}
	for e.tok(j).name() {
		name := e.tok(j).text
		e.used[j] = true
		e.refs.CTEs[name] = true
		d := &Derived{}
		e.refs.Derived[name] = d
		j++
		if e.tok(j).is("(") {
			end := e.match(j)
			for k := j + 1; k < end; k++ {
				if e.toks[k].name() {
					e.used[k] = true
					d.Columns = append(d.Columns, e.toks[k].text)
					e.refs.Aliases[e.toks[k].text] = true
				}
			}
			j = end + 1
		}
		if !e.tok(j).is("as") || !e.tok(j+1).is("(") {
			return
		}
		e.used[j] = true
		j = e.match(j+1) + 1
		if !e.tok(j).is(",") {
			return
		}
		j++
	}
}

// notAlias are the words that can follow a table factor and are not its
// alias.
var notAlias = setOf("where", "join", "inner", "left", "right", "full", "cross", "natural", "on", "using",
	"group", "order", "limit", "offset", "fetch", "union", "intersect", "except", "having", "window",
	"tablesample", "select", "with", "lateral")

// factor reads one table factor starting at j and returns the index after
// it.
func (e *extractor) factor(j int) int {
	t := e.tok(j)
	switch {
	case t.is("lateral") && e.tok(j+1).is("("):
		e.used[j] = true
		return e.factor(j + 1)
	case t.is("("):
		end := e.match(j)
		sub := e.tok(j+1).is("select") || e.tok(j+1).is("with") || e.tok(j+1).is("values")
		alias, cols, next := e.alias(end + 1)
		if sub && alias != "" {
			e.refs.Derived[alias] = &Derived{Columns: cols}
		}
		return next
	case t.is("unnest") && e.tok(j+1).is("("):
		e.used[j] = true
		end := e.match(j + 1)
		d := &Derived{Unnest: true, Line: t.line, Block: e.ann[j].block}
		for _, arg := range e.split(j+2, end) {
			d.Sources = append(d.Sources, e.plainChain(arg[0], arg[1]))
		}
		next := end + 1
		if e.tok(next).is("with") && e.tok(next+1).is("ordinality") {
			e.used[next], e.used[next+1] = true, true
			d.Ordinality = true
			next += 2
		}
		alias, cols, next := e.alias(next)
		d.Columns = cols
		if alias != "" {
			e.refs.Derived[alias] = d
		}
		for k, c := range cols {
			e.refs.UnnestColumns[c] = UnnestColumn{Of: d, Index: k}
		}
		return next
	case t.name():
		ref := TableRef{Block: e.ann[j].block, Line: t.line}
		for {
			e.used[j] = true
			ref.Name = append(ref.Name, e.tok(j).text)
			if e.tok(j+1).is(".") && e.tok(j+2).name() {
				e.used[j+1] = true
				j += 2
				continue
			}
			break
		}
		alias, _, next := e.alias(j + 1)
		ref.Alias = alias
		e.refs.Tables = append(e.refs.Tables, ref)
		return next
	}
	return j
}

// alias reads [AS] alias [(col, ...)] at j.
func (e *extractor) alias(j int) (string, []string, int) {
	if e.tok(j).is("as") {
		e.used[j] = true
		j++
	} else if t := e.tok(j); !t.name() || (t.kind == tokWord && (notAlias[t.text] || keywords[t.text])) {
		return "", nil, j
	}
	if !e.tok(j).name() {
		return "", nil, j
	}
	alias := e.tok(j).text
	e.used[j] = true
	j++
	var cols []string
	if e.tok(j).is("(") {
		end := e.match(j)
		for k := j + 1; k < end; k++ {
			if e.toks[k].name() {
				e.used[k] = true
				cols = append(cols, e.toks[k].text)
			}
		}
		j = end + 1
	}
	return alias, cols, j
}

// split returns the [start, end) token ranges of the comma-separated
// arguments between start and end.
func (e *extractor) split(start, end int) [][2]int {
	var out [][2]int
	depth, from := 0, start
	for k := start; k < end; k++ {
		switch {
		case e.toks[k].is("("), e.toks[k].is("["):
			depth++
		case e.toks[k].is(")"), e.toks[k].is("]"):
			depth--
		case e.toks[k].is(",") && depth == 0:
			out = append(out, [2]int{from, k})
			from = k + 1
		}
	}
	if from < end {
		out = append(out, [2]int{from, end})
	}
	return out
}

// plainChain returns the names of tokens[start:end] when they are exactly
// name(.name)*, else nil.
func (e *extractor) plainChain(start, end int) []string {
	var path []string
	for k := start; k < end; k++ {
		if (k-start)%2 == 0 {
			if !e.toks[k].name() || (e.toks[k].kind == tokWord && keywords[e.toks[k].text]) {
				return nil
			}
			path = append(path, e.toks[k].text)
		} else if !e.toks[k].is(".") {
			return nil
		}
	}
	if (end-start)%2 == 0 {
		return nil
	}
	return path
}

var comparisons = setOf("=", "<", ">", "<=", ">=", "<>", "!=", "between", "in", "like", "not")

// chain records the identifier chain that starts at i.
func (e *extractor) chain(i int) {
	ref := ColumnRef{Path: []string{e.toks[i].text}, Block: e.ann[i].block, Line: e.toks[i].line,
		Filter: e.ann[i].clause == clauseFilter}
	e.used[i] = true
	j := i + 1
	for {
		switch {
		case e.tok(j).is(".") && e.tok(j+1).name():
			e.used[j], e.used[j+1] = true, true
			ref.Path = append(ref.Path, e.tok(j+1).text)
			j += 2
			continue
		case e.tok(j).is(".") && e.tok(j+1).is("*"):
			e.used[j], e.used[j+1] = true, true
			ref.Path = append(ref.Path, "*")
			j += 2
		case e.tok(j).is("["):
			ref.Path = append(ref.Path, "[]")
			// The subscript itself is an expression of its own: leave its
			// tokens for the main loop, and continue after the bracket.
			j = e.match(j) + 1
			continue
		}
		break
	}
	before, after := e.tok(i-1), e.tok(j)
	ref.Compared = (before.kind == tokPunct && comparisons[before.text]) ||
		((after.kind == tokPunct || after.kind == tokWord) && comparisons[after.text])
	e.refs.Columns = append(e.refs.Columns, ref)
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// keywords are words that are never column names in the playbooks' SQL:
// Trino's reserved words plus the non-reserved ones that appear in clauses,
// literals and types. Column names of the log tables (start, action,
// version, region, type, ...) must not be here.
var keywords = setOf(
	"all", "and", "any", "array", "as", "asc", "at", "between", "bigint", "boolean", "both", "by",
	"case", "cast", "char", "cross", "cube", "current", "current_date", "current_time",
	"current_timestamp", "date", "day", "decimal", "desc", "distinct", "double", "else", "end",
	"escape", "except", "exists", "extract", "false", "fetch", "filter", "first", "following", "for",
	"from", "full", "group", "grouping", "having", "hour", "if", "in", "inner", "int", "integer",
	"intersect", "interval", "ipaddress", "is", "join", "json", "last", "lateral", "leading", "left",
	"like", "limit", "localtime", "localtimestamp", "map", "minute", "month", "natural", "next", "not",
	"null", "nulls", "offset", "on", "only", "or", "order", "ordinality", "outer", "over", "partition",
	"preceding", "quarter", "range", "real", "recursive", "right", "rollup", "row", "rows", "second",
	"select", "sets", "smallint", "some", "tablesample", "then", "ties", "time", "timestamp",
	"tinyint", "to", "trailing", "true", "try_cast", "unbounded", "union", "unnest", "using",
	"values", "varbinary", "varchar", "week", "when", "where", "window", "with", "within", "year",
	"zone",
)

// knownFunctions are the Trino functions the playbooks' SQL may call.
// Extend the list when a query needs another one; a name that is neither
// here nor a keyword is reported as unknown, which catches typos.
var knownFunctions = setOf(
	// aggregate and window
	"approx_distinct", "approx_percentile", "arbitrary", "array_agg", "avg", "bool_and", "bool_or",
	"count", "count_if", "dense_rank", "first_value", "histogram", "lag", "last_value", "lead",
	"map_agg", "max", "max_by", "min", "min_by", "ntile", "rank", "row_number", "stddev", "sum",
	// conditional and conversion
	"cast", "coalesce", "if", "nullif", "try", "try_cast", "typeof",
	// strings and regular expressions
	"concat", "length", "levenshtein_distance", "lower", "lpad", "ltrim", "position", "regexp_count",
	"regexp_extract", "regexp_extract_all", "regexp_like", "regexp_replace", "regexp_split", "replace",
	"reverse", "rpad", "rtrim", "split", "split_part", "starts_with", "strpos", "substr", "substring",
	"trim", "upper", "url_extract_host", "format",
	// JSON
	"json_array_contains", "json_array_length", "json_extract", "json_extract_scalar", "json_format",
	"json_parse", "json_query", "json_size", "json_value",
	// arrays and maps
	"all_match", "any_match", "array_distinct", "array_join", "array_max", "array_min", "array_sort",
	"cardinality", "contains", "element_at", "filter", "flatten", "map", "map_keys", "map_values",
	"none_match", "reduce", "sequence", "slice", "transform", "zip", "row",
	// date and time
	"date", "date_add", "date_diff", "date_format", "date_parse", "date_trunc", "day", "day_of_week",
	"extract", "format_datetime", "from_iso8601_date", "from_iso8601_timestamp", "from_unixtime",
	"hour", "minute", "month", "now", "parse_datetime", "second", "to_iso8601", "to_unixtime", "year",
	// maths
	"abs", "ceil", "ceiling", "floor", "greatest", "least", "ln", "log2", "mod", "power", "round",
	// binary
	"from_base64", "from_utf8", "to_base64", "to_utf8",
)
