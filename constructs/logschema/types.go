package logschema

import "strings"

// Kind is the shape of a column Type.
type Kind int

// The kinds of Type: the primitives the tables use, and the three nested
// shapes.
const (
	KindString Kind = iota + 1
	KindInt
	KindBigInt
	KindStruct
	KindArray
	KindMap
)

// Type is a column's type, written once here and rendered for each system
// that reads the tables: Hive syntax for the Glue catalog (Hive), DuckDB's
// for the offline rehearsal (DuckDB).
type Type struct {
	Kind Kind
	// Fields are a struct's fields, in order.
	Fields []Field
	// Elem is an array's element type, or a map's value type.
	Elem *Type
	// Key is a map's key type.
	Key *Type
}

// Field is a field of a struct type. Names are lower-case identifiers.
type Field struct {
	Name string
	Type Type
}

// The primitive types.
var (
	String = Type{Kind: KindString}
	Int    = Type{Kind: KindInt}
	BigInt = Type{Kind: KindBigInt}
)

// primitiveNames are the Hive and the DuckDB name of each primitive.
var primitiveNames = map[Kind]struct{ hive, duckdb string }{
	KindString: {"string", "VARCHAR"},
	KindInt:    {"int", "INTEGER"},
	KindBigInt: {"bigint", "BIGINT"},
}

// Struct is a struct of the fields, in order.
func Struct(fields ...Field) Type { return Type{Kind: KindStruct, Fields: fields} }

// ArrayOf is an array of elem.
func ArrayOf(elem Type) Type { return Type{Kind: KindArray, Elem: &elem} }

// MapOf is a map from key to value.
func MapOf(key, value Type) Type { return Type{Kind: KindMap, Key: &key, Elem: &value} }

// Strings are string fields of the given names, in order.
func Strings(names ...string) []Field {
	out := make([]Field, len(names))
	for i, n := range names {
		out[i] = Field{n, String}
	}
	return out
}

// Hive renders the type as Glue stores it: struct<a:string,b:array<int>>.
func (t Type) Hive() string {
	switch t.Kind {
	case KindStruct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.Hive()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case KindArray:
		return "array<" + t.Elem.Hive() + ">"
	case KindMap:
		return "map<" + t.Key.Hive() + "," + t.Elem.Hive() + ">"
	}
	return primitiveNames[t.Kind].hive
}

// DuckDB renders the type as DuckDB writes it: STRUCT("a" VARCHAR, "b"
// INTEGER[]). Field names are quoted, as some ("type") are keywords.
func (t Type) DuckDB() string {
	switch t.Kind {
	case KindStruct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = `"` + f.Name + `" ` + f.Type.DuckDB()
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case KindArray:
		return t.Elem.DuckDB() + "[]"
	case KindMap:
		return "MAP(" + t.Key.DuckDB() + ", " + t.Elem.DuckDB() + ")"
	}
	return primitiveNames[t.Kind].duckdb
}
