package playbooks

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	actionsOnce sync.Once
	actions     ActionCatalog
	actionsErr  error
)

func actionCatalog(t *testing.T) ActionCatalog {
	t.Helper()
	actionsOnce.Do(func() { actions, actionsErr = LoadActionCatalog() })
	if actionsErr != nil {
		t.Fatalf("the IAM action catalog (make test installs cfn-lint): %v", actionsErr)
	}
	return actions
}

// policyFiles returns every JSON file under playbooks/*/policies/.
func policyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "playbooks", "*", "policies", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestPlaybookPoliciesAreValidIdentityPolicies(t *testing.T) {
	cat := actionCatalog(t)
	files := policyFiles(t)
	if len(files) == 0 {
		t.Fatal("no playbooks/*/policies/*.json")
	}
	for _, f := range files {
		for _, err := range CheckIdentityPolicy([]byte(readFile(t, f)), cat) {
			t.Errorf("%s: %v", rel(t, f), err)
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

func TestPolicyCheckerRejectsBadPolicies(t *testing.T) {
	cat := actionCatalog(t)
	cases := map[string]string{
		"bad_version.json":              `Version is 2008-10-17`,
		"bad_statement_object.json":     `Statement must be a non-empty list`,
		"bad_effect.json":               `Effect is Block`,
		"bad_action_and_notaction.json": `want exactly one of Action and NotAction`,
		"bad_no_resource.json":          `want exactly one of Resource and NotResource`,
		"bad_unknown_action.json":       `action "ec2:LaunchInstances" does not exist`,
		"bad_unknown_service.json":      `no service prefix "ec3"`,
		"bad_condition_operator.json":   `unknown condition operator "DateBefore"`,
		"bad_condition_date.json":       `yesterday is not an ISO 8601 date-time`,
		"bad_principal.json":            `Principal belongs in resource policies`,
		"bad_json.json":                 `not a JSON object`,
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "bad_*.json"))
	if len(files) != len(cases) {
		t.Errorf("%d bad_*.json files, %d cases: keep them in step", len(files), len(cases))
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			errs := CheckIdentityPolicy([]byte(readFile(t, filepath.Join("testdata", "policies", name))), cat)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), want) {
				t.Errorf("problems %q, want one containing %q", msgs, want)
			}
		})
	}
	if errs := CheckIdentityPolicy([]byte(readFile(t, filepath.Join("testdata", "policies", "good_conditions.json"))), cat); len(errs) > 0 {
		t.Errorf("good_conditions.json: %v", errs)
	}
}
