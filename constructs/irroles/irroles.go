// Package irroles provides the incident response roles of the workshop:
//
//   - SecurityAnalystRole runs the playbook queries: Athena in the workshop
//     workgroup, the Glue catalog objects of the workshop database, the log
//     bucket read-only, the results bucket read-write, plus AWS ReadOnlyAccess
//     and CloudShell.
//   - SecurityAdminRole administers Athena: workgroups, data catalogs, named
//     queries, and Glue databases, tables and partitions.
//   - SecurityBreakGlassRole has AdministratorAccess, for containment,
//     eradication and recovery.
//   - SecurityDeployRole deploys SimulationStack through CloudFormation and
//     enables GuardDuty, and can do little else.
//
// The names are fixed because playbooks and people refer to them. Only one
// base principal of this account (a role or a user, given as a parameter)
// may assume them.
package irroles

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Role names.
const (
	AnalystRoleName    = "SecurityAnalystRole"
	AdminRoleName      = "SecurityAdminRole"
	BreakGlassRoleName = "SecurityBreakGlassRole"
	DeployRoleName     = "SecurityDeployRole"
)

// BasePrincipalPattern is what the base principal parameter accepts:
// role/NAME or user/NAME, with an optional IAM path.
const BasePrincipalPattern = `^(role|user)/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$`

// IncidentResponseRolesProps configures IncidentResponseRoles.
type IncidentResponseRolesProps struct {
	// BasePrincipal is "role/NAME" or "user/NAME" in this account, typically
	// a template parameter's value. Required.
	BasePrincipal *string
	// WorkGroupName is the Athena workgroup the analyst queries in. Required.
	WorkGroupName string
	// DatabaseName is the Glue database of the log tables. Required.
	DatabaseName string
	// LogBucket holds the logs; the analyst and admin read it. Required.
	LogBucket awss3.IBucket
	// ResultsBucket holds Athena results; the analyst and admin write it.
	// Required.
	ResultsBucket awss3.IBucket
	// Simulation names what SecurityDeployRole may deploy. Required.
	Simulation SimulationStackFacts
}

// SimulationStackFacts is what SecurityDeployRole needs to know of
// SimulationStack to deploy it and nothing else.
type SimulationStackFacts struct {
	// StackName of SimulationStack.
	StackName string
	// UserNames of the IAM users it creates.
	UserNames []string
	// SecretNamePrefix starts the names of the secrets it creates.
	SecretNamePrefix string
}

// IncidentResponseRoles holds the four roles.
type IncidentResponseRoles struct {
	constructs.Construct
	Analyst    awsiam.Role
	Admin      awsiam.Role
	BreakGlass awsiam.Role
	Deploy     awsiam.Role
}

// NewIncidentResponseRoles creates the roles.
func NewIncidentResponseRoles(scope constructs.Construct, id string, props *IncidentResponseRolesProps) *IncidentResponseRoles {
	if props == nil || props.BasePrincipal == nil || props.WorkGroupName == "" || props.DatabaseName == "" ||
		props.LogBucket == nil || props.ResultsBucket == nil || props.Simulation.StackName == "" {
		panic(fmt.Sprintf("irroles %s: BasePrincipal, WorkGroupName, DatabaseName, LogBucket, ResultsBucket and Simulation are required", id))
	}
	c := constructs.NewConstruct(scope, &id)
	r := &IncidentResponseRoles{Construct: c}
	base := awsiam.NewArnPrincipal(awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:${Base}"),
		&map[string]*string{"Base": props.BasePrincipal}))

	newRole := func(id, name, description string, managed ...string) awsiam.Role {
		var policies []awsiam.IManagedPolicy
		for _, m := range managed {
			policies = append(policies, awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(m)))
		}
		return awsiam.NewRole(c, jsii.String(id), &awsiam.RoleProps{
			RoleName:           jsii.String(name),
			Description:        jsii.String(description),
			AssumedBy:          base,
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
			ManagedPolicies:    &policies,
		})
	}

	r.Analyst = newRole("Analyst", AnalystRoleName,
		"Incident response analyst: runs the playbook queries in Athena and reads the account", "ReadOnlyAccess", "AWSCloudShellFullAccess")
	analystPolicy(r.Analyst, props)

	r.Admin = newRole("Admin", AdminRoleName,
		"Athena administrator: manages workgroups, data catalogs, Glue databases, tables and partitions")
	adminPolicy(r.Admin, props)

	r.BreakGlass = newRole("BreakGlass", BreakGlassRoleName,
		"Break glass: full administrator for containment, eradication and recovery; every use is an event to review", "AdministratorAccess")

	r.Deploy = newRole("Deploy", DeployRoleName,
		"Deploys SimulationStack through CloudFormation and enables GuardDuty")
	deployPolicy(r.Deploy, props)

	suppress(r)
	return r
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

