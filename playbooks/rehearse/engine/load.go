package engine

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// This file loads log files into the tables with DuckDB's own readers,
// read_json_objects and read_csv, keeping what Athena's SerDes do where
// DuckDB's defaults differ: JSON keys match columns and struct fields
// whatever their case, a JSON object in a string column is its JSON text, a
// value that does not fit its column is NULL, the flow log's '-' stays text
// in a string column, header lines are skipped, and partition values come
// from each file's path as partition projection computes them.

// LoadStats counts what Load read: rows and files by table name.
type LoadStats struct {
	Files, Rows map[string]int
}

// Load reads every log file under root, a folder that stands for the log
// bucket (it holds AWSLogs/), into the table whose path template the file's
// path matches; other files are ignored, as are files whose name starts
// with '_' or '.' (Hadoop's hidden files, which Athena skips too). Files
// whose name ends in .gz are gunzipped.
func (e *Engine) Load(ctx context.Context, root string) (LoadStats, error) {
	stats := LoadStats{Files: map[string]int{}, Rows: map[string]int{}}
	root, err := filepath.Abs(root) // clean: the files' paths start with it
	if err != nil {
		return stats, err
	}
	tables := logschema.Tables()
	patterns := make([]*pathPattern, len(tables))
	for i, t := range tables {
		var err error
		if patterns[i], err = compilePath(t); err != nil {
			return stats, err
		}
	}
	files := make([][]string, len(tables))
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "_") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, err := filepath.Rel(root, p)
		for i := range tables {
			if err == nil && patterns[i].re.MatchString(filepath.ToSlash(rel)) {
				files[i] = append(files[i], p)
				break
			}
		}
		return err
	})
	if err != nil {
		return stats, fmt.Errorf("listing log files under %s: %w", root, err)
	}
	for i, t := range tables {
		if len(files[i]) == 0 {
			continue
		}
		query, err := loadQuery(t, patterns[i], root, files[i])
		if err != nil {
			return stats, err
		}
		res, err := e.db.ExecContext(ctx, "INSERT INTO "+qualified(t)+" "+query)
		if err != nil {
			return stats, fmt.Errorf("loading table %s: %w", t.Name, cleanError(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return stats, err
		}
		stats.Files[t.Name], stats.Rows[t.Name] = len(files[i]), int(n)
	}
	return stats, nil
}

// loadQuery is the SELECT that reads a table's files with its SerDe's
// semantics: its data columns, then its partition keys.
func loadQuery(t logschema.Table, p *pathPattern, root string, files []string) (string, error) {
	list := make([]string, len(files))
	for i, f := range files {
		list[i] = quoteString(f)
	}
	from := "[" + strings.Join(list, ", ") + "]"
	var cols []string
	switch t.SerDe {
	case logschema.HiveJSONSerDe, logschema.OpenXJSONSerDe:
		// Each record as JSON, its fields looked up without regard to case
		// (the Hive JSON SerDe does; OpenX does unless case.insensitive is
		// false).
		insensitive := t.SerDe == logschema.HiveJSONSerDe || !strings.EqualFold(t.SerDeParams["case.insensitive"], "false")
		for _, c := range t.Columns {
			cols = append(cols, fromJSON(jsonField("j", c.Name, insensitive, 0), c.Type, insensitive, 1))
		}
		if t.InputFormat == logschema.CloudTrailInputFormat { // {"Records":[...]}: a row a record
			from = fmt.Sprintf("(SELECT filename, unnest(CASE WHEN json_type(%[1]s) = 'ARRAY' THEN CAST(%[1]s AS JSON[]) ELSE error('not a CloudTrail log file (no Records array): ' || filename) END) AS j FROM read_json_objects(%s, format = 'unstructured', filename = true))",
				jsonField("json", "Records", true, 0), from)
		} else { // one object a line
			from = fmt.Sprintf("(SELECT filename, json AS j FROM read_json_objects(%s, format = 'newline_delimited', filename = true))", from)
		}
	case logschema.LazySimpleSerDe:
		// Every field as text, cut at each delimiter without quoting;
		// missing fields and the null format are NULL; text that is not a
		// number in a number column is NULL (TRY_CAST).
		delim, ok := t.SerDeParams["field.delim"]
		if !ok {
			delim = "\x01" // Hive's default field delimiter
		}
		null, ok := t.SerDeParams["serialization.null.format"]
		if !ok {
			null = `\N`
		}
		skip := 0
		if s := t.Parameters["skip.header.line.count"]; s != "" {
			var err error
			if skip, err = strconv.Atoi(s); err != nil || skip < 0 {
				return "", fmt.Errorf("table %s: skip.header.line.count %q is not a count", t.Name, s)
			}
		}
		var types []string
		for _, c := range t.Columns {
			types = append(types, quoteString(c.Name)+": 'VARCHAR'")
			switch c.Type.Kind {
			case logschema.KindString:
				cols = append(cols, QuoteIdent(c.Name))
			case logschema.KindInt, logschema.KindBigInt:
				cols = append(cols, "TRY_CAST("+QuoteIdent(c.Name)+" AS "+c.Type.DuckDB()+")")
			default:
				return "", fmt.Errorf("table %s, column %s: %s from delimited text is not supported", t.Name, c.Name, c.Type.Hive())
			}
		}
		from = fmt.Sprintf("read_csv(%s, delim = %s, skip = %d, header = false, quote = '', escape = '', nullstr = %s, null_padding = true, strict_mode = false, auto_detect = false, columns = {%s}, filename = true)",
			from, quoteString(delim), skip, quoteString(null), strings.Join(types, ", "))
	default:
		return "", fmt.Errorf("table %s: SerDe %s is not one the rehearsal engine reads", t.Name, t.SerDe)
	}
	// Partition values from the file's path under root.
	for _, k := range t.PartitionKeys {
		cols = append(cols, fmt.Sprintf("regexp_extract(substr(filename, %d), %s, %d)", len([]rune(root))+2, quoteString(p.re.String()), p.group[k.Name]))
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + from, nil
}

// jsonField is the JSON of the field name of the JSON object obj: the
// first key that equals name, ignoring case if insensitive. depth names the
// lambda's parameter, so that nested lookups do not shadow each other.
func jsonField(obj, name string, insensitive bool, depth int) string {
	if !insensitive {
		return fmt.Sprintf(`json_extract(%s, %s)`, obj, quoteString(`$."`+name+`"`))
	}
	k := "k" + strconv.Itoa(depth)
	return fmt.Sprintf(`json_extract(%s, '$."' || list_filter(json_keys(%s), %s -> lower(%s) = %s)[1] || '"')`,
		obj, obj, k, k, quoteString(strings.ToLower(name)))
}

// fromJSON is the SQL that converts the JSON value v into type t as the
// Hive JSON SerDes do: JSON null, and a value of another shape than t, is
// NULL; an object or array in a string column is its JSON text (as DuckDB
// writes it: compact, escapes such as \u003c decoded); struct fields are
// looked up as jsonField does.
func fromJSON(v string, t logschema.Type, insensitive bool, depth int) string {
	d := strconv.Itoa(depth)
	switch t.Kind {
	case logschema.KindStruct: // o binds v once for the fields' lookups
		fields := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			fields[i] = quoteString(f.Name) + ": " + fromJSON(jsonField("o"+d, f.Name, insensitive, depth), f.Type, insensitive, depth+1)
		}
		return fmt.Sprintf("list_transform([%s], o%s -> CASE WHEN json_type(o%s) = 'OBJECT' THEN {%s} END)[1]", v, d, d, strings.Join(fields, ", "))
	case logschema.KindArray:
		return fmt.Sprintf("list_transform(TRY_CAST(%s AS JSON[]), e%s -> %s)", v, d, fromJSON("e"+d, *t.Elem, insensitive, depth+1))
	case logschema.KindMap:
		return fmt.Sprintf("map_from_entries(list_transform(map_entries(TRY_CAST(%s AS MAP(VARCHAR, JSON))), e%s -> (TRY_CAST(e%s.key AS %s), %s)))",
			v, d, d, t.Key.DuckDB(), fromJSON("e"+d+".value", *t.Elem, insensitive, depth+1))
	case logschema.KindString:
		return v + " ->> '$'"
	}
	return "TRY_CAST(" + v + " ->> '$' AS " + t.DuckDB() + ")"
}

// quoteString quotes text as an SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// pathPattern matches the key of a file of a table, relative to the bucket,
// and extracts the partition values from it the way Athena's partition
// projection does with storage.location.template: each ${key} of the table's
// PathTemplate is one path segment, except a date key, which spans as many
// segments as its format (yyyy/MM/dd is three). The file may be anywhere
// below the partition's folder.
type pathPattern struct {
	re    *regexp.Regexp
	group map[string]int // the pattern's group of each partition key
}

// compilePath builds the pattern of a table's PathTemplate.
func compilePath(t logschema.Table) (*pathPattern, error) {
	projection := map[string]logschema.Projection{}
	for _, k := range t.PartitionKeys {
		projection[k.Name] = k.Projection
	}
	var b strings.Builder
	b.WriteString("^")
	group := map[string]int{}
	rest := t.PathTemplate
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		end := strings.Index(rest[i:], "}")
		if end < 0 {
			return nil, fmt.Errorf("table %s: unclosed ${ in path template %q", t.Name, t.PathTemplate)
		}
		key := rest[i+2 : i+end]
		p, ok := projection[key]
		if !ok {
			return nil, fmt.Errorf("table %s: path template %q names ${%s}, which is not a partition key", t.Name, t.PathTemplate, key)
		}
		switch p {
		case logschema.ProjectDate:
			b.WriteString("(" + dateRegexp(logschema.DateFormat) + ")")
		default:
			b.WriteString("([^/]+)")
		}
		group[key] = len(group) + 1
		rest = rest[i+end+1:]
	}
	b.WriteString("/(?:.*/)?[^/]+$")
	if len(group) != len(t.PartitionKeys) {
		return nil, fmt.Errorf("table %s: path template %q names %d of its %d partition keys", t.Name, t.PathTemplate, len(group), len(t.PartitionKeys))
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("table %s: path template %q: %w", t.Name, t.PathTemplate, err)
	}
	return &pathPattern{re: re, group: group}, nil
}

// dateRegexp turns a Java date format such as yyyy/MM/dd into a regular
// expression for the text it produces.
func dateRegexp(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		n := 1
		for i+n < len(format) && format[i+n] == c {
			n++
		}
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			fmt.Fprintf(&b, `\d{%d}`, n)
		default:
			b.WriteString(regexp.QuoteMeta(format[i : i+n]))
		}
		i += n
	}
	return b.String()
}
