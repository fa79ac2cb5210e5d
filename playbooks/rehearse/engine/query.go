package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// Result is the outcome of a query, every value rendered as Athena's
// console shows it (see FormatValue).
type Result struct {
	Columns []string
	Rows    [][]string
}

// Query runs one SQL statement and returns its result.
func (e *Engine) Query(ctx context.Context, query string) (*Result, error) {
	query, err := e.translate(ctx, query, false)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, cleanError(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: make([]string, len(types))}
	for i, t := range types {
		res.Columns[i] = t.Name()
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = FormatValue(v, types[i].DatabaseTypeName())
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, cleanError(err)
	}
	return res, nil
}

// cleanError drops the trailing blank lines of DuckDB's messages.
func cleanError(err error) error {
	return fmt.Errorf("%s", strings.TrimSpace(err.Error()))
}

// FormatValue renders a value the way Athena's console shows it: NULL as
// NULL, a timestamp with time zone as 2026-03-14 09:12:33.000 UTC, a
// timestamp as 2026-03-14 09:12:33.000, arrays as [a, b], rows and maps as
// {key=value, ...} (keys sorted), doubles as Java prints them (1.5, 100.0,
// 1.0E7), JSON as its text.
func FormatValue(v any, dbType string) string {
	if v == nil {
		return "NULL"
	}
	if dbType == "JSON" {
		b, err := json.Marshal(v)
		if err == nil {
			return string(b)
		}
	}
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(v)
	case *big.Int:
		return v.String()
	case float32:
		return javaDouble(float64(v))
	case float64:
		return javaDouble(v)
	case duckdb.Decimal:
		return v.String()
	case time.Time:
		switch {
		case dbType == "DATE":
			return v.Format("2006-01-02")
		case dbType == "TIME":
			return v.Format("15:04:05.000")
		case strings.HasPrefix(dbType, "TIMESTAMP") && strings.Contains(dbType, "TZ"),
			strings.Contains(dbType, "WITH TIME ZONE"):
			return v.UTC().Format("2006-01-02 15:04:05.000") + " UTC"
		default:
			return v.Format("2006-01-02 15:04:05.000")
		}
	case duckdb.Interval:
		return formatInterval(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = FormatValue(x, "")
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+"="+FormatValue(v[k], ""))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.Map:
		parts := make([]string, 0, len(v))
		for k, x := range v {
			parts = append(parts, FormatValue(k, "")+"="+FormatValue(x, ""))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.OrderedMap:
		keys, vals := v.Keys(), v.Values()
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = FormatValue(keys[i], "") + "=" + FormatValue(vals[i], "")
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// javaDouble prints a double as Java's Double.toString does, as Athena
// shows doubles.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.2345E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}

// formatInterval prints an interval as Trino does for day to second
// intervals: D HH:MM:SS.mmm, or y-m for months.
func formatInterval(iv duckdb.Interval) string {
	if iv.Months != 0 && iv.Days == 0 && iv.Micros == 0 {
		return fmt.Sprintf("%d-%d", iv.Months/12, iv.Months%12)
	}
	total := time.Duration(iv.Micros) * time.Microsecond
	sign := ""
	if total < 0 || iv.Days < 0 {
		sign = "-"
		total = -total
	}
	days := int64(math.Abs(float64(iv.Days))) + int64(total/(24*time.Hour))
	total %= 24 * time.Hour
	return fmt.Sprintf("%s%d %02d:%02d:%02d.%03d", sign, days,
		int(total/time.Hour), int(total%time.Hour/time.Minute), int(total%time.Minute/time.Second), int(total%time.Second/time.Millisecond))
}

// Table renders the result as an aligned text table: a header, a rule
// with '+' where columns meet, one line a row, then the row count. Numbers
// are right-aligned, everything else left-aligned.
func (r *Result) Table() string {
	widths := make([]int, len(r.Columns))
	numeric := make([]bool, len(r.Columns))
	seen := make([]bool, len(r.Columns)) // a number that is not NULL
	for i, c := range r.Columns {
		widths[i] = utf8.RuneCountInString(c)
		numeric[i] = true
	}
	for _, row := range r.Rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
			switch {
			case cell == "NULL":
			case isNumber(cell):
				seen[i] = true
			default:
				numeric[i] = false
			}
		}
	}
	for i := range numeric {
		numeric[i] = numeric[i] && seen[i]
	}
	var b strings.Builder
	line := func(cells []string, alignRight []bool) {
		var s strings.Builder
		for i, cell := range cells {
			if i > 0 {
				s.WriteString(" | ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if alignRight != nil && alignRight[i] {
				s.WriteString(pad + cell)
			} else {
				s.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(s.String(), " ") + "\n")
	}
	line(r.Columns, nil)
	for i, w := range widths {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", w))
	}
	b.WriteString("\n")
	for _, row := range r.Rows {
		line(row, numeric)
	}
	if len(r.Rows) == 1 {
		b.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n", len(r.Rows))
	}
	return b.String()
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
