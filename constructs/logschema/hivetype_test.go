package logschema

import (
	"reflect"
	"strings"
	"testing"
)

func TestEveryColumnTypeParsesAndRoundTrips(t *testing.T) {
	for _, table := range Tables() {
		for _, c := range table.AllColumns() {
			typ, err := ParseType(c.Type)
			if err != nil {
				t.Errorf("%s.%s: %v", table.Name, c.Name, err)
				continue
			}
			// The Hive form survives the round trip, whitespace aside.
			if got, want := typ.String(), strings.ToLower(strings.ReplaceAll(c.Type, " ", "")); strings.ToLower(got) != want {
				t.Errorf("%s.%s: String() = %s, want %s", table.Name, c.Name, got, want)
			}
			again, err := ParseType(typ.String())
			if err != nil {
				t.Errorf("%s.%s: parsing String() %s: %v", table.Name, c.Name, typ, err)
			} else if !reflect.DeepEqual(again, typ) {
				t.Errorf("%s.%s: ParseType(String()) differs from ParseType(%s)", table.Name, c.Name, c.Type)
			}
		}
	}
}

func TestParseTypeGivesKindsFieldsInOrderElementsKeysAndValues(t *testing.T) {
	typ, err := ParseType("STRUCT< b : array<struct<c:INT>>, A:map<string,decimal(10, 2)>, v:varchar(64), d:decimal >")
	if err != nil {
		t.Fatal(err)
	}
	if typ.Kind != Struct || len(typ.Fields) != 4 {
		t.Fatalf("got %s, want a struct of 4 fields", typ)
	}
	var names []string
	for _, f := range typ.Fields {
		names = append(names, f.Name)
	}
	if want := []string{"b", "A", "v", "d"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields = %v, want %v (declaration order, case kept)", names, want)
	}
	b := typ.Fields[0].Type
	if b.Kind != Array || b.Elem.Kind != Struct || b.Elem.Fields[0].Name != "c" || b.Elem.Fields[0].Type.Name != "int" {
		t.Errorf("b = %s, want array<struct<c:int>>", b)
	}
	a, ok := typ.Field("a")
	if !ok || a.Kind != Map || a.Key.Name != "string" || a.Value.Name != "decimal(10,2)" || a.Value.Base() != "decimal" {
		t.Errorf("Field(a) = %v, %v; want map<string,decimal(10,2)>", a, ok)
	}
	if v, _ := typ.Field("V"); v == nil || v.Kind != Primitive || v.Name != "varchar(64)" || v.Base() != "varchar" {
		t.Errorf("Field(V) = %v, want varchar(64)", v)
	}
	if d, _ := typ.Field("d"); d == nil || d.Name != "decimal" {
		t.Errorf("Field(d) = %v, want decimal", d)
	}
	if _, ok := typ.Field("z"); ok {
		t.Error("Field(z) found a field")
	}
	if got, want := typ.String(), "struct<b:array<struct<c:int>>,A:map<string,decimal(10,2)>,v:varchar(64),d:decimal>"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestParseTypeRejectsMalformedTypes(t *testing.T) {
	for _, s := range []string{"", "strin", "array<string", "array<>", "struct<a string>", "struct<a:string,a:int>",
		"struct<a:string,A:int>", "struct<a:string", "map<string>", "map<array<string>,string>", "varchar",
		"string extra", "decimal(x)"} {
		if typ, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) = %s, want an error", s, typ)
		}
	}
}

func TestPrimitiveNamesParse(t *testing.T) {
	for _, name := range PrimitiveNames() {
		s := name
		if name == "varchar" || name == "char" {
			s += "(8)"
		}
		if typ, err := ParseType(s); err != nil || typ.Kind != Primitive || typ.Base() != name {
			t.Errorf("ParseType(%q) = %v, %v; want the primitive %s", s, typ, err, name)
		}
	}
}
