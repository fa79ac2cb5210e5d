package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

var roleNames = []string{irroles.DefaultAnalystRoleName, irroles.DefaultAdminRoleName, irroles.DefaultBreakGlassRoleName, irroles.DefaultDeployRoleName}

// TestRolesTrustOnlyTheBasePrincipal evaluates WorkshopStack's trust
// policies, resolved for the defaults and for chosen parameters, with
// iamsim: the base principal may assume each role, other principals of the
// account and the same name in another account may not, and with
// BreakGlassRequiresMfa=true break glass takes an MFA session.
func TestRolesTrustOnlyTheBasePrincipal(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	wantManaged := map[string][]string{
		irroles.DefaultAnalystRoleName:    {"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"},
		irroles.DefaultAdminRoleName:      nil,
		irroles.DefaultBreakGlassRoleName: {"arn:aws:iam::aws:policy/AdministratorAccess"},
		irroles.DefaultDeployRoleName:     nil,
	}
	r := newResolver(t, tmpl)
	for _, name := range roleNames {
		id, _, managed := rolePolicy(t, tmpl, name)
		role := resources(tmpl, "AWS::IAM::Role")[id]
		if !slices.Equal(managed, wantManaged[name]) {
			t.Errorf("%s: managed policies %v, want %v", name, managed, wantManaged[name])
		}
		if at(t, props(role), "MaxSessionDuration") != float64(3600) {
			t.Errorf("%s: sessions last %v s", name, props(role)["MaxSessionDuration"])
		}
		if principal := at(t, props(role), "AssumeRolePolicyDocument", "Statement", 0, "Principal", "AWS"); r.str(t, principal) != "arn:aws:iam::"+testAccount+":root" {
			t.Errorf("%s: the trusted principal is %s, not the account: a principal that does not exist yet would stop the deployment", name, compact(principal))
		}
	}

	arn := func(account, name string) string { return "arn:aws:iam::" + account + ":" + name }
	mfa := map[string]string{"aws:MultiFactorAuthPresent": "true"}
	for _, d := range []struct {
		params map[string]string
		base   string
		mfa    bool
	}{
		{nil, workshop.DefaultBasePrincipal, false},
		{map[string]string{"BasePrincipal": "user/responders/dana", "BreakGlassRequiresMfa": "true"}, "user/responders/dana", true},
	} {
		sim, err := iamsim.NewResolver(tmpl, iamsim.Deployment{Account: testAccount, Parameters: d.params})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range roleNames {
			requiresMfa := d.mfa && name == irroles.DefaultBreakGlassRoleName
			for _, c := range []struct {
				who  string
				ctx  map[string]string
				want bool
			}{
				{arn(testAccount, d.base), mfa, true},
				{arn(testAccount, d.base), nil, !requiresMfa},
				{arn(testAccount, "role/OrganizationAccountAccessRole"), mfa, false},
				{arn(testAccount, "user/integration"), mfa, false},
				{arn(testAccount, "role/"+irroles.DefaultAnalystRoleName), mfa, false},
				{arn("444455556666", d.base), mfa, false},
			} {
				got, err := iamsim.Allows(resolvedTrust(t, sim, tmpl, name), iamsim.Request{Principal: c.who, Action: "sts:AssumeRole", Context: c.ctx})
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("parameters %v: %s assuming %s with %v: allowed=%v, want %v", d.params, c.who, name, c.ctx, got, c.want)
				}
			}
		}
	}
}

