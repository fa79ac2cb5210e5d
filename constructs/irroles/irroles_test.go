package irroles_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// The constructs of this project are what the roles are built from.
var (
	_ irroles.LogReader    = (*logarchive.LogArchive)(nil)
	_ irroles.QueryService = (*analytics.SecurityAnalytics)(nil)
)

// fakeGrants stands in for the log archive and the analytics: each grant
// adds one statement that names it, so the tests see which role got which.
type fakeGrants struct{}

func (fakeGrants) grant(grantee awsiam.IGrantable, action string) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, Actions: jsii.Strings(action), ResourceArns: jsii.Strings("arn:aws:s3:::" + strings.ToLower(strings.ReplaceAll(action, ":", "-"))),
	})
}
func (f fakeGrants) GrantRead(g awsiam.IGrantable) awsiam.Grant { return f.grant(g, "s3:GetObject") }
func (f fakeGrants) GrantQuery(g awsiam.IGrantable) awsiam.Grant {
	return f.grant(g, "athena:StartQueryExecution")
}
func (f fakeGrants) GrantAdminister(g awsiam.IGrantable) awsiam.Grant {
	return f.grant(g, "athena:CreateWorkGroup")
}

type built struct {
	// named takes its base principal and MFA requirement from the
	// parameters Base and Mfa; defaults trusts user/alice; strict always
	// requires MFA for break glass.
	named, defaults, strict *irroles.IncidentResponseRoles
	scopeStatement          awsiam.PolicyStatement
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	base := awscdk.NewCfnParameter(stack, jsii.String("Base"), &awscdk.CfnParameterProps{Default: jsii.String("role/Responder")})
	mfa := awscdk.NewCfnParameter(stack, jsii.String("Mfa"), &awscdk.CfnParameterProps{Default: jsii.String("false")})
	b.scopeStatement = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ManageAppUsers"), Actions: jsii.Strings("iam:CreateUser"), Resources: jsii.Strings("arn:aws:iam::111122223333:user/app"),
	})
	b.named = irroles.NewIncidentResponseRoles(stack, "Named", &irroles.IncidentResponseRolesProps{
		BasePrincipal:         base.ValueAsString(),
		BreakGlassRequiresMfa: mfa.ValueAsString(),
		Logs:                  fakeGrants{},
		Analytics:             fakeGrants{},
		AnalystRoleName:       "IrAnalyst",
		AdminRoleName:         "IrAdmin",
		BreakGlassRoleName:    "IrBreakGlass",
		DeployRoleName:        "IrDeploy",
		Deploy: &irroles.DeployScope{
			StackNames: []string{"AppStack", "AppData"},
			Statements: []awsiam.PolicyStatement{b.scopeStatement},
		},
	})
	b.defaults = irroles.NewIncidentResponseRoles(stack, "Defaults", &irroles.IncidentResponseRolesProps{
		BasePrincipal: jsii.String("user/alice"),
		Logs:          fakeGrants{},
		Analytics:     fakeGrants{},
	})
	b.strict = irroles.NewIncidentResponseRoles(stack, "Strict", &irroles.IncidentResponseRolesProps{
		BasePrincipal:         jsii.String("role/team/Lead"),
		BreakGlassRequiresMfa: jsii.String("true"),
		Logs:                  fakeGrants{},
		Analytics:             fakeGrants{},
		AnalystRoleName:       "StrictAnalyst",
		AdminRoleName:         "StrictAdmin",
		BreakGlassRoleName:    "StrictBreakGlass",
	})
	return b
}}