// bucketAccess grants reading (and with write, writing) a bucket's objects.
func bucketAccess(role awsiam.Role, sid string, bucket awss3.IBucket, objects string, write bool) {
	bucketActions := []string{"s3:GetBucketLocation", "s3:ListBucket"}
	objectActions := []string{"s3:GetObject"}
	if write {
		bucketActions = append(bucketActions, "s3:ListBucketMultipartUploads")
		objectActions = append(objectActions, "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
	}
	statement(role, sid+"Bucket", bucketActions, bucket.BucketArn())
	statement(role, sid+"Objects", objectActions,
		awscdk.Fn_Sub(jsii.String("${Arn}/"+objects), &map[string]*string{"Arn": bucket.BucketArn()}))
}

// Athena actions on a workgroup that running queries takes.
var queryActions = []string{
	"athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
	"athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:ListQueryExecutions",
	"athena:BatchGetQueryExecution", "athena:GetWorkGroup",
	"athena:ListNamedQueries", "athena:GetNamedQuery", "athena:BatchGetNamedQuery",
}

// Athena actions on the data catalog that browsing tables takes.
var catalogReadActions = []string{
	"athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
	"athena:ListTableMetadata", "athena:GetTableMetadata",
}

// Glue actions that reading the database and its table definitions takes.
var (
	glueDatabaseReadActions = []string{"glue:GetDatabase", "glue:GetDatabases"}
	glueTableReadActions    = []string{
		"glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
	}
)

// glueARNs are the catalog, a database and its tables: a Glue table action
// needs all three, a database action the first two.
func glueARNs(database string, withTables bool) []*string {
	out := []*string{
		arn("arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog"),
		arn("arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/" + database),
	}
	if withTables {
		out = append(out, arn("arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/"+database+"/*"))
	}
	return out
}

func analystPolicy(role awsiam.Role, p *IncidentResponseRolesProps) {
	statement(role, "RunQueriesInWorkshopWorkgroup", queryActions,
		arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/"+p.WorkGroupName))
	statement(role, "BrowseDataCatalog", catalogReadActions,
		arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:datacatalog/AwsDataCatalog"))
	statement(role, "ReadWorkshopDatabase", glueDatabaseReadActions, glueARNs(p.DatabaseName, false)...)
	statement(role, "ReadWorkshopTables", glueTableReadActions, glueARNs(p.DatabaseName, true)...)
	bucketAccess(role, "ReadLogs", p.LogBucket, "AWSLogs/*", false)
	bucketAccess(role, "WriteQueryResults", p.ResultsBucket, "*", true)
}

func adminPolicy(role awsiam.Role, p *IncidentResponseRolesProps) {
	statement(role, "ManageWorkgroups", append([]string{
		"athena:CreateWorkGroup", "athena:UpdateWorkGroup", "athena:DeleteWorkGroup",
		"athena:CreateNamedQuery", "athena:UpdateNamedQuery", "athena:DeleteNamedQuery",
		"athena:TagResource", "athena:UntagResource", "athena:ListTagsForResource",
	}, queryActions...),
		arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/*"))
	statement(role, "ManageDataCatalogs", append([]string{
		"athena:CreateDataCatalog", "athena:UpdateDataCatalog", "athena:DeleteDataCatalog",
	}, catalogReadActions...),
		arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:datacatalog/*"))
	// These list calls take no resource-level permission in IAM.
	statement(role, "ListAthena", []string{"athena:ListWorkGroups", "athena:ListDataCatalogs", "athena:ListEngineVersions"},
		jsii.String("*"))
	statement(role, "ManageGlueDatabases", append([]string{
		"glue:CreateDatabase", "glue:UpdateDatabase", "glue:DeleteDatabase",
	}, glueDatabaseReadActions...), glueARNs("*", false)...)
	statement(role, "ManageGlueTables", append([]string{
		"glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:BatchDeleteTable",
		"glue:GetTableVersion", "glue:GetTableVersions", "glue:DeleteTableVersion", "glue:BatchDeleteTableVersion",
		"glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition",
		"glue:DeletePartition", "glue:BatchDeletePartition",
	}, glueTableReadActions...), glueARNs("*", true)...)
	bucketAccess(role, "ReadLogs", p.LogBucket, "AWSLogs/*", false)
	bucketAccess(role, "WriteQueryResults", p.ResultsBucket, "*", true)
}

// deployPolicy allows what deploying, updating and deleting SimulationStack
// takes and nothing more: CloudFormation on that stack; the IAM users, their
// inline policies and access keys by name (the handler permissions of
// AWS::IAM::User, AWS::IAM::Policy and AWS::IAM::AccessKey); the secrets by
// name prefix (AWS::SecretsManager::Secret); the template bucket that the
// CloudFormation console creates for an uploaded file; and turning GuardDuty
// on, with the service-linked role that needs. A test derives the actions
// SimulationStack's resources need from its template and checks each is here.
func deployPolicy(role awsiam.Role, p *IncidentResponseRolesProps) {
	s := p.Simulation
	statement(role, "DeploySimulationStack", []string{
		"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
		"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
		"cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
		"cloudformation:ListStackResources", "cloudformation:GetTemplate", "cloudformation:GetTemplateSummary",
		"cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
		"cloudformation:DeleteChangeSet", "cloudformation:ListChangeSets",
	}, arn("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/"+s.StackName+"/*"))
	// ValidateTemplate and ListStacks take no resource-level permission.
	statement(role, "ReadTemplates", []string{"cloudformation:ValidateTemplate", "cloudformation:ListStacks"}, jsii.String("*"))
	statement(role, "ConsoleTemplateUpload", []string{"s3:CreateBucket", "s3:PutObject", "s3:GetObject"},
		arn("arn:${AWS::Partition}:s3:::cf-templates-*"))

	var users []*string
	for _, u := range s.UserNames {
		users = append(users, arn("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/"+u))
	}
	statement(role, "ManageSimulationUsers", []string{
		"iam:CreateUser", "iam:GetUser", "iam:DeleteUser", "iam:TagUser", "iam:UntagUser", "iam:ListUserTags",
		"iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy", "iam:ListUserPolicies",
		"iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:GetLoginProfile",
		// Deleting a user first undoes what a simulation may have added to it.
		"iam:DeleteLoginProfile", "iam:DetachUserPolicy",
		"iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
	}, users...)
	statement(role, "ManageSimulationSecrets", []string{
		"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
		"secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret",
		"secretsmanager:TagResource", "secretsmanager:UntagResource",
	}, arn("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"+s.SecretNamePrefix+"*"))

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
	add(r.Analyst,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM4"), AppliesTo: managed("ReadOnlyAccess", "AWSCloudShellFullAccess"),
			Reason: jsii.String("An analyst investigates the whole account: AWS keeps ReadOnlyAccess current with every new service, and CloudShell is where the playbook commands run.")},
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Wildcards are object keys in the two workshop buckets and table names in the workshop database; every ARN names this workshop's resources.")})
	add(r.Admin,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("An Athena administrator creates and deletes workgroups, data catalogs, databases and tables, whose names are not known in advance; all ARNs stay in this account and region, and the list calls support no resource-level permission.")})
	add(r.BreakGlass,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM4"), AppliesTo: managed("AdministratorAccess"),
			Reason: jsii.String("Break glass is full administrator by definition: containment, eradication and recovery may touch anything. Only the base principal can assume it, for an hour at a time, and CloudTrail records every use.")})
	add(r.Deploy,
		&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Wildcards are the stack ID suffix of SimulationStack, the random suffix of its secrets, the console's cf-templates bucket, GuardDuty detector IDs and service-linked role paths, and calls IAM cannot scope to a resource.")})
}
