package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the shape of a Hive type.
type Kind int

const (
	// Primitive is a scalar type: string, int, bigint, boolean, double...
	Primitive Kind = iota + 1
	// Struct is struct<name:type,...>.
	Struct
	// Array is array<type>.
	Array
	// Map is map<key,value>.
	Map
)

// HiveType is a parsed Hive type string, as Glue stores a column's type.
type HiveType struct {
	Kind Kind
	// Name is a primitive type's name, lower case, with its parameters:
	// "string", "bigint", "decimal(10,2)", "varchar(64)".
	Name string
	// Fields are a struct's fields, in order.
	Fields []HiveField
	// Elem is an array's element type.
	Elem *HiveType
	// Key and Value are a map's key and value types.
	Key, Value *HiveType
}

// HiveField is a field of a struct type.
type HiveField struct {
	Name string
	Type *HiveType
}

// ParseHiveType parses a Hive type string such as
// "array<struct<arn:string,type:string>>". Names are case-insensitive, as in
// Hive; field names keep the case they are written in.
func ParseHiveType(s string) (*HiveType, error) {
	p := &typeParser{s: s}
	t, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("hive type %q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("hive type %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return t, nil
}

// primitives maps each Hive primitive type to its DuckDB type.
var primitives = map[string]string{
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

type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

// word reads a name: letters, digits and underscores.
func (p *typeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *typeParser) expect(c byte) error {
	p.space()
	if p.i >= len(p.s) {
		return fmt.Errorf("want %q, got the end", c)
	}
	if p.s[p.i] != c {
		return fmt.Errorf("want %q at offset %d, got %q", c, p.i, p.s[p.i])
	}
	p.i++
	return nil
}

func (p *typeParser) peek() byte {
	p.space()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *typeParser) parse() (*HiveType, error) {
	at := p.i
	name := strings.ToLower(p.word())
	if name == "" {
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("want a type, got the end")
		}
		return nil, fmt.Errorf("want a type at offset %d, got %q", at, p.s[p.i])
	}
	switch name {
	case "struct":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		t := &HiveType{Kind: Struct}
		seen := map[string]bool{}
		for {
			field := p.word()
			if field == "" {
				return nil, fmt.Errorf("want a field name at offset %d", p.i)
			}
			if seen[strings.ToLower(field)] {
				return nil, fmt.Errorf("field %s twice", field)
			}
			seen[strings.ToLower(field)] = true
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			ft, err := p.parse()
			if err != nil {
				return nil, err
			}
			t.Fields = append(t.Fields, HiveField{Name: field, Type: ft})
			if p.peek() == ',' {
				p.i++
				continue
			}
			return t, p.expect('>')
		}
	case "array":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		elem, err := p.parse()
		if err != nil {
			return nil, err
		}
		return &HiveType{Kind: Array, Elem: elem}, p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		key, err := p.parse()
		if err != nil {
			return nil, err
		}
		if key.Kind != Primitive {
			return nil, fmt.Errorf("map key must be a primitive type, got %s", key)
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		value, err := p.parse()
		if err != nil {
			return nil, err
		}
		return &HiveType{Kind: Map, Key: key, Value: value}, p.expect('>')
	}
	if _, ok := primitives[name]; !ok {
		return nil, fmt.Errorf("unknown type %s", name)
	}
	t := &HiveType{Kind: Primitive, Name: name}
	switch name {
	case "decimal", "varchar", "char":
		if p.peek() != '(' {
			if name != "decimal" {
				return nil, fmt.Errorf("%s needs a length", name)
			}
			return t, nil
		}
		p.i++
		var args []string
		for {
			n := p.word()
			if _, err := strconv.Atoi(n); err != nil {
				return nil, fmt.Errorf("%s: want a number at offset %d", name, p.i)
			}
			args = append(args, n)
			if p.peek() == ',' && name == "decimal" && len(args) == 1 {
				p.i++
				continue
			}
			break
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		t.Name = name + "(" + strings.Join(args, ",") + ")"
	}
	return t, nil
}

// base returns a primitive's name without parameters.
func (t *HiveType) base() string {
	name, _, _ := strings.Cut(t.Name, "(")
	return name
}

// String returns the type in Hive syntax.
func (t *HiveType) String() string {
	switch t.Kind {
	case Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.String()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case Array:
		return "array<" + t.Elem.String() + ">"
	case Map:
		return "map<" + t.Key.String() + "," + t.Value.String() + ">"
	}
	return t.Name
}

// DuckDB returns the DuckDB type that holds the Hive type's values:
// string→VARCHAR, int→INTEGER, bigint→BIGINT, struct<a:t>→STRUCT("a" T),
// array<t>→T[], map<k,v>→MAP(K, V).
func (t *HiveType) DuckDB() string {
	switch t.Kind {
	case Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = QuoteIdent(f.Name) + " " + f.Type.DuckDB()
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case Array:
		return t.Elem.DuckDB() + "[]"
	case Map:
		return "MAP(" + t.Key.DuckDB() + ", " + t.Value.DuckDB() + ")"
	}
	if t.base() == "decimal" {
		if _, args, ok := strings.Cut(t.Name, "("); ok {
			return "DECIMAL(" + args
		}
		return "DECIMAL(10,0)" // Hive's default precision and scale
	}
	return primitives[t.base()]
}

// QuoteIdent quotes an SQL identifier for DuckDB.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