// resolvedTrust returns the trust policy of the WorkshopStack role named
// name, resolved by sim.
func resolvedTrust(t *testing.T, sim *iamsim.Resolver, tmpl map[string]any, name string) any {
	t.Helper()
	id, _, _ := rolePolicy(t, tmpl, name)
	doc, err := sim.Resolve(at(t, props(resources(tmpl, "AWS::IAM::Role")[id]), "AssumeRolePolicyDocument"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestRolePolicyActionsExistAndResourcesAreOfTheirKind checks every
// statement of the roles against AWS's action catalog: each action exists,
// a statement on "*" holds only actions that take no resource, and every
// other resource ARN is of a type each of the statement's actions takes
// (a workgroup for workgroup actions, a table for partitions, ...).
func TestRolePolicyActionsExistAndResourcesAreOfTheirKind(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	cat := loadIAMCatalog(t)
	r := newResolver(t, tmpl)
	for _, name := range roleNames {
		_, stmts, _ := rolePolicy(t, tmpl, name)
		if name != irroles.DefaultBreakGlassRoleName && len(stmts) == 0 {
			t.Errorf("%s has no statements", name)
		}
		for _, st := range stmts {
			sid, _ := st["Sid"].(string)
			resources := r.list(t, st["Resource"])
			for _, action := range actions(st) {
				if strings.Contains(action, "*") {
					t.Errorf("%s/%s: wildcard action %s", name, sid, action)
					continue
				}
				types, ok := cat.resourceTypes(action)
				if !ok {
					t.Errorf("%s/%s: %s is not an IAM action", name, sid, action)
					continue
				}
				service := strings.ToLower(strings.SplitN(action, ":", 2)[0])
				for _, res := range resources {
					if res == "*" {
						if len(types) > 0 {
							t.Errorf("%s/%s: %s takes %v but is granted on *", name, sid, action, types)
						}
						continue
					}
					fits := false
					for _, typ := range types {
						fits = fits || cat.arnMatchesType(service, typ, res)
					}
					if !fits {
						t.Errorf("%s/%s: %s takes %v, but %s is none of them", name, sid, action, types, res)
					}
				}
			}
		}
	}
}

// TestAnalystRoleIsScopedToThisWorkshop pins the analyst's grants to the
// workshop's own workgroup, catalog objects and buckets.
func TestAnalystRoleIsScopedToThisWorkshop(t *testing.T) {
	ws := synthApp(t).app.Workshop
	// The resolver names a bucket after its lower-cased logical ID.
	logs := "arn:aws:s3:::" + strings.ToLower(cdktest.LogicalID(ws.LogArchive.Bucket))
	results := "arn:aws:s3:::" + strings.ToLower(cdktest.LogicalID(ws.Analytics.ResultsBucket))
	workgroup := "arn:aws:athena:us-east-1:111122223333:workgroup/" + analytics.DefaultWorkGroupName
	table := "arn:aws:glue:us-east-1:111122223333:table/" + logschema.Database + "/" + logschema.CloudTrailTable
	key := "arn:aws:kms:us-east-1:111122223333:key/" + strings.ToLower(cdktest.LogicalID(ws.LogArchive.Key))
	viaS3 := map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com"} // the key is used through S3 only
	checkGrants(t, irroles.DefaultAnalystRoleName, []grantCase{
		{"athena:StartQueryExecution", workgroup, true, nil},
		{"athena:GetQueryResults", workgroup, true, nil},
		{"athena:StartQueryExecution", "arn:aws:athena:us-east-1:111122223333:workgroup/primary", false, nil},
		{"athena:GetTableMetadata", "arn:aws:athena:us-east-1:111122223333:datacatalog/AwsDataCatalog", true, nil},
		{"glue:GetTable", table, true, nil},
		{"glue:GetPartitions", table, true, nil},
		{"glue:GetDatabase", "arn:aws:glue:us-east-1:111122223333:database/" + logschema.Database, true, nil},
		{"glue:GetDatabase", "arn:aws:glue:us-east-1:111122223333:catalog", true, nil},
		{"glue:GetTable", "arn:aws:glue:us-east-1:111122223333:table/other_db/secrets", false, nil},
		{"s3:GetObject", logs + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/x.json.gz", true, nil},
		{"s3:PutObject", logs + "/AWSLogs/111122223333/forged.json.gz", false, nil},
		{"s3:DeleteObject", logs + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/x.json.gz", false, nil},
		{"s3:ListBucket", logs, true, nil},
		{"s3:PutObject", results + "/2026/query-id.csv", true, nil},
		{"s3:GetObject", results + "/2026/query-id.csv", true, nil},
		{"athena:DeleteWorkGroup", workgroup, false, nil},
		{"glue:DeleteTable", table, false, nil},
		// Decrypting the logs and writing encrypted results; the key policy
		// (TestWorkshopKeyAdmitsItsServicesAndTheRespondersOnly) is what
		// admits the role, through S3 only.
		{"kms:Decrypt", key, true, viaS3},
		{"kms:GenerateDataKey", key, true, viaS3},
		{"kms:Decrypt", key, false, map[string]string{"kms:ViaService": "lambda.us-east-1.amazonaws.com"}},
		{"kms:Decrypt", key, false, nil},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/another", false, viaS3},
	})
}

func TestAdminRoleManagesAthenaAndGlueInThisAccountOnly(t *testing.T) {
	checkGrants(t, irroles.DefaultAdminRoleName, []grantCase{
		{"athena:CreateWorkGroup", "arn:aws:athena:us-east-1:111122223333:workgroup/new", true, nil},
		{"athena:UpdateWorkGroup", "arn:aws:athena:us-east-1:111122223333:workgroup/" + analytics.DefaultWorkGroupName, true, nil},
		{"athena:CreateDataCatalog", "arn:aws:athena:us-east-1:111122223333:datacatalog/extra", true, nil},
		{"athena:ListWorkGroups", "*", true, nil},
		{"glue:CreateTable", "arn:aws:glue:us-east-1:111122223333:table/" + logschema.Database + "/s3_access_logs", true, nil},
		{"glue:BatchCreatePartition", "arn:aws:glue:us-east-1:111122223333:table/" + logschema.Database + "/" + logschema.VPCFlowTable, true, nil},
		{"glue:DeleteDatabase", "arn:aws:glue:us-east-1:111122223333:database/" + logschema.Database, true, nil},
		{"athena:CreateWorkGroup", "arn:aws:athena:eu-west-1:444455556666:workgroup/new", false, nil},
		{"iam:CreateUser", "arn:aws:iam::111122223333:user/x", false, nil},
		{"s3:DeleteBucket", "arn:aws:s3:::anything", false, nil},
	})
}

// grantCase is an action on a resource, with the request's condition keys,
// and whether a role should be allowed it.
type grantCase struct {
	action, resource string
	want             bool
	context          map[string]string
}

// checkGrants evaluates each case against a WorkshopStack role's policies.
func checkGrants(t *testing.T, roleName string, cases []grantCase) {
	t.Helper()
	tmpl := synthApp(t).json["WorkshopStack"]
	r := newResolver(t, tmpl)
	_, stmts, _ := rolePolicy(t, tmpl, roleName)
	for _, c := range cases {
		if got := allows(t, r, stmts, c.action, c.resource, c.context); got != c.want {
			t.Errorf("%s: %s on %s: allowed=%v, want %v", roleName, c.action, c.resource, got, c.want)
		}
	}
}

// TestEarlierPythonMistakesAreAbsent pins the spec's list of mistakes in the
// IAM policies of the earlier version.
func TestEarlierPythonMistakesAreAbsent(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	r := newResolver(t, tmpl)
	for _, name := range roleNames {
		_, stmts, _ := rolePolicy(t, tmpl, name)
		for _, st := range stmts {
			resources := strings.Join(r.list(t, st["Resource"]), " ")
			for _, a := range actions(st) {
				lower := strings.ToLower(a)
				if lower == "athena:getcatalogimportstatus" {
					t.Errorf("%s grants %s, which does not exist", name, a)
				}
				if strings.HasPrefix(lower, "glue:") && strings.Contains(resources, ":workgroup/") {
					t.Errorf("%s: Glue action %s points at a workgroup: %s", name, a, resources)
				}
				if strings.Contains(lower, "datacatalog") && strings.Contains(resources, ":workgroup/") {
					t.Errorf("%s: data catalog action %s points at a workgroup: %s", name, a, resources)
				}
			}
		}
	}
}
