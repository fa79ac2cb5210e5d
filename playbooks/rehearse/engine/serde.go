package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// The SerDes (serializer/deserializer classes) that the workshop's tables
// name, each read the way Athena reads it.
const (
	cloudTrailSerDe   = "com.amazon.emr.hive.serde.CloudTrailSerde"
	openXJSONSerDe    = "org.openx.data.jsonserde.JsonSerDe"
	lazySimpleSerDe   = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
	defaultNullFormat = `\N`
)

// column is a table column with its parsed type.
type column struct {
	name string
	typ  *logschema.Type
}

// reader turns the content of one file into rows of values for the
// table's data columns (not its partition keys), ready for the appender.
type reader func(data []byte) ([][]any, error)

// readerFor returns the reader of a table's SerDe.
func readerFor(t logschema.Table, cols []column) (reader, error) {
	switch t.SerDe {
	case cloudTrailSerDe:
		return func(data []byte) ([][]any, error) { return readCloudTrail(data, cols) }, nil
	case openXJSONSerDe:
		insensitive := !strings.EqualFold(t.SerDeParams["case.insensitive"], "false") // OpenX's default is true
		return func(data []byte) ([][]any, error) { return readJSONLines(data, cols, insensitive) }, nil
	case lazySimpleSerDe:
		delim := t.SerDeParams["field.delim"]
		if delim == "" {
			delim = "\x01" // Hive's default field delimiter
		}
		nullFormat, ok := t.SerDeParams["serialization.null.format"]
		if !ok {
			nullFormat = defaultNullFormat
		}
		skip := 0
		if s := t.Parameters["skip.header.line.count"]; s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("table %s: skip.header.line.count %q is not a count", t.Name, s)
			}
			skip = n
		}
		return func(data []byte) ([][]any, error) {
			return readDelimited(data, cols, delim, nullFormat, skip)
		}, nil
	}
	return nil, fmt.Errorf("table %s: SerDe %s is not one the rehearsal engine reads", t.Name, t.SerDe)
}

// readCloudTrail reads a CloudTrail log file, {"Records":[...]}, one row per
// record, as the CloudTrail SerDe does: record fields match columns whatever
// their case, and a JSON object or array in a string column (such as
// requestParameters) is kept as its JSON text.
func readCloudTrail(data []byte, cols []column) ([][]any, error) {
	var file map[string]json.RawMessage
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("not a CloudTrail log file: %w", err)
	}
	var records []json.RawMessage
	raw, ok := lookup(file, "Records", true)
	if !ok {
		return nil, fmt.Errorf("not a CloudTrail log file: no Records")
	}
	if err := json.Unmarshal(raw, &records); err != nil {
		return nil, fmt.Errorf("CloudTrail Records: %w", err)
	}
	rows := make([][]any, 0, len(records))
	for i, rec := range records {
		row, err := jsonRow(rec, cols, true)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// readJSONLines reads one JSON object a line, as the OpenX JSON SerDe does.
func readJSONLines(data []byte, cols []column, insensitive bool) ([][]any, error) {
	var rows [][]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		row, err := jsonRow(line, cols, insensitive)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// readDelimited reads delimited text as LazySimpleSerDe does: the first skip
// lines are headers, fields are split at every delimiter, missing fields and
// the null format are NULL, and a number that does not parse is NULL.
func readDelimited(data []byte, cols []column, delim, nullFormat string, skip int) ([][]any, error) {
	var rows [][]any
	lines := strings.Split(string(data), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, line := range lines {
		if i < skip {
			continue
		}
		line = strings.TrimSuffix(line, "\r")
		fields := strings.Split(line, delim)
		row := make([]any, len(cols))
		for j, c := range cols {
			if j >= len(fields) || fields[j] == nullFormat {
				continue
			}
			v, err := textValue(fields[j], c.typ)
			if err != nil {
				return nil, fmt.Errorf("line %d, column %s: %w", i+1, c.name, err)
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// jsonRow converts a JSON object into a row of the columns' values.
func jsonRow(raw []byte, cols []column, insensitive bool) ([]any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	row := make([]any, len(cols))
	for i, c := range cols {
		v, ok := lookup(obj, c.name, insensitive)
		if !ok {
			continue
		}
		val, err := jsonValue(v, c.typ, insensitive)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		row[i] = val
	}
	return row, nil
}

// lookup finds key in obj, ignoring case if insensitive (an exact match
// first).
func lookup(obj map[string]json.RawMessage, key string, insensitive bool) (json.RawMessage, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	if !insensitive {
		return nil, false
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// jsonValue converts a JSON value into the Go value that the DuckDB
// appender takes for t. JSON null is NULL; a value that does not fit the type
// is NULL too, as the Hive JSON SerDes make it, except where noted.
func jsonValue(raw json.RawMessage, t *logschema.Type, insensitive bool) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch t.Kind {
	case logschema.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil, nil
		}
		m := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			m[f.Name] = nil
			if v, ok := lookup(obj, f.Name, insensitive); ok {
				val, err := jsonValue(v, f.Type, insensitive)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", f.Name, err)
				}
				m[f.Name] = val
			}
		}
		return m, nil
	case logschema.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil, nil
		}
		list := make([]any, len(items))
		for i, item := range items {
			v, err := jsonValue(item, t.Elem, insensitive)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			list[i] = v
		}
		return list, nil
	case logschema.Map:
		dec := json.NewDecoder(bytes.NewReader(raw))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, nil
		}
		m := duckdb.OrderedMap{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			key, err := textValue(tok.(string), t.Key)
			if err != nil || key == nil {
				continue
			}
			val, err := jsonValue(v, t.Value, insensitive)
			if err != nil {
				return nil, err
			}
			m.Set(key, val)
		}
		return m, nil
	}
	// A primitive: from a JSON string, number or boolean. An object or
	// array in a string column is its JSON text.
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return textValue(s, t)
	case '{', '[':
		if t.Base() != "string" && t.Base() != "varchar" && t.Base() != "char" {
			return nil, nil
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return b.String(), nil
	}
	return textValue(string(raw), t)
}

// textValue converts text to the appender value of a primitive type; text
// that does not parse as the type is NULL, as in Hive. A nested type from
// text is not supported.
func textValue(s string, t *logschema.Type) (any, error) {
	if t.Kind != logschema.Primitive {
		return nil, fmt.Errorf("%s from delimited text is not supported", t)
	}
	switch t.Base() {
	case "string", "varchar", "char":
		return s, nil
	case "tinyint":
		return parseInt(s, math.MinInt8, math.MaxInt8), nil
	case "smallint":
		return parseInt(s, math.MinInt16, math.MaxInt16), nil
	case "int", "integer":
		return parseInt(s, math.MinInt32, math.MaxInt32), nil
	case "bigint":
		return parseInt(s, math.MinInt64, math.MaxInt64), nil
	case "boolean":
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, nil
	case "float", "double":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, nil
		}
		return f, nil
	case "date":
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, nil
		}
		return d, nil
	case "timestamp":
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
			if ts, err := time.Parse(layout, s); err == nil {
				return ts, nil
			}
		}
		return nil, nil
	case "binary":
		return []byte(s), nil
	}
	return nil, fmt.Errorf("type %s is not supported by the rehearsal engine", t)
}

// parseInt parses a whole number in [lo, hi]; anything else is NULL.
func parseInt(s string, lo, hi int64) any {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < lo || n > hi {
		return nil
	}
	return n
}
