package playbooks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// walk follows path (field names, "[]" for a subscript, "*" for all
// fields) into t. Field names compare without regard to case, as in Hive.
func walk(t *logschema.Type, path []string) error {
	cur := t
	for _, step := range path {
		switch {
		case cur == nil:
			return nil // type unknown: nothing to check
		case step == "[]":
			switch cur.Kind {
			case logschema.Array:
				cur = cur.Elem
			case logschema.Map:
				cur = cur.Value
			default:
				return fmt.Errorf("cannot subscript a %s", kindName(cur))
			}
		case cur.Kind != logschema.Struct:
			return fmt.Errorf("a %s has no field %q", kindName(cur), step)
		case step == "*":
			return nil
		default:
			next, ok := cur.Field(step)
			if !ok {
				return fmt.Errorf("no field %q (fields: %s)", step, strings.Join(fieldNames(cur), ", "))
			}
			cur = next
		}
	}
	return nil
}

// kindName names t's shape in messages: "struct", "array", "map" or the
// primitive's name without parameters.
func kindName(t *logschema.Type) string {
	if t.Kind == logschema.Primitive {
		return t.Base()
	}
	return t.Kind.String()
}

// fieldNames returns a struct's field names, sorted.
func fieldNames(t *logschema.Type) []string {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	sort.Strings(names)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Catalog is the log tables of logschema with parsed column types.
type Catalog struct {
	Database string
	Tables   map[string]map[string]*logschema.Type // table -> column -> type
}

// NewCatalog parses logschema's tables.
func NewCatalog(tables []logschema.Table) (*Catalog, error) {
	c := &Catalog{Database: logschema.Database, Tables: map[string]map[string]*logschema.Type{}}
	for _, t := range tables {
		cols := map[string]*logschema.Type{}
		for _, col := range t.AllColumns() {
			typ, err := logschema.ParseType(col.Type)
			if err != nil {
				return nil, fmt.Errorf("table %s column %s: %w", t.Name, col.Name, err)
			}
			cols[col.Name] = typ
		}
		c.Tables[t.Name] = cols
	}
	return c, nil
}

// baseRef is a log table a query reads, resolved.
type baseRef struct {
	TableRef
	table     string // logschema table name
	qualifier string // alias, or the table name when there is none
}

// CheckQuery checks one query file's text against the catalog and returns
// every problem found, each prefixed with file (and the line when known).
//
// It requires that every table is ir_workshop.<table> (or a bare table
// name) of the catalog or a CTE of the query; that every column, qualified
// column and struct path exists; that every function is one Athena engine 3
// has (from knownFunctions); and that every query block that reads a log
// table filters that table on date_partition in its WHERE or ON clause.
func (c *Catalog) CheckQuery(file, sql string) []error {
	refs, err := ExtractRefs(sql)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", file, err)}
	}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}

	// Tables.
	var bases []baseRef
	for _, t := range refs.Tables {
		name := t.Name
		switch {
		case len(name) == 1 && refs.CTEs[name[0]]:
			if t.Alias != "" {
				refs.Derived[t.Alias] = refs.Derived[name[0]]
			}
			continue
		case len(name) == 3 && name[0] != "awsdatacatalog":
			fail(t.Line, "unknown catalog %q in %s (want awsdatacatalog)", name[0], strings.Join(name, "."))
			continue
		case len(name) >= 2 && name[len(name)-2] != c.Database:
			fail(t.Line, "unknown database %q in %s (want %s)", name[len(name)-2], strings.Join(name, "."), c.Database)
			continue
		case len(name) > 3:
			fail(t.Line, "unknown table %s", strings.Join(name, "."))
			continue
		}
		table := name[len(name)-1]
		if _, ok := c.Tables[table]; !ok {
			fail(t.Line, "unknown table %s (tables of %s: %s)", strings.Join(name, "."), c.Database,
				strings.Join(sortedKeys(c.Tables), ", "))
			continue
		}
		q := t.Alias
		if q == "" {
			q = table
		}
		bases = append(bases, baseRef{TableRef: t, table: table, qualifier: q})
	}

	// Functions.
	for _, f := range refs.Funcs {
		if !knownFunctions[f.Name] {
			fail(f.Line, "unknown function %s() (not in the list of Athena engine 3 functions this check knows)", f.Name)
		}
	}

	// UNNEST column lists: as many names as columns the arguments give.
	for _, name := range sortedKeys(refs.Derived) {
		d := refs.Derived[name]
		if d == nil || !d.Unnest || len(d.Columns) == 0 || refs.CTEs[name] {
			continue
		}
		if types, known := c.unnestColumns(refs, bases, d, d.Block); known && len(types) != len(d.Columns) {
			fail(d.Line, "UNNEST gives %d columns, but its alias names %d (%s): an array of structs unnests into one column per field",
				len(types), len(d.Columns), strings.Join(d.Columns, ", "))
		}
	}

	// Columns.
	satisfied := map[int]bool{} // index in bases -> has a date_partition predicate
	for _, col := range refs.Columns {
		base, err := c.resolve(refs, bases, col)
		if err != nil {
			fail(col.Line, "%s: %v", strings.Join(col.Path, "."), err)
			continue
		}
		last := col.Path[len(col.Path)-1]
		if base >= 0 && last == logschema.DatePartition && col.Filter && col.Compared && bases[base].Block == col.Block {
			satisfied[base] = true
		}
	}
	for i, b := range bases {
		if !satisfied[i] {
			fail(b.Line, "reads %s without a %s predicate in the WHERE or ON clause of the same query block "+
				"(for example %s >= '2026/01/01'), so Athena would scan every partition",
				strings.Join(b.Name, "."), logschema.DatePartition, logschema.DatePartition)
		}
	}
	return errs
}

