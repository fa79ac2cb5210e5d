package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// Check returns an error that names file when the query in it would fail
// or cost too much in Athena, as far as can be told offline. DuckDB's
// parser and binder find syntax errors and unknown tables, columns, struct
// fields and functions; on top of them Check requires what DuckDB accepts
// and Athena does not, or what the playbooks' style asks:
//
//   - an UNNEST's column list names every column it gives (Trino expands
//     an array of rows into one column per field);
//   - every function called is an Athena function (AthenaFunctions), not
//     only a DuckDB one;
//   - every workshop table is read with a date_partition predicate
//     (PartitionCheck);
//   - every output column alias is written with AS.
func (e *Engine) Check(ctx context.Context, file, query string) error {
	if err := e.bind(ctx, query, false); err != nil {
		return fmt.Errorf("%s: does not bind: %w", file, err)
	}
	if err := e.bind(ctx, query, true); err != nil {
		return fmt.Errorf("%s: an UNNEST's column list does not name each of its columns: Athena gives one column per field of an array of rows, and one more WITH ORDINALITY (%w)", file, err)
	}
	statements, err := e.parse(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(statements) != 1 {
		return fmt.Errorf("%s: want one SELECT statement, got %d statements", file, len(statements))
	}
	problems := slices.Concat(functionProblems(statements[0], query), partitionProblems(statements[0]), aliasProblems(statements[0], query))
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", file, strings.Join(problems, "; "))
	}
	return nil
}

// bind checks, without running it, that a statement parses and that every
// table, column and function it names exists in DuckDB; strict as for
// translate.
func (e *Engine) bind(ctx context.Context, query string, strict bool) error {
	query, err := e.translate(ctx, query, strict)
	if err != nil {
		return err
	}
	stmt, err := e.db.PrepareContext(ctx, query)
	if err != nil {
		return cleanError(err)
	}
	return stmt.Close()
}

