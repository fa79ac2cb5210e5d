package playbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// policyFiles returns every JSON file under playbooks/*/policies/.
func policyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "playbooks", "*", "policies", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	lintOnce     sync.Once
	lintFindings map[string][]string
	lintErr      error
)

// bucketPolicySuffix names the policy documents that are S3 bucket policies;
// every other one is an IAM identity policy.
const bucketPolicySuffix = "-bucket-policy.json"

// policyProblems returns what is wrong with each policy document of the
// playbooks and of testdata/policies, by file. cfn-lint checks each as the
// PolicyDocument of an AWS::IAM::ManagedPolicy, or of an
// AWS::S3::BucketPolicy for a *-bucket-policy.json, as it checks the
// templates' policies in make lint-templates: the identity policy grammar
// (E3510: Version, Sid, Effect, exactly one of Action and NotAction and of
// Resource and NotResource, resource ARNs, condition operators, no
// Principal), the resource policy grammar (E3512: the same with a Principal)
// and every action against AWS's catalog of IAM actions (W3037). This test adds
// what cfn-lint does not check: the document is JSON, Statement is a list
// (the playbooks' jq commands index it), condition keys have a service
// prefix, and date conditions hold ISO 8601 date-times.
func policyProblems(t *testing.T) map[string][]string {
	t.Helper()
	lintOnce.Do(func() {
		fixtures, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
		lintFindings, lintErr = lintPolicies(append(policyFiles(t), fixtures...))
	})
	if lintErr != nil {
		t.Fatalf("linting the policy documents (make test installs cfn-lint): %v", lintErr)
	}
	return lintFindings
}

func lintPolicies(files []string) (map[string][]string, error) {
	problems := map[string][]string{}
	resources := map[string]any{}
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct{ Statement any }
		if err := json.Unmarshal(raw, &doc); err != nil {
			problems[f] = append(problems[f], fmt.Sprintf("not a JSON object: %v", err))
			continue
		}
		statements, ok := doc.Statement.([]any)
		if !ok || len(statements) == 0 {
			problems[f] = append(problems[f], "Statement must be a non-empty list")
		}
		for _, st := range statements {
			cond, _ := st.(map[string]any)["Condition"].(map[string]any)
			for op, keys := range cond {
				keys, _ := keys.(map[string]any)
				for key, v := range keys {
					if !strings.Contains(key, ":") {
						problems[f] = append(problems[f], fmt.Sprintf("condition %s: key %q has no service prefix (aws:, iam:, ...)", op, key))
					}
					if s, _ := v.(string); strings.HasPrefix(op, "Date") && !isDateTime(s) {
						problems[f] = append(problems[f], fmt.Sprintf("condition %s %s: %v is not an ISO 8601 date-time", op, key, v))
					}
				}
			}
		}
		resource := map[string]any{
			"Type":       "AWS::IAM::ManagedPolicy",
			"Properties": map[string]any{"PolicyDocument": json.RawMessage(raw)},
		}
		if strings.HasSuffix(f, bucketPolicySuffix) {
			resource = map[string]any{
				"Type": "AWS::S3::BucketPolicy",
				// Each bucket once: cfn-lint wants one policy per bucket.
				"Properties": map[string]any{"Bucket": fmt.Sprintf("amzn-s3-demo-bucket%d", i), "PolicyDocument": json.RawMessage(raw)},
			}
		}
		resources[fmt.Sprintf("Policy%d", i)] = resource
	}
	tmpl, err := json.Marshal(map[string]any{"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "playbook-policies-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(tmpl); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("cfn-lint", "--format", "json", "--", f.Name())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // exits non-zero when it finds something
	var findings []struct {
		Rule     struct{ Id string }
		Message  string
		Location struct{ Path []any }
	}
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		return nil, fmt.Errorf("cfn-lint: %v %s", runErr, stderr.String())
	}
	for _, l := range findings {
		var i int
		if len(l.Location.Path) < 2 {
			return nil, fmt.Errorf("cfn-lint finding outside a policy: %s %s", l.Rule.Id, l.Message)
		}
		if _, err := fmt.Sscanf(fmt.Sprint(l.Location.Path[1]), "Policy%d", &i); err != nil || i >= len(files) {
			return nil, fmt.Errorf("cfn-lint finding outside a policy: %s %s", l.Rule.Id, l.Message)
		}
		problems[files[i]] = append(problems[files[i]], l.Rule.Id+" "+l.Message)
	}
	return problems, nil
}

func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func TestPlaybookPoliciesAreValidPolicies(t *testing.T) {
	files := policyFiles(t)
	if len(files) == 0 {
		t.Fatal("no playbooks/*/policies/*.json")
	}
	problems := policyProblems(t)
	for _, f := range files {
		for _, p := range problems[f] {
			t.Errorf("%s: %s", rel(t, f), p)
		}
	}
}

