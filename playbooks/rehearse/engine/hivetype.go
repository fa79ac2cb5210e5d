package engine

import (
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// duckDBPrimitives maps each Hive primitive type that logschema.ParseType
// accepts to its DuckDB type.
var duckDBPrimitives = map[string]string{
	"string":    "VARCHAR",
	"varchar":   "VARCHAR",
	"char":      "VARCHAR",
	"tinyint":   "TINYINT",
	"smallint":  "SMALLINT",
	"int":       "INTEGER",
	"integer":   "INTEGER",
	"bigint":    "BIGINT",
	"boolean":   "BOOLEAN",
	"float":     "FLOAT",
	"double":    "DOUBLE",
	"decimal":   "DECIMAL",
	"date":      "DATE",
	"timestamp": "TIMESTAMP",
	"binary":    "BLOB",
}

// DuckDBType returns the DuckDB type that holds a Hive type's values:
// string→VARCHAR, int→INTEGER, bigint→BIGINT, struct<a:t>→STRUCT("a" T),
// array<t>→T[], map<k,v>→MAP(K, V).
func DuckDBType(t *logschema.Type) string {
	switch t.Kind {
	case logschema.Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = QuoteIdent(f.Name) + " " + DuckDBType(f.Type)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case logschema.Array:
		return DuckDBType(t.Elem) + "[]"
	case logschema.Map:
		return "MAP(" + DuckDBType(t.Key) + ", " + DuckDBType(t.Value) + ")"
	}
	if t.Base() == "decimal" {
		if _, args, ok := strings.Cut(t.Name, "("); ok {
			return "DECIMAL(" + args
		}
		return "DECIMAL(10,0)" // Hive's default precision and scale
	}
	return duckDBPrimitives[t.Base()]
}

// QuoteIdent quotes an SQL identifier for DuckDB.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
