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

// resolver turns CloudFormation values into strings for one deployment:
// pseudo parameters, template parameters (their defaults), Fn::Sub, Fn::Join,
// and Ref/GetAtt of buckets and GetAtt of KMS keys (physical name or ID: the
// lower-cased logical ID).
type resolver struct {
	tmpl   map[string]any
	params map[string]string
}

func newResolver(tmpl map[string]any) *resolver {
	r := &resolver{tmpl: tmpl, params: map[string]string{
		"AWS::Partition": testPartition, "AWS::Region": testRegion, "AWS::AccountId": testAccount,
		"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "WorkshopStack",
	}}
	if ps, ok := tmpl["Parameters"].(map[string]any); ok {
		for name, p := range ps {
			if d, ok := p.(map[string]any)["Default"].(string); ok {
				r.params[name] = d
			}
		}
	}
	return r
}

func (r *resolver) str(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if id, ok := x["Ref"].(string); ok {
			if p, ok := r.params[id]; ok {
				return p
			}
			return strings.ToLower(id)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			id := ga[0].(string)
			res, _ := r.tmpl["Resources"].(map[string]any)[id].(map[string]any)
			if res["Type"] == "AWS::S3::Bucket" && ga[1] == "Arn" {
				return "arn:" + testPartition + ":s3:::" + strings.ToLower(id)
			}
			if res["Type"] == "AWS::KMS::Key" && ga[1] == "Arn" {
				return "arn:" + testPartition + ":kms:" + testRegion + ":" + testAccount + ":key/" + strings.ToLower(id)
			}
			return fmt.Sprintf("%s.%s", id, ga[1])
		}
		if sub, ok := x["Fn::Sub"]; ok {
			format, vars := "", map[string]any{}
			switch s := sub.(type) {
			case string:
				format = s
			case []any:
				format, vars = s[0].(string), s[1].(map[string]any)
			}
			return regexp.MustCompile(`\$\{([^}!]+)\}`).ReplaceAllStringFunc(format, func(m string) string {
				name := m[2 : len(m)-1]
				if v, ok := vars[name]; ok {
					return r.str(t, v)
				}
				return r.str(t, map[string]any{"Ref": name})
			})
		}
		if join, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, r.str(t, p))
			}
			return strings.Join(parts, join[0].(string))
		}
	}
	t.Fatalf("cannot resolve %s", compact(v))
	return ""
}

// list resolves a string-or-list value.
func (r *resolver) list(t *testing.T, v any) []string {
	t.Helper()
	if l, ok := v.([]any); ok {
		out := make([]string, len(l))
		for i, x := range l {
			out[i] = r.str(t, x)
		}
		return out
	}
	return []string{r.str(t, v)}
}

// rolePolicy gathers the statements of a role's inline and attached
// AWS::IAM::Policy documents, and its managed policy ARNs.
func rolePolicy(t *testing.T, tmpl map[string]any, roleName string) (id string, stmts []map[string]any, managed []string) {
	t.Helper()
	r := newResolver(tmpl)
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

// glob turns an IAM pattern (* and ?) into an anchored regexp.
func glob(pattern string, fold bool) *regexp.Regexp {
	q := regexp.QuoteMeta(pattern)
	q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
	if fold {
		q = "(?i)" + q
	}
	return regexp.MustCompile("^" + q + "$")
}

// allows reports whether an Allow statement among stmts grants action on
// resource (Deny statements and conditions are not evaluated: the roles
// carry none but the service-linked role condition).
func allows(t *testing.T, r *resolver, stmts []map[string]any, action, resource string) bool {
	t.Helper()
	for _, st := range stmts {
		if st["Effect"] != "Allow" {
			continue
		}
		actionOK := false
		for _, a := range actions(st) {
			actionOK = actionOK || glob(a, true).MatchString(action)
		}
		if !actionOK {
			continue
		}
		for _, res := range r.list(t, st["Resource"]) {
			if glob(res, false).MatchString(resource) {
				return true
			}
		}
	}
	return false
}