// resolve checks one column reference and returns the index in bases of the
// log table it reads from, or -1 when it is not a log table column (an
// alias, a CTE or UNNEST column, a lambda parameter) or is ambiguous.
func (c *Catalog) resolve(refs *Refs, bases []baseRef, col ColumnRef) (int, error) {
	path := col.Path
	if len(path) > 2 && path[0] == c.Database {
		path = path[1:]
	}
	head := path[0]

	// Qualified: alias.column[.field...]
	if len(path) >= 2 && path[1] != "[]" {
		if i := findBase(refs, bases, head, col.Block); i >= 0 {
			if path[1] == "*" {
				return i, nil
			}
			typ, ok := c.Tables[bases[i].table][path[1]]
			if !ok {
				return -1, fmt.Errorf("table %s (as %s) has no column %q", bases[i].table, head, path[1])
			}
			return i, walk(typ, path[2:])
		}
		if d, ok := refs.Derived[head]; ok {
			if path[1] == "*" {
				return -1, nil
			}
			if d != nil && d.Unnest {
				return -1, c.walkUnnest(refs, bases, d, path[1], path[2:], col)
			}
			if !c.knownOutput(refs, bases, path[1]) {
				return -1, fmt.Errorf("%s has no column %q that this query defines or that a log table has", head, path[1])
			}
			return -1, nil
		}
	}

	// A name the query itself defines.
	switch {
	case refs.Lambdas[head]:
		return -1, nil
	case refs.Aliases[head] && !c.anyColumn(bases, head):
		return -1, nil
	}
	if u, ok := refs.UnnestColumns[head]; ok {
		return -1, c.walkUnnest(refs, bases, u.Of, head, path[1:], col)
	}

	// A column of a log table read in this block or an enclosing one.
	for b := col.Block; b >= 0; b = refs.Parent[b] {
		var found []int
		for i, base := range bases {
			if base.Block == b {
				if _, ok := c.Tables[base.table][head]; ok {
					found = append(found, i)
				}
			}
		}
		if len(found) > 0 {
			if err := walk(c.Tables[bases[found[0]].table][head], path[1:]); err != nil {
				return -1, err
			}
			if len(found) > 1 {
				return -1, nil // ambiguous in SQL; Athena would say so
			}
			return found[0], nil
		}
		if blockHasBase(bases, b) {
			break // the block reads log tables and none has the column
		}
	}
	if refs.Aliases[head] || refs.Derived[head] != nil {
		return -1, nil
	}
	// Reading from a CTE or subquery: any log table column of the query may
	// have been passed through.
	if !blockChainHasBase(refs, bases, col.Block) && c.anyColumn(bases, head) {
		return -1, nil
	}
	var tables []string
	for _, b := range bases {
		tables = append(tables, b.table)
	}
	if len(tables) == 0 {
		return -1, fmt.Errorf("unknown column %q: the query reads no log table and defines no such name", head)
	}
	return -1, fmt.Errorf("unknown column %q: not a column of %s, nor a name the query defines",
		head, strings.Join(unique(tables), " or "))
}

