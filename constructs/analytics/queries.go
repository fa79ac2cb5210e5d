package analytics

import (
	"fmt"
	"regexp"
	"strings"
)

// NamedQuery is a query that becomes an Athena named query in the
// workgroup.
type NamedQuery struct {
	// Name is the query's name in Athena, such as PLAYBOOK/STEP; the
	// resource's logical ID derives from it.
	Name string
	// Description says what the query finds; at most MaxDescriptionBytes.
	Description string
	// SQL is the query; not empty, at most MaxQueryBytes.
	SQL string
}

// Athena's limits on a named query.
const (
	MaxQueryBytes       = 262144
	MaxDescriptionBytes = 1024
)

// LogicalID is a stable CloudFormation logical ID derived from the name.
func (q NamedQuery) LogicalID() string {
	return "Query" + pascal(q.Name)
}

// problems lists what Athena would refuse in the query.
func (q NamedQuery) problems() []string {
	var out []string
	if strings.TrimSpace(q.SQL) == "" {
		out = append(out, fmt.Sprintf("query %s: SQL is empty", q.Name))
	}
	if n := len(q.SQL); n > MaxQueryBytes {
		out = append(out, fmt.Sprintf("query %s: SQL is %d bytes, Athena takes at most %d", q.Name, n, MaxQueryBytes))
	}
	if n := len(q.Description); n > MaxDescriptionBytes {
		out = append(out, fmt.Sprintf("query %s: Description is %d bytes, Athena takes at most %d", q.Name, n, MaxDescriptionBytes))
	}
	return out
}

// checkQueries panics with every problem of the queries, naming the
// construct.
func checkQueries(id string, queries []NamedQuery) {
	var problems []string
	for _, q := range queries {
		problems = append(problems, q.problems()...)
	}
	if len(problems) > 0 {
		panic(fmt.Sprintf("analytics %s: Queries: %s", id, strings.Join(problems, "; ")))
	}
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

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)