// TestEveryPolicyIsUsedByItsPlaybook keeps documents and playbooks in step:
// a policy no step refers to is dead weight, one that a step names but that
// is missing breaks the step.
func TestEveryPolicyIsUsedByItsPlaybook(t *testing.T) {
	for _, f := range policyFiles(t) {
		dir := filepath.Dir(filepath.Dir(f))
		readme := readFile(t, filepath.Join(dir, "README.md"))
		name := "policies/" + filepath.Base(f)
		if !strings.Contains(readme, name) {
			t.Errorf("%s: %s/README.md never mentions %s", rel(t, f), rel(t, dir), name)
		}
	}
}

// TestRevokeOlderSessionsDeniesByTokenIssueTime pins down the document that
// revokes role sessions already issued: a Deny on everything for tokens
// issued before a time, which is what IAM's "Revoke active sessions" does.
func TestRevokeOlderSessionsDeniesByTokenIssueTime(t *testing.T) {
	path := filepath.Join(repoRoot(t), "playbooks", "credential_exposure", "policies", "revoke-older-sessions.json")
	var doc struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("want one statement, got %d", len(doc.Statement))
	}
	st := doc.Statement[0]
	if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" {
		t.Errorf("want Deny * on *, got %s %v on %v", st.Effect, st.Action, st.Resource)
	}
	if _, ok := st.Condition["DateLessThan"]["aws:TokenIssueTime"]; !ok {
		t.Errorf("want a DateLessThan condition on aws:TokenIssueTime, got %v", st.Condition)
	}
}

// TestLockdownBucketPolicyDeniesAllButBreakGlass pins down the staging
// bucket's lockdown, and the places the playbook's jq command fills in:
// Statement[0].Resource (the bucket and its objects) and the ArnNotEquals
// aws:PrincipalArn condition (the break-glass role, whose sessions all carry
// the role's ARN there).
func TestLockdownBucketPolicyDeniesAllButBreakGlass(t *testing.T) {
	path := filepath.Join(repoRoot(t), "playbooks", "credential_exposure", "policies", "lockdown-bucket-policy.json")
	var doc struct {
		Statement []struct {
			Effect, Principal, Action string
			Resource                  []string
			Condition                 map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("want one statement, got %d", len(doc.Statement))
	}
	st := doc.Statement[0]
	if st.Effect != "Deny" || st.Principal != "*" || st.Action != "s3:*" {
		t.Errorf("want Deny s3:* to everyone, got %s %s to %s", st.Effect, st.Action, st.Principal)
	}
	if want := []string{"arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"}; !slices.Equal(st.Resource, want) {
		t.Errorf("resources %q, want the bucket and its objects %q", st.Resource, want)
	}
	if role := st.Condition["ArnNotEquals"]["aws:PrincipalArn"]; role != "arn:aws:iam::111122223333:role/SecurityBreakGlassRole" {
		t.Errorf("want an ArnNotEquals aws:PrincipalArn condition naming SecurityBreakGlassRole, got %v", st.Condition)
	}
}

// TestPolicyCheckRejectsBadPolicies proves the check catches what it is
// for: each bad_*.json breaks one rule, and the problem found names it.
func TestPolicyCheckRejectsBadPolicies(t *testing.T) {
	cases := map[string]string{
		"bad_version.json":                      "W2511 IAM Policy Version should be updated to '2012-10-17'",
		"bad_statement_object.json":             "Statement must be a non-empty list",
		"bad_effect.json":                       "E3510 'Block' is not one of ['Allow', 'Deny']",
		"bad_action_and_notaction.json":         "E3510 Only one of ['Action', 'NotAction']",
		"bad_no_resource.json":                  "E3510 Only one of ['Resource', 'NotResource']",
		"bad_unknown_action.json":               "W3037 'launchinstances' is not one of",
		"bad_unknown_service.json":              "W3037 'ec3' is not one of",
		"bad_condition_operator.json":           "E3510 'DateBefore' does not match",
		"bad_condition_date.json":               "yesterday is not an ISO 8601 date-time",
		"bad_condition_key.json":                `key "TokenIssueTime" has no service prefix`,
		"bad_principal.json":                    "E3510 Additional properties are not allowed ('Principal' was unexpected)",
		"bad_json.json":                         "not a JSON object",
		"bad_no_principal-bucket-policy.json":   "E3512 Only one of ['Principal', 'NotPrincipal'] is a required property",
		"bad_unknown_action-bucket-policy.json": "W3037 'getobjekt' is not one of",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "bad_*.json"))
	if len(files) != len(cases) {
		t.Errorf("%d bad_*.json files, %d cases: keep them in step", len(files), len(cases))
	}
	problems := policyProblems(t)
	for name, want := range cases {
		got := problems[filepath.Join("testdata", "policies", name)]
		if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("%s: problems %q, want one containing %q", name, got, want)
		}
	}
	if got := problems[filepath.Join("testdata", "policies", "good_conditions.json")]; len(got) > 0 {
		t.Errorf("good_conditions.json: %q", got)
	}
}