// TestRolesTrustTheAccountNarrowedToTheBasePrincipalForAnHour pins the shape
// of the trust: the account as Principal (so the stack deploys whether or
// not the base principal exists), the base principal's ARN as a condition.
// TestOnlyTheBasePrincipalMayAssumeTheRoles evaluates what it allows.
func TestRolesTrustTheAccountNarrowedToTheBasePrincipalForAnHour(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	root := map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::", map[string]any{"Ref": "AWS::AccountId"}, ":root"}}}
	trust := func(base any) map[string]any {
		return map[string]any{"Statement": []any{map[string]any{
			"Action":    "sts:AssumeRole",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": root},
			"Condition": assertions.Match_ObjectLike(&map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": map[string]any{"Fn::Sub": []any{
				"arn:${AWS::Partition}:iam::${AWS::AccountId}:${Base}", map[string]any{"Base": base},
			}}}}),
		}}}
	}
	managed := func(names ...string) any {
		if len(names) == 0 {
			return assertions.Match_Absent()
		}
		var out []any
		for _, n := range names {
			out = append(out, map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/" + n}}})
		}
		return out
	}
	cases := []struct {
		role    awsiam.Role
		name    string
		base    any
		managed any
	}{
		{b.named.Analyst, "IrAnalyst", map[string]any{"Ref": "Base"}, managed("ReadOnlyAccess", "AWSCloudShellFullAccess")},
		{b.named.Admin, "IrAdmin", map[string]any{"Ref": "Base"}, managed()},
		{b.named.BreakGlass, "IrBreakGlass", map[string]any{"Ref": "Base"}, managed("AdministratorAccess")},
		{b.named.Deploy, "IrDeploy", map[string]any{"Ref": "Base"}, managed()},
		{b.defaults.Analyst, irroles.DefaultAnalystRoleName, "user/alice", managed("ReadOnlyAccess", "AWSCloudShellFullAccess")},
		{b.defaults.Admin, irroles.DefaultAdminRoleName, "user/alice", managed()},
		{b.defaults.BreakGlass, irroles.DefaultBreakGlassRoleName, "user/alice", managed("AdministratorAccess")},
		{b.strict.Analyst, "StrictAnalyst", "role/team/Lead", managed("ReadOnlyAccess", "AWSCloudShellFullAccess")},
		{b.strict.Admin, "StrictAdmin", "role/team/Lead", managed()},
		{b.strict.BreakGlass, "StrictBreakGlass", "role/team/Lead", managed("AdministratorAccess")},
	}
	for _, c := range cases {
		cdktest.Assert(t, c.name, func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{
				"RoleName":                 c.name,
				"AssumeRolePolicyDocument": trust(c.base),
				"MaxSessionDuration":       3600,
				"ManagedPolicyArns":        c.managed,
			}))
		})
	}
	cdktest.Assert(t, "no deploy role without a deploy scope", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(len(cases)))
	})
	if b.defaults.Deploy != nil {
		t.Error("Defaults.Deploy is set without a DeployScope")
	}
}

// TestOnlyTheBasePrincipalMayAssumeTheRoles evaluates each role's trust
// policy, resolved for a deployment, with iamsim: the base principal may
// assume it; another role or user of the account, and the same name in
// another account, may not; break glass takes MFA when required.
func TestOnlyTheBasePrincipalMayAssumeTheRoles(t *testing.T) {
	_, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	const account, other = "111122223333", "444455556666"
	arn := func(acct, name string) string { return "arn:aws:iam::" + acct + ":" + name }
	mfa := map[string]string{"aws:MultiFactorAuthPresent": "true"}
	noMfa := map[string]string{"aws:MultiFactorAuthPresent": "false"}
	type attempt struct {
		who  string
		ctx  map[string]string
		want bool
	}
	// attempts are what every role must answer for a base principal.
	attempts := func(base string, mfaRequired bool) []attempt {
		return []attempt{
			{arn(account, base), mfa, true},
			{arn(account, base), noMfa, !mfaRequired},
			{arn(account, base), nil, !mfaRequired},
			{arn(account, "role/Other"), mfa, false},
			{arn(account, "user/mallory"), mfa, false},
			{arn(account, "role/Responder2"), mfa, false},
			{arn(other, base), mfa, false},
		}
	}
	deployments := []struct {
		params map[string]string
		roles  map[string]bool // role name: break glass requiring MFA
		base   string
	}{
		{nil, map[string]bool{"IrAnalyst": false, "IrAdmin": false, "IrDeploy": false, "IrBreakGlass": false}, "role/Responder"},
		{map[string]string{"Mfa": "true", "Base": "user/bob"}, map[string]bool{"IrAnalyst": false, "IrBreakGlass": true, "IrDeploy": false}, "user/bob"},
		{nil, map[string]bool{irroles.DefaultAnalystRoleName: false, irroles.DefaultBreakGlassRoleName: false}, "user/alice"},
		{nil, map[string]bool{"StrictAnalyst": false, "StrictAdmin": false, "StrictBreakGlass": true}, "role/team/Lead"},
	}
	for _, d := range deployments {
		r, err := iamsim.NewResolver(template, iamsim.Deployment{Account: account, Parameters: d.params})
		if err != nil {
			t.Fatal(err)
		}
		for name, mfaRequired := range d.roles {
			doc := trustPolicy(t, r, template, name)
			for _, a := range append(attempts(d.base, mfaRequired), attempt{arn(account, "role/"+name), mfa, false}) {
				got, err := iamsim.Allows(doc, iamsim.Request{Principal: a.who, Action: "sts:AssumeRole", Context: a.ctx})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got != a.want {
					t.Errorf("parameters %v: %s assuming %s with %v: allowed=%v, want %v", d.params, a.who, name, a.ctx, got, a.want)
				}
			}
		}
	}
}