// parse returns the parse tree of each statement of query, as DuckDB's
// json_serialize_sql gives it.
func (e *Engine) parse(ctx context.Context, query string) ([]any, error) {
	var raw string
	// json_serialize_sql takes only a constant: the query as a literal.
	if err := e.db.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql("+quoteString(query)+") AS VARCHAR)").Scan(&raw); err != nil {
		return nil, cleanError(err)
	}
	var tree struct {
		Error        bool   `json:"error"`
		ErrorMessage string `json:"error_message"`
		Statements   []struct {
			Node any `json:"node"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(raw), &tree); err != nil {
		return nil, fmt.Errorf("reading the parse tree: %w", err)
	}
	if tree.Error {
		return nil, fmt.Errorf("%s", tree.ErrorMessage)
	}
	var out []any
	for _, s := range tree.Statements {
		out = append(out, s.Node)
	}
	return out, nil
}

// PartitionCheck reports, for a query, every scan of a workshop table that
// no date_partition predicate restricts. Athena reads every day of the
// projected range for such a scan: slow, and billed by the byte.
//
// A scan counts as restricted when the WHERE clause of the SELECT that reads
// the table, or an ON condition of its joins, compares date_partition (=, <,
// >, <=, >=, <>, BETWEEN, IN or LIKE), qualified with the table's name or
// alias or unqualified. A predicate that only an outer query applies to a
// subquery's rows does not count: write it where the table is read.
func (e *Engine) PartitionCheck(ctx context.Context, query string) ([]string, error) {
	statements, err := e.parse(ctx, query)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, s := range statements {
		problems = append(problems, partitionProblems(s)...)
	}
	return problems, nil
}

func partitionProblems(statement any) []string {
	logTables := map[string]bool{}
	for _, t := range logschema.Tables() {
		logTables[strings.ToLower(t.Name)] = true
	}
	var problems []string
	walk(statement, func(node map[string]any) {
		if node["type"] != "SELECT_NODE" {
			return
		}
		var scans []scan
		var conditions []any
		collectFrom(node["from_table"], &scans, &conditions)
		conditions = append(conditions, node["where_clause"])
		for _, s := range scans {
			if !logTables[strings.ToLower(s.table)] {
				continue
			}
			if s.schema != "" && !strings.EqualFold(s.schema, logschema.Database) {
				continue
			}
			if !restricts(conditions, s.name()) {
				problems = append(problems, fmt.Sprintf("%s is read without a %s predicate (a comparison on %s in the WHERE clause of the SELECT that reads it)",
					s.describe(), logschema.DatePartition, logschema.DatePartition))
			}
		}
	})
	return problems
}

// scan is a base table in a FROM clause.
type scan struct{ schema, table, alias string }

func (s scan) name() string {
	if s.alias != "" {
		return s.alias
	}
	return s.table
}

func (s scan) describe() string {
	if s.alias != "" && !strings.EqualFold(s.alias, s.table) {
		return fmt.Sprintf("table %s (as %s)", s.table, s.alias)
	}
	return "table " + s.table
}

// collectFrom gathers the base tables of a FROM clause and the ON
// conditions of its joins; subqueries are SELECT nodes of their own.
func collectFrom(from any, scans *[]scan, conditions *[]any) {
	m, ok := from.(map[string]any)
	if !ok {
		return
	}
	switch m["type"] {
	case "BASE_TABLE":
		s := scan{}
		s.schema, _ = m["schema_name"].(string)
		s.table, _ = m["table_name"].(string)
		s.alias, _ = m["alias"].(string)
		*scans = append(*scans, s)
	case "JOIN":
		collectFrom(m["left"], scans, conditions)
		collectFrom(m["right"], scans, conditions)
		*conditions = append(*conditions, m["condition"])
	}
}

// comparisons are the expression classes that can restrict a column.
var comparisons = map[string]bool{"COMPARISON": true, "BETWEEN": true}

// restricts tells whether an expression of conditions compares
// date_partition of the table called name (or an unqualified
// date_partition).
func restricts(conditions []any, name string) bool {
	found := false
	for _, c := range conditions {
		walk(c, func(expr map[string]any) {
			class, _ := expr["class"].(string)
			typ, _ := expr["type"].(string)
			isLike := class == "FUNCTION" && (expr["function_name"] == "~~" || expr["function_name"] == "like")
			if !comparisons[class] && typ != "COMPARE_IN" && !isLike {
				return
			}
			walk(expr, func(ref map[string]any) {
				if ref["class"] != "COLUMN_REF" {
					return
				}
				names, _ := ref["column_names"].([]any)
				if len(names) == 0 {
					return
				}
				col, _ := names[len(names)-1].(string)
				if !strings.EqualFold(col, logschema.DatePartition) {
					return
				}
				if len(names) == 1 {
					found = true
					return
				}
				if q, _ := names[len(names)-2].(string); strings.EqualFold(q, name) {
					found = true
				}
			})
		})
	}
	return found
}

// walk calls visit for every JSON object in v, depth first.
func walk(v any, visit func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		visit(v)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walk(v[k], visit)
		}
	case []any:
		for _, x := range v {
			walk(x, visit)
		}
	}
}

// AthenaFunctions are the Athena (Trino) functions the playbooks' queries
// may call. DuckDB's binder knows DuckDB's functions, not Athena's: a
// function DuckDB has and Athena lacks would pass the rehearsal and fail in
// Athena. Add a function here when a query needs it and Athena has it (see
// the Trino documentation's function list); if DuckDB lacks it or differs,
// add a macro too (Macros).
var AthenaFunctions = []string{
	// aggregate and window
	"approx_distinct", "approx_percentile", "arbitrary", "array_agg", "avg", "bool_and", "bool_or",
	"count", "count_if", "dense_rank", "first_value", "histogram", "lag", "last_value", "lead",
	"map_agg", "max", "max_by", "min", "min_by", "ntile", "rank", "row_number", "stddev", "sum",
	// conditional and conversion
	"coalesce", "if", "nullif", "try", "typeof",
	// strings and regular expressions
	"concat", "format", "length", "levenshtein_distance", "lower", "lpad", "ltrim", "position",
	"regexp_count", "regexp_extract", "regexp_extract_all", "regexp_like", "regexp_replace",
	"regexp_split", "replace", "reverse", "rpad", "rtrim", "split", "split_part", "starts_with",
	"strpos", "substr", "substring", "trim", "upper", "url_extract_host",
	// JSON
	"json_array_contains", "json_array_length", "json_extract", "json_extract_scalar", "json_format",
	"json_parse", "json_query", "json_size", "json_value",
	// arrays and maps
	"all_match", "any_match", "array_distinct", "array_join", "array_max", "array_min", "array_sort",
	"cardinality", "contains", "element_at", "filter", "flatten", "map", "map_keys", "map_values",
	"none_match", "reduce", "row", "sequence", "slice", "transform", "zip",
	// date and time
	"date", "date_add", "date_diff", "date_format", "date_parse", "date_trunc", "day", "day_of_week",
	"format_datetime", "from_iso8601_date", "from_iso8601_timestamp", "from_unixtime", "hour",
	"minute", "month", "now", "parse_datetime", "second", "to_iso8601", "to_unixtime", "year",
	// maths
	"abs", "ceil", "ceiling", "floor", "greatest", "least", "ln", "log2", "mod", "power", "round",
	// binary
	"from_base64", "from_utf8", "to_base64", "to_utf8",
}

// functionProblems reports the functions a query calls by name that are
// not AthenaFunctions. Functions that DuckDB's parser makes of syntax
// (EXTRACT, LIKE, AT TIME ZONE, count(*)) are not written by name in the
// query, and are not checked.
func functionProblems(statement any, query string) []string {
	var problems []string
	walk(statement, func(node map[string]any) {
		if fn, ok := node["function"].(map[string]any); ok && node["type"] == "TABLE_FUNCTION" && fn["function_name"] == "unnest" {
			fn["is_operator"] = true // Trino's UNNEST in FROM: syntax, not a function
		}
		name, _ := node["function_name"].(string)
		if node["class"] != "FUNCTION" || node["is_operator"] == true || name == "" {
			return
		}
		at, ok := location(node, query)
		if !ok || !regexp.MustCompile(`(?i)^"?`+regexp.QuoteMeta(name)+`"?\s*\(`).MatchString(query[at:]) {
			return
		}
		if !slices.Contains(AthenaFunctions, strings.ToLower(name)) {
			problems = append(problems, fmt.Sprintf("%s() is not an Athena function (not in engine.AthenaFunctions)", name))
		}
	})
	return problems
}

// aliasProblems reports output column aliases written without AS (SELECT
// count(*) n), which read as a column name at a glance.
func aliasProblems(statement any, query string) []string {
	var problems []string
	walk(statement, func(node map[string]any) {
		if node["type"] != "SELECT_NODE" {
			return
		}
		items, _ := node["select_list"].([]any)
		for _, item := range items {
			expr, _ := item.(map[string]any)
			alias, _ := expr["alias"].(string)
			if alias == "" {
				continue
			}
			from, _ := location(expr, query)
			if !regexp.MustCompile(`(?i)\bAS\s+("` + regexp.QuoteMeta(alias) + `"|` + regexp.QuoteMeta(alias) + `\b)`).MatchString(query[from:]) {
				problems = append(problems, fmt.Sprintf("output column %s is named without AS: write ... AS %s", alias, alias))
			}
		}
	})
	return problems
}

// location is where in query a node of its parse tree starts, if known.
func location(node map[string]any, query string) (int, bool) {
	at, ok := node["query_location"].(float64)
	if !ok || at < 0 || at >= float64(len(query)) {
		return 0, false
	}
	return int(at), true
}
