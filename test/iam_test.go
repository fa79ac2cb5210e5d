package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
)

// The account, region and partition that policies are resolved in.
const (
	testAccount   = "111122223333"
	testRegion    = "us-east-1"
	testPartition = "aws"
)

// iamCatalog is AWS's list of IAM actions with the resource types each
// takes and the ARN formats of those types, as cfn-lint ships it
// (data/AdditionalSpecs/Policies.json): an oracle independent of our code.
type iamCatalog map[string]struct {
	Actions map[string]struct {
		Resources []string `json:"Resources"`
	} `json:"Actions"`
	Resources map[string]struct {
		ARNFormats []string `json:"ARNFormats"`
	} `json:"Resources"`
}

var (
	catalogOnce sync.Once
	catalog     iamCatalog
	catalogErr  error
)

func loadIAMCatalog(t *testing.T) iamCatalog {
	t.Helper()
	catalogOnce.Do(func() {
		out, err := exec.Command("python3", "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
		if err != nil {
			catalogErr = fmt.Errorf("locating cfn-lint (make test installs the tools): %w", err)
			return
		}
		path := filepath.Join(strings.TrimSpace(string(out)), "data", "AdditionalSpecs", "Policies.json")
		raw, err := os.ReadFile(path)
		if err != nil {
			catalogErr = err
			return
		}
		catalogErr = json.Unmarshal(raw, &catalog)
	})
	if catalogErr != nil {
		t.Fatalf("loading the IAM action catalog: %v", catalogErr)
	}
	return catalog
}

// resourceTypes returns the resource types an action takes, and whether the
// action exists at all.
func (c iamCatalog) resourceTypes(action string) ([]string, bool) {
	service, name, ok := strings.Cut(strings.ToLower(action), ":")
	if !ok {
		return nil, false
	}
	a, ok := c[service].Actions[name]
	return a.Resources, ok
}

// arnMatchesType reports whether arn is of the given resource type of the
// action's service. An ARN with IAM wildcards matches when the pattern
// itself fits the format.
func (c iamCatalog) arnMatchesType(service, typ, arn string) bool {
	for _, f := range c[service].Resources[strings.ToLower(typ)].ARNFormats {
		pattern := strings.NewReplacer("${Partition}", testPartition, "${Region}", testRegion, "${Account}", testAccount).Replace(f)
		pattern = regexp.MustCompile(`\$\{[A-Za-z]+\}`).ReplaceAllString(pattern, "[^:]+")
		if regexp.MustCompile("^" + pattern + "$").MatchString(arn) {
			return true
		}
	}
	return false
}

// resolver resolves a template's values as deployed in the test account
// and region, with iamsim's resolver: parameters take their defaults, a
// resource's Ref is its logical ID in lower case.
type resolver struct{ *iamsim.Resolver }

func newResolver(t *testing.T, tmpl map[string]any) resolver {
	t.Helper()
	r, err := iamsim.NewResolver(tmpl, iamsim.Deployment{
		Partition: testPartition, Region: testRegion, Account: testAccount, StackName: "WorkshopStack",
	})
	if err != nil {
		t.Fatal(err)
	}
	return resolver{r}
}

func (r resolver) value(t *testing.T, v any) any {
	t.Helper()
	out, err := r.Resolve(v)
	if err != nil {
		t.Fatalf("cannot resolve %s: %v", compact(v), err)
	}
	return out
}

func (r resolver) str(t *testing.T, v any) string {
	t.Helper()
	s, ok := r.value(t, v).(string)
	if !ok {
		t.Fatalf("%s does not resolve to a string", compact(v))
	}
	return s
}

// list resolves a string-or-list value.
func (r resolver) list(t *testing.T, v any) []string {
	t.Helper()
	switch x := r.value(t, v).(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	t.Fatalf("%s resolves to neither a string nor a list", compact(v))
	return nil
}

// rolePolicy gathers the statements of a role's inline and attached
// AWS::IAM::Policy documents, and its managed policy ARNs.
func rolePolicy(t *testing.T, tmpl map[string]any, roleName string) (id string, stmts []map[string]any, managed []string) {
	t.Helper()
	r := newResolver(t, tmpl)
	for rid, role := range resources(tmpl, "AWS::IAM::Role") {
		if props(role)["RoleName"] == roleName {
			id = rid
			if m, ok := props(role)["ManagedPolicyArns"]; ok {
				managed = r.list(t, m)
			}
		}
	}
	if id == "" {
		t.Fatalf("no role named %s", roleName)
	}
	for _, pol := range resources(tmpl, "AWS::IAM::Policy") {
		for _, target := range at(t, props(pol), "Roles").([]any) {
			if equalJSON(target, ref(id)) {
				stmts = append(stmts, statements(t, at(t, props(pol), "PolicyDocument"))...)
			}
		}
	}
	return id, stmts, managed
}

// allows reports whether stmts, as deployed (resolved by r), allow action on
// resource for a request with the given condition keys, as iamsim
// evaluates a policy: an explicit Deny wins, conditions hold only on keys
// the request carries.
func allows(t *testing.T, r resolver, stmts []map[string]any, action, resource string, context map[string]string) bool {
	t.Helper()
	list := make([]any, len(stmts))
	for i, st := range stmts {
		list[i] = st
	}
	ok, err := iamsim.Allows(r.value(t, map[string]any{"Statement": list}), iamsim.Request{Action: action, Resource: resource, Context: context})
	if err != nil {
		t.Fatalf("%s on %s: %v", action, resource, err)
	}
	return ok
}