// trustPolicy returns the resolved trust policy of the role named name.
func trustPolicy(t *testing.T, r *iamsim.Resolver, template map[string]any, name string) any {
	t.Helper()
	resources, _ := template["Resources"].(map[string]any)
	for _, res := range resources {
		res, _ := res.(map[string]any)
		if res["Type"] != "AWS::IAM::Role" {
			continue
		}
		props, err := r.Resolve(res["Properties"])
		if err != nil {
			t.Fatal(err)
		}
		if p := props.(map[string]any); p["RoleName"] == name {
			return p["AssumeRolePolicyDocument"]
		}
	}
	t.Fatalf("no role named %s", name)
	return nil
}

// TestRolesTakeTheirGrantsFromTheConstructsThatOwnTheResources pins which
// grant each role receives: the roles build no ARN of the logs or the
// analytics themselves.
func TestRolesTakeTheirGrantsFromTheConstructsThatOwnTheResources(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	statement := func(action string) map[string]any {
		return map[string]any{"Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::" + strings.ToLower(strings.ReplaceAll(action, ":", "-"))}
	}
	policies := []struct {
		role       awsiam.Role
		statements []any
	}{
		{b.named.Analyst, []any{statement("athena:StartQueryExecution"), statement("s3:GetObject")}},
		{b.named.Admin, []any{statement("athena:CreateWorkGroup"), statement("s3:GetObject")}},
	}
	for _, p := range policies {
		cdktest.Assert(t, *p.role.Node().Id(), func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
				"Roles":          []any{cdktest.Ref(p.role)},
				"PolicyDocument": map[string]any{"Statement": p.statements},
			}))
		})
	}
	cdktest.Assert(t, "break glass has no policy of its own", func() {
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.named.BreakGlass)},
		}), jsii.Number(0))
	})
}

