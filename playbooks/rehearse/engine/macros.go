package engine

import (
	"fmt"
	"strings"
)

// Macro is a DuckDB SQL macro that stands for an Athena (Trino) function
// that DuckDB lacks, or has with other arguments or results. A macro of the
// same name as a DuckDB function hides it; the DuckDB function stays
// reachable as system.main.NAME.
type Macro struct {
	Name string
	// Overloads are the macro's parameter lists, each with its body.
	Overloads []Overload
	// Trino says what the Athena function does.
	Trino string
	// Why says why the macro answers the same over the workshop's logs, and
	// where it would not.
	Why string
}

// Overload is one parameter list of a macro and its SQL body.
type Overload struct {
	Params []string
	Body   string
}

// create returns the statement that creates the macro for the connection.
func (m Macro) create() string {
	parts := make([]string, len(m.Overloads))
	for i, o := range m.Overloads {
		parts[i] = "(" + strings.Join(o.Params, ", ") + ") AS " + o.Body
	}
	return "CREATE OR REPLACE TEMP MACRO " + m.Name + strings.Join(parts, ", ")
}

// mysqlFormat turns the MySQL-style format specifiers of Trino's
// date_format and date_parse into strftime's: %i (minutes) is %M, %s
// (seconds) is %S, %T is %H:%M:%S. %Y %m %d %H %f %p and %j mean the same in
// both. MySQL's %M (month name) has no equivalent here and would read as
// minutes.
func mysqlFormat(f string) string {
	return "replace(replace(replace(" + f + ", '%i', '%M'), '%s', '%S'), '%T', '%H:%M:%S')"
}

// DateParseFormats are the formats that the date_parse macro accepts.
var DateParseFormats = []string{
	"%Y-%m-%d", "%Y/%m/%d", "%Y%m%d",
	"%Y-%m-%d %H:%i:%s", "%Y-%m-%d %H:%i", "%Y/%m/%d %H:%i:%s", "%Y-%m-%d %T",
	"%Y-%m-%dT%H:%i:%sZ", "%Y-%m-%dT%H:%i:%s.%fZ", "%Y-%m-%dT%H:%i:%s",
	"%Y%m%dT%H%iZ",
}

// dateParseBody is the CASE that picks a constant strptime format for
// each of DateParseFormats.
func dateParseBody() string {
	var b strings.Builder
	b.WriteString("CASE f")
	for _, f := range DateParseFormats {
		fmt.Fprintf(&b, " WHEN '%s' THEN strptime(s, '%s')", f,
			strings.NewReplacer("%i", "%M", "%s", "%S", "%T", "%H:%M:%S").Replace(f))
	}
	b.WriteString(" ELSE error('date_parse format ' || f || ' is not one the rehearsal engine knows; add it to engine.DateParseFormats') END")
	return b.String()
}