// unnestColumns returns the columns an UNNEST produces, typed where its
// arguments are plain columns of a log table (nil where not known), as
// Trino makes them: an array of structs gives one column per field, any
// other array one column, a map two (key and value), WITH ORDINALITY one
// more. known is false when an argument's type is not known.
func (c *Catalog) unnestColumns(refs *Refs, bases []baseRef, d *Derived, block int) (types []*logschema.Type, known bool) {
	known = true
	for _, src := range d.Sources {
		typ := c.chainType(refs, bases, src, block)
		switch {
		case typ == nil:
			known = false
			types = append(types, nil)
		case typ.Kind == logschema.Array && typ.Elem != nil && typ.Elem.Kind == logschema.Struct:
			for _, f := range typ.Elem.Fields {
				types = append(types, f.Type)
			}
		case typ.Kind == logschema.Array:
			types = append(types, typ.Elem)
		case typ.Kind == logschema.Map:
			types = append(types, typ.Key, typ.Value)
		default:
			known = false
			types = append(types, nil)
		}
	}
	if d.Ordinality {
		types = append(types, &logschema.Type{Kind: logschema.Primitive, Name: "bigint"})
	}
	return types, known
}

// chainType is the type of a plain identifier chain naming a log table
// column (qualified or not) and a path into it, or nil.
func (c *Catalog) chainType(refs *Refs, bases []baseRef, src []string, block int) *logschema.Type {
	if len(src) == 0 {
		return nil
	}
	var typ *logschema.Type
	rest := src[1:]
	if len(src) >= 2 {
		if i := findBase(refs, bases, src[0], block); i >= 0 {
			typ, rest = c.Tables[bases[i].table][src[1]], src[2:]
		}
	}
	if typ == nil {
		for _, b := range bases {
			if t, ok := c.Tables[b.table][src[0]]; ok {
				typ, rest = t, src[1:]
				break
			}
		}
	}
	for _, step := range rest {
		if typ == nil || typ.Kind != logschema.Struct {
			return nil
		}
		typ, _ = typ.Field(step)
	}
	return typ
}

// walkUnnest checks path into the UNNEST column name.
func (c *Catalog) walkUnnest(refs *Refs, bases []baseRef, d *Derived, name string, path []string, col ColumnRef) error {
	idx := -1
	for k, cn := range d.Columns {
		if cn == name {
			idx = k
		}
	}
	if idx < 0 {
		return fmt.Errorf("UNNEST has no column %q (columns: %s)", name, strings.Join(d.Columns, ", "))
	}
	types, _ := c.unnestColumns(refs, bases, d, col.Block)
	if idx >= len(types) || types[idx] == nil {
		return nil
	}
	return walk(types[idx], path)
}

func (c *Catalog) knownOutput(refs *Refs, bases []baseRef, name string) bool {
	if refs.Aliases[name] || c.anyColumn(bases, name) {
		return true
	}
	for _, d := range refs.Derived {
		for _, col := range d.Columns {
			if col == name {
				return true
			}
		}
	}
	return false
}

func (c *Catalog) anyColumn(bases []baseRef, name string) bool {
	for _, b := range bases {
		if _, ok := c.Tables[b.table][name]; ok {
			return true
		}
	}
	return false
}

// findBase returns the log table that qualifier names, preferring the
// block of the reference and its enclosing blocks.
func findBase(refs *Refs, bases []baseRef, qualifier string, block int) int {
	for b := block; b >= 0; b = refs.Parent[b] {
		for i, base := range bases {
			if base.Block == b && base.qualifier == qualifier {
				return i
			}
		}
	}
	for i, base := range bases {
		if base.qualifier == qualifier {
			return i
		}
	}
	return -1
}

func blockHasBase(bases []baseRef, block int) bool {
	for _, b := range bases {
		if b.Block == block {
			return true
		}
	}
	return false
}

func blockChainHasBase(refs *Refs, bases []baseRef, block int) bool {
	for b := block; b >= 0; b = refs.Parent[b] {
		if blockHasBase(bases, b) {
			return true
		}
	}
	return false
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
