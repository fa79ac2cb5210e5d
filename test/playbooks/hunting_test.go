package playbooks

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// incidentValue matches the example values that stand for one incident's
// facts: a key, an account, an address of the intruder, an instance, a VPC,
// an ARN, a time of day.
var incidentValue = regexp.MustCompile(`AKIA|ASIA|[0-9]{12}|198\.51\.100\.|\bi-[0-9a-f]{8,}|\bvpc-|arn:aws|[0-9]{4}-[0-9]{2}-[0-9]{2}T`)

// TestHuntingQueriesNeedOnlyTheFirstDay: a hunting query is run at the start
// of any incident, before anything about it is known, so the only value to
// replace is the first day to search, and its description says so.
func TestHuntingQueriesNeedOnlyTheFirstDay(t *testing.T) {
	qs, err := playbook.Queries(repoRoot(t), querySets...)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatalf("no queries in %v", querySets)
	}
	for _, q := range qs {
		if m := incidentValue.FindString(q.SQL); m != "" {
			t.Errorf("%s: %q is an incident's value; a hunting query takes only the first day to search", rel(t, q.Path), m)
		}
		if !strings.Contains(q.SQL, "'2026/01/01'") || !strings.Contains(q.Description(), "Replace 2026/01/01") {
			t.Errorf("%s: want date_partition >= '2026/01/01' and a description that says to replace it", rel(t, q.Path))
		}
	}
}
