package analytics

import (
	"regexp"
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
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

// check records what Athena would refuse in the query.
func (q NamedQuery) check(problems *validate.Problems) {
	if strings.TrimSpace(q.SQL) == "" {
		problems.Addf("Queries", "has query %s with empty SQL", q.Name)
	}
	if n := len(q.SQL); n > MaxQueryBytes {
		problems.Addf("Queries", "has query %s with SQL of %d bytes; Athena takes at most %d", q.Name, n, MaxQueryBytes)
	}
	if n := len(q.Description); n > MaxDescriptionBytes {
		problems.Addf("Queries", "has query %s with a Description of %d bytes; Athena takes at most %d", q.Name, n, MaxDescriptionBytes)
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
