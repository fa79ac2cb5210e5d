package playbooks

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestTokenizeSkipsStringsCommentsAndKeepsQuotedNames(t *testing.T) {
	sql := "-- eventname in a comment\nSELECT \"End\", 'it''s -- not a comment' /* nor\n this */ FROM t"
	toks, err := tokenize(sql)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.text)
	}
	want := []string{"select", "end", ",", "it's -- not a comment", "from", "t"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	if toks[1].kind != tokQuoted || toks[3].kind != tokString {
		t.Errorf("kinds = %v, %v; want a quoted name and a string", toks[1].kind, toks[3].kind)
	}
	if toks[5].line != 3 {
		t.Errorf("FROM t is on line %d, want 3", toks[5].line)
	}
}

func TestTokenizeRejectsUnterminatedText(t *testing.T) {
	for _, sql := range []string{"SELECT 'open", "SELECT \"open", "SELECT 1 /* open"} {
		if _, err := tokenize(sql); err == nil {
			t.Errorf("tokenize(%q) succeeded, want an error", sql)
		}
	}
}

func TestExtractRefsFindsTablesAliasesAndColumns(t *testing.T) {
	sql := `
WITH keys (key_id) AS (
  SELECT json_extract_scalar(responseelements, '$.accessKey.accessKeyId')
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01' AND eventname = 'CreateAccessKey'
)
SELECT ct.eventtime, ct.useridentity.accesskeyid AS key_used,
       CAST(ct.eventtime AS varchar) AS t,
       transform(ct.resources, r -> r.arn) AS arns,
       extract(hour FROM from_iso8601_timestamp(ct.eventtime)) AS h
FROM ir_workshop.cloudtrail_logs AS ct
JOIN keys k ON ct.useridentity.accesskeyid = k.key_id
WHERE ct.date_partition BETWEEN '2026/01/01' AND '2026/01/31'
ORDER BY key_used`
	refs, err := ExtractRefs(sql)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tr := range refs.Tables {
		tables = append(tables, strings.Join(tr.Name, ".")+" as "+tr.Alias)
	}
	wantTables := []string{"ir_workshop.cloudtrail_logs as ", "ir_workshop.cloudtrail_logs as ct", "keys as k"}
	if !reflect.DeepEqual(tables, wantTables) {
		t.Errorf("tables = %q, want %q", tables, wantTables)
	}
	if !refs.CTEs["keys"] || !refs.Aliases["key_id"] || !refs.Aliases["key_used"] || !refs.Lambdas["r"] {
		t.Errorf("CTEs %v, aliases %v, lambdas %v: want keys, key_id and key_used, r", refs.CTEs, refs.Aliases, refs.Lambdas)
	}
	if refs.Aliases["varchar"] {
		t.Error("the type in CAST(... AS varchar) was taken for an output alias")
	}
	var cols []string
	for _, c := range refs.Columns {
		cols = append(cols, strings.Join(c.Path, "."))
	}
	sort.Strings(cols)
	want := []string{
		"ct.date_partition", "ct.eventtime", "ct.eventtime", "ct.eventtime", "ct.resources",
		"ct.useridentity.accesskeyid", "ct.useridentity.accesskeyid", "date_partition", "eventname",
		"k.key_id", "key_used", "r.arn", "responseelements",
	}
	if !reflect.DeepEqual(cols, want) {
		t.Errorf("columns = %q\nwant %q", cols, want)
	}
	for _, c := range refs.Columns {
		if strings.HasSuffix(strings.Join(c.Path, "."), "date_partition") && !(c.Filter && c.Compared) {
			t.Errorf("%v: want it seen as a filter predicate", c)
		}
	}
}

func TestCheckQueryAcceptsValidQueries(t *testing.T) {
	c := catalog(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "queries", "good_*.sql"))
	if len(files) == 0 {
		t.Fatal("no testdata/queries/good_*.sql")
	}
	for _, f := range files {
		for _, err := range c.CheckQuery(f, readFile(t, f)) {
			t.Errorf("want no problem, got: %v", err)
		}
	}
}

// TestCheckQueryRejectsBadQueries proves that the checker catches what it
// is for: each bad_*.sql file breaks one rule.
func TestCheckQueryRejectsBadQueries(t *testing.T) {
	c := catalog(t)
	cases := map[string][]string{
		"bad_no_date_partition.sql":           {"reads ir_workshop.cloudtrail_logs without a date_partition predicate"},
		"bad_date_partition_in_select.sql":    {"without a date_partition predicate"},
		"bad_date_partition_other_block.sql":  {"reads ir_workshop.dns_query_logs without a date_partition predicate"},
		"bad_join_one_side_filtered.sql":      {"reads ir_workshop.vpc_flow_logs without a date_partition predicate"},
		"bad_unknown_column.sql":              {`eventnme: unknown column "eventnme"`},
		"bad_column_of_other_table.sql":       {`query_name: unknown column "query_name": not a column of cloudtrail_logs`},
		"bad_qualified_unknown_column.sql":    {`table vpc_flow_logs (as f) has no column "dst_port"`},
		"bad_unknown_struct_field.sql":        {`useridentity.accesskey: no field "accesskey"`},
		"bad_field_of_string.sql":             {`eventname.foo: a string has no field "foo"`},
		"bad_unknown_table.sql":               {"unknown table ir_workshop.cloudtrail"},
		"bad_unknown_database.sql":            {`unknown database "default"`},
		"bad_unknown_function.sql":            {"unknown function json_extract_scaler()"},
		"bad_unnest_one_alias_for_struct.sql": {"UNNEST gives 3 columns, but its alias names 1 (answer)"},
		"bad_unnest_unknown_column.sql":       {`t.ip: UNNEST has no column "ip"`},
		"bad_alias_without_as.sql":            {`unknown column "n"`},
		"bad_unbalanced.sql":                  {"unbalanced"},
		"bad_date_partition_not_compared.sql": {"without a date_partition predicate"},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "queries", "bad_*.sql"))
	if len(files) != len(cases) {
		t.Errorf("%d bad_*.sql files, %d cases: keep them in step", len(files), len(cases))
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "queries", name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			errs := c.CheckQuery(path, string(raw))
			if len(errs) == 0 {
				t.Fatalf("%s: no problem found, want %q", path, wants)
			}
			var msgs []string
			for _, e := range errs {
				if !strings.HasPrefix(e.Error(), path+":") {
					t.Errorf("message %q does not start with the file name", e)
				}
				msgs = append(msgs, e.Error())
			}
			all := strings.Join(msgs, "\n")
			for _, w := range wants {
				if !strings.Contains(all, w) {
					t.Errorf("problems:\n%s\nwant one containing %q", all, w)
				}
			}
		})
	}
}

func TestWalkFollowsStructsArraysAndMaps(t *testing.T) {
	typ, err := logschema.ParseType("struct<a:string,b:array<struct<c:int>>,m:map<string,struct<d:string>>,x:decimal(10,2)>")
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range [][]string{{"a"}, {"b", "[]", "c"}, {"m", "[]", "d"}, {"x"}, {"*"}} {
		if err := walk(typ, ok); err != nil {
			t.Errorf("walk %v: %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"z"}, {"a", "b"}, {"b", "c"}, {"a", "[]"}} {
		if err := walk(typ, bad); err == nil {
			t.Errorf("walk %v succeeded, want an error", bad)
		}
	}
	if _, err := logschema.ParseType("struct<a:string"); err == nil {
		t.Error("parsing an unclosed struct succeeded")
	}
}
