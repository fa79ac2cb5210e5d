// Package irroles provides incident response roles:
//
//   - the analyst (SecurityAnalystRole) runs queries: what an analytics
//     construct's GrantQuery allows, read access to the logs, plus AWS
//     ReadOnlyAccess and CloudShell;
//   - the admin (SecurityAdminRole) administers Athena: what an analytics
//     construct's GrantAdminister allows, and read access to the logs;
//   - break glass (SecurityBreakGlassRole) has AdministratorAccess, for
//     containment, eradication and recovery;
//   - the deployer (SecurityDeployRole, optional) deploys the stacks a
//     DeployScope names through CloudFormation and enables GuardDuty, and can
//     do little else.
//
// The names default to the workshop's, which playbooks and people refer to.
// Only one base principal of this account (a role or a user, typically given
// as a template parameter) may assume them, for an hour at a time. The trust
// policies name the account and admit the base principal by an
// aws:PrincipalArn condition, so the roles deploy before that principal
// exists (IAM rejects a trust policy whose Principal does not exist) and
// work as soon as it does; the base principal also needs sts:AssumeRole on
// them in its own policies, as a trust on the account delegates to those.
// Break glass can require that the session was authenticated with MFA.
package irroles

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/nagreason"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
)

// Default role names.
const (
	DefaultAnalystRoleName    = "SecurityAnalystRole"
	DefaultAdminRoleName      = "SecurityAdminRole"
	DefaultBreakGlassRoleName = "SecurityBreakGlassRole"
	DefaultDeployRoleName     = "SecurityDeployRole"
)

// BasePrincipalPattern is what the base principal parameter accepts:
// role/NAME or user/NAME, with an optional IAM path.
const BasePrincipalPattern = `^(role|user)/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$`

var (
	basePrincipal = regexp.MustCompile(BasePrincipalPattern)
	roleName      = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	stackName     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	trueOrFalse   = regexp.MustCompile(`^(true|false)$`)
)

// LogReader grants reading logs; logarchive.LogArchive is one.
type LogReader interface {
	GrantRead(grantee awsiam.IGrantable) awsiam.Grant
}

// QueryService grants running queries and administering the query engine;
// analytics.SecurityAnalytics is one.
type QueryService interface {
	GrantQuery(grantee awsiam.IGrantable) awsiam.Grant
	GrantAdminister(grantee awsiam.IGrantable) awsiam.Grant
}

// IncidentResponseRolesProps configures IncidentResponseRoles.
type IncidentResponseRolesProps struct {
	// BasePrincipal is "role/NAME" or "user/NAME" in this account, typically
	// a template parameter's value: the only principal that may assume the
	// roles. Required.
	BasePrincipal *string
	// BreakGlassRequiresMfa is "true" when assuming the break glass role
	// takes a session authenticated with MFA (aws:MultiFactorAuthPresent),
	// "false" when not, or a token that resolves to one of them at
	// deployment, such as a template parameter's value. Default "false".
	BreakGlassRequiresMfa *string
	// Logs grants the analyst and the admin reading the logs. Required.
	Logs LogReader
	// Analytics grants the analyst querying and the admin administering.
	// Required.
	Analytics QueryService
	// Deploy says what the deploy role may deploy. Default: no deploy role.
	Deploy *DeployScope
	// AnalystRoleName names the analyst's role. Default
	// DefaultAnalystRoleName.
	AnalystRoleName string
	// AdminRoleName names the admin's role. Default DefaultAdminRoleName.
	AdminRoleName string
	// BreakGlassRoleName names the break glass role. Default
	// DefaultBreakGlassRoleName.
	BreakGlassRoleName string
	// DeployRoleName names the deploy role. Default DefaultDeployRoleName.
	DeployRoleName string
}

// DeployScope is what the deploy role may deploy: some stacks, and through
// them the resources they hold, and nothing else.
type DeployScope struct {
	// StackNames are the stacks the role may create, update and delete
	// through CloudFormation. Required.
	StackNames []string
	// Statements allow what CloudFormation does with the role's credentials
	// to create, update and delete those stacks' resources (the handler
	// permissions of each resource type), scoped to those resources.
	Statements []awsiam.PolicyStatement
	// Description of the role. Default: it deploys StackNames and enables
	// GuardDuty.
	Description string
}

// IncidentResponseRoles holds the roles.
type IncidentResponseRoles struct {
	constructs.Construct
	Analyst    awsiam.Role
	Admin      awsiam.Role
	BreakGlass awsiam.Role
	// Deploy is nil without a DeployScope.
	Deploy awsiam.Role
}

