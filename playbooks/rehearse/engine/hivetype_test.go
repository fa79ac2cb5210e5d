package engine

import (
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestParseHiveTypeMapsToDuckDBTypes(t *testing.T) {
	tests := []struct{ hive, duck string }{
		{"string", "VARCHAR"},
		{"INT", "INTEGER"},
		{"bigint", "BIGINT"},
		{"boolean", "BOOLEAN"},
		{"double", "DOUBLE"},
		{"varchar(64)", "VARCHAR"},
		{"decimal(10,2)", "DECIMAL(10,2)"},
		{"decimal", "DECIMAL(10,0)"},
		{"timestamp", "TIMESTAMP"},
		{"array<string>", "VARCHAR[]"},
		{"map<string,string>", "MAP(VARCHAR, VARCHAR)"},
		{"map<string, array<int>>", "MAP(VARCHAR, INTEGER[])"},
		{"struct<type:string,n:bigint>", `STRUCT("type" VARCHAR, "n" BIGINT)`},
		{"array<struct<arn:string,accountid:string,type:string>>", `STRUCT("arn" VARCHAR, "accountid" VARCHAR, "type" VARCHAR)[]`},
		{"struct<a:struct<b:map<string,string>>>", `STRUCT("a" STRUCT("b" MAP(VARCHAR, VARCHAR)))`},
	}
	for _, tt := range tests {
		typ, err := ParseHiveType(tt.hive)
		if err != nil {
			t.Errorf("ParseHiveType(%q): %v", tt.hive, err)
			continue
		}
		if got := typ.DuckDB(); got != tt.duck {
			t.Errorf("ParseHiveType(%q).DuckDB() = %s, want %s", tt.hive, got, tt.duck)
		}
	}
}

func TestParseHiveTypeRejectsMalformedTypes(t *testing.T) {
	for _, s := range []string{"", "strin", "array<string", "array<>", "struct<a string>", "struct<a:string,a:int>",
		"map<string>", "map<array<string>,string>", "varchar", "string extra", "decimal(x)"} {
		if typ, err := ParseHiveType(s); err == nil {
			t.Errorf("ParseHiveType(%q) = %s, want an error", s, typ)
		}
	}
}

func TestEveryLogschemaColumnTypeParses(t *testing.T) {
	for _, table := range logschema.Tables() {
		for _, c := range table.AllColumns() {
			typ, err := ParseHiveType(c.Type)
			if err != nil {
				t.Errorf("%s.%s: %v", table.Name, c.Name, err)
				continue
			}
			// The Hive form survives the round trip, whitespace aside.
			if got, want := typ.String(), strings.ToLower(strings.ReplaceAll(c.Type, " ", "")); strings.ToLower(got) != want {
				t.Errorf("%s.%s: String() = %s, want %s", table.Name, c.Name, got, want)
			}
		}
	}
}