// TestDeployRoleDeploysItsStacksAndEnablesGuardDutyOnly pins the deploy
// role's whole policy: CloudFormation on the scope's stacks, the console's
// template bucket, the scope's own statements, and GuardDuty.
func TestDeployRoleDeploysItsStacksAndEnablesGuardDutyOnly(t *testing.T) {
	b, stack, tmpl := fixture.Get(t)
	sub := func(format string) map[string]any { return map[string]any{"Fn::Sub": format} }
	scope := stack.Resolve(b.scopeStatement.ToStatementJson())
	cdktest.Assert(t, "deploy policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.named.Deploy)},
			"PolicyDocument": map[string]any{"Statement": []any{
				assertions.Match_ObjectLike(&map[string]any{
					"Sid":    "DeployStacks",
					"Action": assertions.Match_ArrayWith(&[]any{"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack"}),
					"Resource": []any{
						sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/AppStack/*"),
						sub("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/AppData/*"),
					},
				}),
				map[string]any{"Sid": "ReadTemplates", "Effect": "Allow", "Action": []any{"cloudformation:ValidateTemplate", "cloudformation:ListStacks"}, "Resource": "*"},
				map[string]any{"Sid": "ConsoleTemplateUpload", "Effect": "Allow", "Action": []any{"s3:CreateBucket", "s3:PutObject", "s3:GetObject"},
					"Resource": sub("arn:${AWS::Partition}:s3:::cf-templates-*")},
				scope,
				map[string]any{"Sid": "EnableGuardDuty", "Effect": "Allow", "Action": []any{"guardduty:CreateDetector", "guardduty:ListDetectors"}, "Resource": "*"},
				map[string]any{"Sid": "ConfigureGuardDuty", "Effect": "Allow", "Action": []any{"guardduty:GetDetector", "guardduty:UpdateDetector"},
					"Resource": sub("arn:${AWS::Partition}:guardduty:${AWS::Region}:${AWS::AccountId}:detector/*")},
				map[string]any{"Sid": "GuardDutyServiceLinkedRole", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
					"Resource": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*guardduty.amazonaws.com/*"),
					"Condition": map[string]any{"StringLike": map[string]any{
						"iam:AWSServiceName": []any{"guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com"},
					}}},
			}},
		}))
	})
	cdktest.Assert(t, "default description names the stacks", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{
			"RoleName":    "IrDeploy",
			"Description": "Deploys AppStack, AppData through CloudFormation and enables GuardDuty",
		}))
	})
}

func TestMissingOrBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	irroles.NewIncidentResponseRoles(stack, "Nil", nil)
	irroles.NewIncidentResponseRoles(stack, "BadNames", &irroles.IncidentResponseRolesProps{
		BasePrincipal:         jsii.String("group/responders"),
		Logs:                  fakeGrants{},
		Analytics:             fakeGrants{},
		AnalystRoleName:       "IR Analyst",
		BreakGlassRequiresMfa: jsii.String("yes"),
		Deploy:                &irroles.DeployScope{},
	})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/Nil] IncidentResponseRolesProps.BasePrincipal is required",
		"[Bad/Nil] IncidentResponseRolesProps.Logs is required",
		"[Bad/Nil] IncidentResponseRolesProps.Analytics is required",
		`[Bad/BadNames] IncidentResponseRolesProps.BasePrincipal is "group/responders"`,
		`[Bad/BadNames] IncidentResponseRolesProps.AnalystRoleName is "IR Analyst"`,
		`[Bad/BadNames] IncidentResponseRolesProps.BreakGlassRequiresMfa is "yes"; it must be "true" or "false"`,
		"[Bad/BadNames] IncidentResponseRolesProps.Deploy.StackNames is required",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}

// ExampleNewIncidentResponseRoles gives responders roles over a log archive
// and its analytics, assumable by one role of the account.
func ExampleNewIncidentResponseRoles() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Responders"), nil)
	archive := logarchive.NewLogArchive(stack, "LogArchive", nil)
	queries := analytics.NewSecurityAnalytics(stack, "Analytics", &analytics.SecurityAnalyticsProps{
		LogBucket:        archive.Bucket,
		AccessLogsBucket: archive.AccessLogsBucket,
		StartDate:        jsii.String("2026/01/01"),
		VpcIds:           []*string{jsii.String("vpc-0123456789abcdef0")},
	})
	roles := irroles.NewIncidentResponseRoles(stack, "Roles", &irroles.IncidentResponseRolesProps{
		BasePrincipal: jsii.String("role/Responder"),
		Logs:          archive,
		Analytics:     queries,
	})

	assertions.Template_FromStack(stack, nil)
	for _, role := range []awsiam.Role{roles.Analyst, roles.Admin, roles.BreakGlass} {
		fmt.Println(*role.Node().Path())
	}
	// Output:
	// Responders/Roles/Analyst
	// Responders/Roles/Admin
	// Responders/Roles/BreakGlass
}