// NewIncidentResponseRoles creates the roles. A missing required field or an
// invalid name stops synthesis with a message that names it.
func NewIncidentResponseRoles(scope constructs.Construct, id string, props *IncidentResponseRolesProps) *IncidentResponseRoles {
	if props == nil {
		props = &IncidentResponseRolesProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	r := &IncidentResponseRoles{Construct: c}
	names := map[string]string{
		"AnalystRoleName":    orDefault(props.AnalystRoleName, DefaultAnalystRoleName),
		"AdminRoleName":      orDefault(props.AdminRoleName, DefaultAdminRoleName),
		"BreakGlassRoleName": orDefault(props.BreakGlassRoleName, DefaultBreakGlassRoleName),
		"DeployRoleName":     orDefault(props.DeployRoleName, DefaultDeployRoleName),
	}
	problems := validate.Problems{Props: "IncidentResponseRolesProps"}
	problems.Require(props.BasePrincipal == nil, "BasePrincipal", `the role or user ("role/NAME" or "user/NAME") that may assume the roles`)
	if props.BasePrincipal != nil {
		problems.Pattern("BasePrincipal", *props.BasePrincipal, basePrincipal, `"role/NAME" or "user/NAME", with an optional IAM path`)
	}
	if props.BreakGlassRequiresMfa != nil {
		problems.Pattern("BreakGlassRequiresMfa", *props.BreakGlassRequiresMfa, trueOrFalse, `"true" or "false"`)
	}
	problems.Require(props.Logs == nil, "Logs", "the logs the analyst and the admin read")
	problems.Require(props.Analytics == nil, "Analytics", "the query service the analyst queries and the admin administers")
	for _, field := range []string{"AnalystRoleName", "AdminRoleName", "BreakGlassRoleName", "DeployRoleName"} {
		problems.Pattern(field, names[field], roleName, "an IAM role name: 1 to 64 letters, digits or +=,.@_-")
	}
	if d := props.Deploy; d != nil {
		problems.Require(len(d.StackNames) == 0, "Deploy.StackNames", "the stacks the deploy role may deploy")
		for _, n := range d.StackNames {
			problems.Pattern("Deploy.StackNames", n, stackName, "a stack name: a letter, then up to 127 letters, digits or '-'")
		}
	}
	if problems.Stop(c) {
		return r
	}
	base := trust(props.BasePrincipal, nil)

	newRole := func(id, name, description string, trusted awsiam.IPrincipal, managed ...string) awsiam.Role {
		var policies []awsiam.IManagedPolicy
		for _, m := range managed {
			policies = append(policies, awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(m)))
		}
		return awsiam.NewRole(c, jsii.String(id), &awsiam.RoleProps{
			RoleName:           jsii.String(name),
			Description:        jsii.String(description),
			AssumedBy:          trusted,
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
			ManagedPolicies:    &policies,
		})
	}

	r.Analyst = newRole("Analyst", names["AnalystRoleName"],
		"Incident response analyst: runs the playbook queries in Athena and reads the account", base, "ReadOnlyAccess", "AWSCloudShellFullAccess")
	props.Analytics.GrantQuery(r.Analyst)
	props.Logs.GrantRead(r.Analyst)

	r.Admin = newRole("Admin", names["AdminRoleName"],
		"Athena administrator: manages workgroups, data catalogs, Glue databases, tables and partitions", base)
	props.Analytics.GrantAdminister(r.Admin)
	props.Logs.GrantRead(r.Admin)

	r.BreakGlass = newRole("BreakGlass", names["BreakGlassRoleName"],
		"Break glass: full administrator for containment, eradication and recovery; every use is an event to review",
		trust(props.BasePrincipal, mfaCondition(c, props.BreakGlassRequiresMfa)), "AdministratorAccess")

	if props.Deploy != nil {
		description := props.Deploy.Description
		if description == "" {
			description = "Deploys " + strings.Join(props.Deploy.StackNames, ", ") + " through CloudFormation and enables GuardDuty"
		}
		r.Deploy = newRole("Deploy", names["DeployRoleName"], description, base)
		deployPolicy(r.Deploy, props.Deploy)
	}

	suppress(r)
	return r
}

// trust is the account's principal narrowed to the base principal's ARN, and
// to MFA sessions when mfa is not nil.
func trust(basePrincipal *string, mfa any) awsiam.IPrincipal {
	conditions := map[string]any{
		"ArnEquals": map[string]any{"aws:PrincipalArn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:${Base}"),
			&map[string]*string{"Base": basePrincipal})},
	}
	if mfa != nil {
		conditions["Bool"] = mfa
	}
	return awsiam.NewPrincipalWithConditions(awsiam.NewAccountRootPrincipal(), &conditions)
}