// Macros are the Trino functions that the engine provides, in the order
// they are created.
var Macros = []Macro{
	{
		Name:      "from_iso8601_timestamp",
		Overloads: []Overload{{[]string{"s"}, "CAST(s AS TIMESTAMPTZ)"}},
		Trino:     "parses an ISO 8601 date-time string such as 2026-03-14T09:12:33Z into a timestamp(3) with time zone, the zone taken from the string",
		Why:       "DuckDB's cast to TIMESTAMPTZ parses the same ISO 8601 forms, honours the offset, and with the session time zone UTC shows the instant in UTC as Athena does; CloudTrail and DNS times are UTC with a Z",
	},
	{
		Name:      "from_iso8601_date",
		Overloads: []Overload{{[]string{"s"}, "CAST(s AS DATE)"}},
		Trino:     "parses an ISO 8601 date string such as 2026-03-14 into a date",
		Why:       "the cast to DATE reads the same yyyy-MM-dd form",
	},
	{
		Name:      "from_unixtime",
		Overloads: []Overload{{[]string{"n"}, "to_timestamp(n)"}},
		Trino:     "turns seconds since the epoch (VPC Flow's start and end) into a timestamp(3) with time zone in the session zone",
		Why:       "DuckDB's to_timestamp gives the same instant as a TIMESTAMPTZ; the session zone is UTC in both",
	},
	{
		Name:      "to_unixtime",
		Overloads: []Overload{{[]string{"ts"}, "epoch(ts)"}},
		Trino:     "returns a timestamp as seconds since the epoch, a double",
		Why:       "DuckDB's epoch returns the same double",
	},
	{
		Name: "json_extract_scalar",
		Overloads: []Overload{{[]string{"j", "p"},
			"CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END"}},
		Trino: "evaluates a JSONPath such as $.userName on a JSON string (requestparameters) and returns the scalar there as varchar: NULL if the path is missing or leads to an object or array",
		Why:   "json_extract_string returns the same text for strings, numbers and booleans and NULL for a missing path or JSON null; the CASE makes objects and arrays NULL as in Trino. Paths are the $.a.b[0] form both accept; Trino's $[\"key\"] form is not supported",
	},
	{
		Name:      "date_parse",
		Overloads: []Overload{{[]string{"s", "f"}, dateParseBody()}},
		Trino:     "parses a string with a MySQL-style format (%Y-%m-%d %H:%i:%s) into a timestamp",
		Why:       "strptime parses the same way with the format's %i, %s and %T rewritten to strftime's %M, %S and %H:%M:%S. DuckDB's strptime takes only a constant format, so the macro knows a fixed list of formats (DateParseFormats) and fails on any other, naming it",
	},
	{
		Name:      "date_format",
		Overloads: []Overload{{[]string{"ts", "f"}, "strftime(ts, " + mysqlFormat("f") + ")"}},
		Trino:     "formats a timestamp with a MySQL-style format (%Y/%m/%d gives a date_partition value)",
		Why:       "strftime formats the same way once %i, %s and %T are rewritten; with the session zone UTC, a timestamp with time zone is formatted in UTC as in Athena",
	},
	{
		Name:      "date_add",
		Overloads: []Overload{{[]string{"unit", "n", "ts"}, "ts + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)"}},
		Trino:     "date_add(unit, value, timestamp) adds value units ('second' to 'year') to a timestamp",
		Why:       "adding the interval 'n unit' gives the same timestamp; on a DATE, DuckDB returns a timestamp where Trino returns a date, which compares the same. DuckDB's own date_add(date, interval) is hidden, as Athena has no such form",
	},
	{
		Name:      "approx_distinct",
		Overloads: []Overload{{[]string{"x"}, "count(DISTINCT x)"}},
		Trino:     "estimates the number of distinct values with HyperLogLog (standard error 2.3%)",
		Why:       "the exact count; Trino's estimate is exact for the few hundred distinct values of the sample incident, where its sketch is still sparse",
	},
	{
		Name:      "regexp_like",
		Overloads: []Overload{{[]string{"s", "p"}, "regexp_matches(s, p)"}},
		Trino:     "tells whether the regular expression matches anywhere in the string",
		Why:       "regexp_matches also matches anywhere (RE2 where Trino has Java regular expressions; the playbooks' patterns mean the same in both)",
	},
	{
		Name: "regexp_extract",
		Overloads: []Overload{
			{[]string{"s", "p"}, "CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p) END"},
			{[]string{"s", "p", "g"}, "CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p, g) END"},
		},
		Trino: "returns the first match of the regular expression (or of its group g), NULL when nothing matches",
		Why:   "DuckDB's regexp_extract returns '' when nothing matches; the CASE makes that NULL as in Trino",
	},
	{
		Name:      "element_at",
		Overloads: []Overload{{[]string{"c", "k"}, "c[k]"}},
		Trino:     "returns the element of an array at a 1-based index (negative counts from the end; NULL out of bounds), or a map's value for a key (NULL if absent)",
		Why:       "DuckDB's subscript does both with the same rules; DuckDB's own element_at takes only maps and returns a list",
	},
	{
		Name: "cardinality",
		Overloads: []Overload{{[]string{"c"},
			"CASE json_type(to_json(c)) WHEN 'ARRAY' THEN json_array_length(to_json(c)) WHEN 'OBJECT' THEN len(json_keys(to_json(c))) END"}},
		Trino: "the number of elements of an array (DNS answers) or entries of a map",
		Why:   "DuckDB's cardinality takes only maps and a macro cannot pick a function by type, so the macro counts the elements of the value's JSON form: an array stays an array, a map becomes an object with one key per entry. NULL stays NULL",
	},
	{
		Name:      "array_distinct",
		Overloads: []Overload{{[]string{"a"}, "list_filter(a, (x, i) -> list_position(a, x) = i)"}},
		Trino:     "removes duplicate values from an array, keeping each value's first occurrence in order",
		Why:       "the filter keeps an element only where it first occurs, in order; DuckDB's own array_distinct returns the values in hash order",
	},
	{
		Name:      "array_join",
		Overloads: []Overload{{[]string{"a", "sep"}, "array_to_string(a, sep)"}},
		Trino:     "joins an array's elements with a separator, skipping NULLs",
		Why:       "array_to_string joins the same way",
	},
	{
		Name:      "day_of_week",
		Overloads: []Overload{{[]string{"ts"}, "isodow(ts)"}},
		Trino:     "ISO day of the week, 1 (Monday) to 7 (Sunday)",
		Why:       "isodow counts the same way; DuckDB's dayofweek would count from Sunday = 0",
	},
}
