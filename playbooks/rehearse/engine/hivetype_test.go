package engine

import (
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestDuckDBTypeMapsHiveTypes(t *testing.T) {
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
		typ, err := logschema.ParseType(tt.hive)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tt.hive, err)
			continue
		}
		if got := DuckDBType(typ); got != tt.duck {
			t.Errorf("DuckDBType(%q) = %s, want %s", tt.hive, got, tt.duck)
		}
	}
}

func TestEveryHivePrimitiveHasADuckDBType(t *testing.T) {
	for _, name := range logschema.PrimitiveNames() {
		if duckDBPrimitives[name] == "" {
			t.Errorf("Hive type %s has no DuckDB type", name)
		}
	}
}

func TestEveryLogschemaColumnTypeMaps(t *testing.T) {
	for _, table := range logschema.Tables() {
		for _, c := range table.AllColumns() {
			typ, err := logschema.ParseType(c.Type)
			if err != nil {
				t.Errorf("%s.%s: %v", table.Name, c.Name, err)
				continue
			}
			if got := DuckDBType(typ); got == "" {
				t.Errorf("%s.%s: no DuckDB type for %s", table.Name, c.Name, typ)
			}
		}
	}
}
