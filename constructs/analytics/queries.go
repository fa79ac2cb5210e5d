package analytics

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// NamedQuery is a playbook query that becomes an Athena named query.
type NamedQuery struct {
	// Name is PLAYBOOK/STEP, from playbooks/PLAYBOOK/queries/STEP.sql.
	Name string
	// Description is the text of the file's leading "--" comment lines.
	Description string
	// SQL is the file's content, unchanged.
	SQL string
	// Path is the file the query came from.
	Path string
}

// LogicalID is a stable CloudFormation logical ID derived from the name.
func (q NamedQuery) LogicalID() string {
	return "Query" + pascal(q.Name)
}

// pascal joins the alphanumeric words of s, each capitalised:
// "credential_exposure/01_keys" becomes "CredentialExposure01Keys".
func pascal(s string) string {
	var b strings.Builder
	for _, word := range nonAlnum.Split(s, -1) {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

var (
	nonAlnum  = regexp.MustCompile(`[^A-Za-z0-9]`)
	queryFile = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*\.sql$`)
	playbook  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// MaxQueryBytes is Athena's limit on a named query's text.
const MaxQueryBytes = 262144

// LoadNamedQueries reads every playbooks/PLAYBOOK/queries/*.sql file under
// dir, sorted by path. Zero files is not an error. A file with an unusable
// name, no content or text over Athena's limit is.
func LoadNamedQueries(dir string) ([]NamedQuery, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "queries", "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("listing queries under %s: %w", dir, err)
	}
	sort.Strings(paths)
	var out []NamedQuery
	for _, path := range paths {
		book := filepath.Base(filepath.Dir(filepath.Dir(path)))
		file := filepath.Base(path)
		if !playbook.MatchString(book) || !queryFile.MatchString(file) {
			return nil, fmt.Errorf("query %s: playbook folders and query files are named with lower-case letters, digits, '_' and '-'", path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading query %s: %w", path, err)
		}
		sql := string(raw)
		if strings.TrimSpace(sql) == "" {
			return nil, fmt.Errorf("query %s is empty", path)
		}
		if len(raw) > MaxQueryBytes {
			return nil, fmt.Errorf("query %s is %d bytes; Athena takes at most %d", path, len(raw), MaxQueryBytes)
		}
		out = append(out, NamedQuery{
			Name:        book + "/" + strings.TrimSuffix(file, ".sql"),
			Description: leadingComment(sql),
			SQL:         sql,
			Path:        path,
		})
	}
	return out, nil
}

// leadingComment joins the "--" comment lines a query file starts with.
func leadingComment(sql string) string {
	var parts []string
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		if text := strings.TrimSpace(strings.TrimPrefix(line, "--")); text != "" {
			parts = append(parts, text)
		}
	}
	d := strings.Join(parts, " ")
	if len(d) > 1024 { // Athena's limit on a description
		d = d[:1024]
	}
	return d
}
