package engine

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// pathPattern matches the key of a file of a table, relative to the bucket,
// and extracts the partition values from it the way Athena's partition
// projection does with storage.location.template: each ${key} of the table's
// PathTemplate is one path segment, except a date key, which spans as many
// segments as its format (yyyy/MM/dd is three). The file may be anywhere
// below the partition's folder.
type pathPattern struct {
	re   *regexp.Regexp
	keys []string // partition keys, in the order of the pattern's groups
}

// compilePath builds the pattern of a table's PathTemplate.
func compilePath(t logschema.Table) (*pathPattern, error) {
	projection := map[string]logschema.Projection{}
	for _, k := range t.PartitionKeys {
		projection[k.Name] = k.Projection
	}
	var b strings.Builder
	b.WriteString("^")
	var keys []string
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
		keys = append(keys, key)
		rest = rest[i+end+1:]
	}
	b.WriteString("/(?:.*/)?[^/]+$")
	if len(keys) != len(t.PartitionKeys) {
		return nil, fmt.Errorf("table %s: path template %q names %d of its %d partition keys", t.Name, t.PathTemplate, len(keys), len(t.PartitionKeys))
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("table %s: path template %q: %w", t.Name, t.PathTemplate, err)
	}
	return &pathPattern{re: re, keys: keys}, nil
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

// match returns the partition values of the file at key (slash-separated,
// relative to the bucket), by partition key name, or false if the file is
// not one of the table's.
func (p *pathPattern) match(key string) (map[string]string, bool) {
	m := p.re.FindStringSubmatch(key)
	if m == nil {
		return nil, false
	}
	values := make(map[string]string, len(p.keys))
	for i, k := range p.keys {
		values[k] = m[i+1]
	}
	return values, true
}