// mfaCondition returns the Bool condition that requires MFA: nil when
// required is nil or "false", the condition itself when "true", and for a
// token a condition that CloudFormation keeps or drops at deployment.
func mfaCondition(scope constructs.Construct, required *string) any {
	mfa := map[string]any{"aws:MultiFactorAuthPresent": "true"}
	switch {
	case required == nil || *required == "false":
		return nil
	case !*awscdk.Token_IsUnresolved(required):
		return mfa
	}
	requires := awscdk.NewCfnCondition(scope, jsii.String("BreakGlassRequiresMfa"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(required, jsii.String("true")),
	})
	return awscdk.Fn_ConditionIf(requires.LogicalId(), mfa, awscdk.Aws_NO_VALUE())
}

func orDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}

// statement adds one Allow statement to role's default policy.
func statement(role awsiam.Role, sid string, actions []string, resources ...*string) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// arn formats an ARN in this partition, region and account.
func arn(format string) *string {
	return awscdk.Fn_Sub(jsii.String(format), nil)
}

// deployPolicy allows what deploying, updating and deleting the scope's
// stacks takes and nothing more: CloudFormation on those stacks; the template
// bucket that the CloudFormation console creates for an uploaded file; the
// scope's own statements for the stacks' resources; and turning GuardDuty on,
// with the service-linked role that needs.
func deployPolicy(role awsiam.Role, d *DeployScope) {
	var stacks []*string
	for _, name := range d.StackNames {
		stacks = append(stacks, arn("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/"+name+"/*"))
	}
	statement(role, "DeployStacks", []string{
		"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
		"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
		"cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
		"cloudformation:ListStackResources", "cloudformation:GetTemplate", "cloudformation:GetTemplateSummary",
		"cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
		"cloudformation:DeleteChangeSet", "cloudformation:ListChangeSets",
	}, stacks...)
	// ValidateTemplate and ListStacks take no resource-level permission.
	statement(role, "ReadTemplates", []string{"cloudformation:ValidateTemplate", "cloudformation:ListStacks"}, jsii.String("*"))
	statement(role, "ConsoleTemplateUpload", []string{"s3:CreateBucket", "s3:PutObject", "s3:GetObject"},
		arn("arn:${AWS::Partition}:s3:::cf-templates-*"))
	for _, st := range d.Statements {
		role.AddToPrincipalPolicy(st)
	}

	// CreateDetector and ListDetectors take no resource-level permission.
	statement(role, "EnableGuardDuty", []string{"guardduty:CreateDetector", "guardduty:ListDetectors"}, jsii.String("*"))
	statement(role, "ConfigureGuardDuty", []string{"guardduty:GetDetector", "guardduty:UpdateDetector"},
		arn("arn:${AWS::Partition}:guardduty:${AWS::Region}:${AWS::AccountId}:detector/*"))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("GuardDutyServiceLinkedRole"),
		Actions:   jsii.Strings("iam:CreateServiceLinkedRole"),
		Resources: &[]*string{arn("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*guardduty.amazonaws.com/*")},
		Conditions: &map[string]any{
			"StringLike": map[string]any{"iam:AWSServiceName": []string{"guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com"}},
		},
	}))
}

func suppress(r *IncidentResponseRoles) {
	add := func(role awsiam.Role, findings ...*cdknag.NagPackSuppression) {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &findings, jsii.Bool(true))
	}
	managed := func(names ...string) *[]interface{} {
		var out []interface{}
		for _, n := range names {
			out = append(out, "Policy::arn:<AWS::Partition>:iam::aws:policy/"+n)
		}
		return &out
	}
	// The grants of the constructs a role works with go to the role's
	// default policy, an inline policy of that one role.
	inline := &cdknag.NagPackSuppression{Id: jsii.String("NIST.800.53.R5-IAMNoInlinePolicy"), Reason: jsii.String(nagreason.InlinePolicy)}
	add(r.Analyst, inline,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM4"), AppliesTo: managed("ReadOnlyAccess", "AWSCloudShellFullAccess"),
			Reason: jsii.String("An analyst investigates the whole account: AWS keeps ReadOnlyAccess current with every new service, and CloudShell is where the playbook commands run.")},
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Wildcards are object keys in the log and query results buckets and the tables of the analytics database; every ARN names one of those resources.")})
	add(r.Admin, inline,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("An Athena administrator creates and deletes workgroups, data catalogs, databases and tables, whose names are not known in advance; all ARNs stay in this account and region, and the list calls support no resource-level permission.")})
	add(r.BreakGlass,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM4"), AppliesTo: managed("AdministratorAccess"),
			Reason: jsii.String("Break glass is full administrator by definition: containment, eradication and recovery may touch anything. Only the base principal can assume it, for an hour at a time, and CloudTrail records every use.")})
	if r.Deploy != nil {
		add(r.Deploy, inline,
			&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("Wildcards are the ID suffix of the stacks it deploys and name suffixes of their resources (such as a secret's random suffix), the console's cf-templates bucket, GuardDuty detector IDs and service-linked role paths, and calls IAM cannot scope to a resource.")})
	}
}
