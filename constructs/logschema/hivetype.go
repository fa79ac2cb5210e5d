package logschema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file parses the Hive type strings of Column.Type, so that every tool
// reading the schema (the rehearsal engine, the playbook query checks) sees
// the same types. It knows nothing of any engine: mapping a Type to another
// system's types is the caller's business.

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

// String returns the kind's name in lower case: "primitive", "struct",
// "array" or "map".
func (k Kind) String() string {
	switch k {
	case Primitive:
		return "primitive"
	case Struct:
		return "struct"
	case Array:
		return "array"
	case Map:
		return "map"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Type is a parsed Hive type string, as Glue stores a column's type.
type Type struct {
	Kind Kind
	// Name is a primitive type's name, lower case, with its parameters:
	// "string", "bigint", "decimal(10,2)", "varchar(64)". Empty for the
	// other kinds.
	Name string
	// Fields are a struct's fields, in declaration order.
	Fields []StructField
	// Elem is an array's element type.
	Elem *Type
	// Key and Value are a map's key and value types. The key is always a
	// primitive.
	Key, Value *Type
}

// StructField is a field of a struct type.
type StructField struct {
	Name string // as written in the type string
	Type *Type
}

// primitives are the Hive primitive type names ParseType accepts.
var primitives = map[string]bool{
	"string": true, "varchar": true, "char": true,
	"tinyint": true, "smallint": true, "int": true, "integer": true, "bigint": true,
	"boolean": true, "float": true, "double": true, "decimal": true,
	"date": true, "timestamp": true, "binary": true,
}

// PrimitiveNames returns the names of the Hive primitive types ParseType
// accepts, sorted, without parameters: "bigint", "binary", ... "varchar".
func PrimitiveNames() []string {
	names := make([]string, 0, len(primitives))
	for name := range primitives {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ParseType parses a Hive type string such as
// "array<struct<arn:string,type:string>>". Type names are case-insensitive,
// as in Hive, and blanks between tokens are ignored; field names keep the case
// they are written in. It rejects unknown primitive types, a struct naming a
// field twice (case aside), a map whose key is not a primitive, varchar and
// char without a length, and any text after the type.
func ParseType(s string) (*Type, error) {
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

// Base returns a primitive's name without its parameters: "decimal" for
// decimal(10,2). Empty for the other kinds.
func (t *Type) Base() string {
	name, _, _ := strings.Cut(t.Name, "(")
	return name
}

// Field returns the type of a struct's field called name, compared without
// regard to case as Hive does, and whether there is one.
func (t *Type) Field(name string) (*Type, bool) {
	for _, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Type, true
		}
	}
	return nil, false
}

// String returns the type in Hive syntax, without blanks: ParseType of it
// gives an equal Type.
func (t *Type) String() string {
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

func (p *typeParser) parse() (*Type, error) {
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
		t := &Type{Kind: Struct}
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
			t.Fields = append(t.Fields, StructField{Name: field, Type: ft})
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
		return &Type{Kind: Array, Elem: elem}, p.expect('>')
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
		return &Type{Kind: Map, Key: key, Value: value}, p.expect('>')
	}
	if !primitives[name] {
		return nil, fmt.Errorf("unknown type %s", name)
	}
	t := &Type{Kind: Primitive, Name: name}
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
