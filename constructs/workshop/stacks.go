package workshop

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/network"
	"github.com/ir-workshop/incident-response-playbooks/constructs/simprincipal"
	"github.com/ir-workshop/incident-response-playbooks/constructs/telemetry"
)

// WorkshopStackProps configures WorkshopStack.
type WorkshopStackProps struct {
	awscdk.StackProps
	// Queries are the playbooks' Athena queries (playbook.Queries).
	Queries []analytics.NamedQuery
	// AlertRoutes page responders with the GuardDuty findings that open
	// each playbook (AlertRoutes of playbook.Triggers).
	AlertRoutes []alerting.Route
}

// WorkshopStack is the environment responders train in.
type WorkshopStack struct {
	awscdk.Stack
	Parameters *WorkshopParameters
	LogArchive *logarchive.LogArchive
	AuditTrail *audittrail.AuditTrail
	Network    *network.WorkshopNetwork
	Telemetry  *telemetry.NetworkTelemetry
	Analytics  *analytics.SecurityAnalytics
	Roles      *irroles.IncidentResponseRoles
	Alerts     *alerting.IncidentAlerts
}

// NewWorkshopStack composes the workshop's constructs and declares the
// stack's parameters and outputs.
func NewWorkshopStack(scope constructs.Construct, id string, props *WorkshopStackProps) *WorkshopStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &WorkshopStack{Stack: stack}
	s.Parameters = newWorkshopParameters(stack)

	s.LogArchive = logarchive.NewLogArchive(stack, "LogArchive", &logarchive.LogArchiveProps{
		DeliveryAccounts: *awscdk.Fn_Split(jsii.String(","), s.Parameters.LogAccounts(), nil),
	})
	s.Network = network.NewWorkshopNetwork(stack, "Network", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(s.Parameters.InstanceImage.ValueAsString()),
		NatGateways:  awscdk.Token_AsNumber(s.Parameters.NatGateways.ValueAsString()),
	})
	s.Telemetry = telemetry.NewNetworkTelemetry(stack, "Telemetry", &telemetry.NetworkTelemetryProps{
		Vpc:    s.Network.Vpc,
		Bucket: s.LogArchive.Bucket,
	})
	s.Analytics = analytics.NewSecurityAnalytics(stack, "Analytics", &analytics.SecurityAnalyticsProps{
		LogBucket:        s.LogArchive.Bucket,
		AccessLogsBucket: s.LogArchive.AccessLogsBucket,
		ResultsKey:       s.LogArchive.Key,
		EngineVersion:    s.Parameters.AthenaEngineVersion.ValueAsString(),
		StartDate:        s.Parameters.ProjectionStartDate.ValueAsString(),
		Accounts:         s.Parameters.LogAccounts(),
		VpcIds:           []*string{s.Network.Vpc.VpcId()},
		Queries:          props.Queries,
	})
	// One key, the log archive's, encrypts the trail's files and log group,
	// the log bucket, the query results and the alert topic: each service
	// has its own statements in its policy, and a key costs $1 a month.
	s.AuditTrail = audittrail.NewAuditTrail(stack, "AuditTrail", &audittrail.AuditTrailProps{
		Bucket:            s.LogArchive.Bucket,
		Key:               s.LogArchive.Key,
		ExcludeDataEvents: []awss3.IBucket{s.LogArchive.AccessLogsBucket},
	})
	s.Roles = irroles.NewIncidentResponseRoles(stack, "Roles", &irroles.IncidentResponseRolesProps{
		BasePrincipal:         s.Parameters.BasePrincipal.ValueAsString(),
		BreakGlassRequiresMfa: s.Parameters.BreakGlassRequiresMfa.ValueAsString(),
		Logs:                  s.LogArchive,
		Analytics:             s.Analytics,
		Deploy:                simulationDeployScope(),
	})

	s.Alerts = alerting.NewIncidentAlerts(stack, "Alerts", &alerting.IncidentAlertsProps{
		Routes:          props.AlertRoutes,
		MinimumSeverity: s.Parameters.AlertMinimumSeverity.ValueAsString(),
		Email:           s.Parameters.AlertEmail.ValueAsString(),
		Key:             s.LogArchive.Key,
	})

	output(stack, "LogBucketName", s.LogArchive.Bucket.BucketName(), "S3 bucket that CloudTrail, VPC Flow Logs and Route 53 Resolver query logs deliver to, under AWSLogs/.")
	output(stack, "AccessLogsBucketName", s.LogArchive.AccessLogsBucket.BucketName(), "S3 bucket that receives the server access logs of the workshop's buckets.")
	output(stack, "AthenaResultsBucketName", s.Analytics.ResultsBucket.BucketName(), "S3 bucket that holds Athena query results, encrypted with the workshop's KMS key.")
	output(stack, "AthenaWorkGroupName", s.Analytics.WorkGroup.Ref(), "Athena workgroup to run the playbook queries in; choose it in the Athena console.")
	output(stack, "GlueDatabaseName", s.Analytics.Database.Ref(), "Glue database with the cloudtrail_logs, vpc_flow_logs and dns_query_logs tables.")
	output(stack, "TrailName", s.AuditTrail.Trail.Ref(), "CloudTrail trail that records management events and S3 data events.")
	output(stack, "TrailLogGroupName", s.AuditTrail.LogGroup.LogGroupName(), "CloudWatch Logs log group that receives the trail's events too, for Logs Insights queries and metric filters.")
	output(stack, "KeyArn", s.LogArchive.Key.KeyArn(), "Customer managed KMS key that encrypts the log bucket, the trail's files and log group, query results and alerts; kept with the buckets when the stack is deleted.")
	output(stack, "VpcId", s.Network.Vpc.VpcId(), "The workshop VPC; the crypto mining simulation launches instances only here.")
	output(stack, "InstanceId", s.Network.Instance.InstanceId(), "The workshop EC2 instance (SSH open to the internet on purpose).")
	output(stack, "SecurityAnalystRoleArn", s.Roles.Analyst.RoleArn(), "Role to assume for detection and analysis: Athena queries, read-only access, CloudShell.")
	output(stack, "SecurityAdminRoleArn", s.Roles.Admin.RoleArn(), "Role to assume to administer Athena workgroups and the Glue catalog.")
	output(stack, "SecurityBreakGlassRoleArn", s.Roles.BreakGlass.RoleArn(), "Administrator role to assume for containment, eradication and recovery.")
	output(stack, "SecurityDeployRoleArn", s.Roles.Deploy.RoleArn(), "Role to assume to deploy SimulationStack and enable GuardDuty.")
	output(stack, "AlertTopicArn", s.Alerts.Topic.TopicArn(), "Encrypted SNS topic that GuardDuty findings of the playbooks' types page, naming the playbook to open; subscribe with aws sns subscribe.")
	output(stack, "SimulationCredentials", jsii.String("Deploy SimulationStack, then run scripts/configure-simulation-profiles.sh: it reads the keys from the Secrets Manager secrets named in SimulationStack's outputs."), "Where the simulation users' access keys are: never in an output.")
	return s
}

// simulationDeployScope is what SecurityDeployRole may deploy: SimulationStack
// and, through it, its IAM users, their inline policies and access keys by
// name (the handler permissions of AWS::IAM::User, AWS::IAM::Policy and
// AWS::IAM::AccessKey) and its secrets by name prefix
// (AWS::SecretsManager::Secret). A test derives the actions SimulationStack's
// resources need from its template and checks each is allowed.
func simulationDeployScope() *irroles.DeployScope {
	var users []*string
	for _, u := range []string{CredentialExposureUser, CryptoMiningUser} {
		users = append(users, awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/"+u), nil))
	}
	return &irroles.DeployScope{
		StackNames:  []string{SimulationStackName},
		Description: "Deploys SimulationStack through CloudFormation and enables GuardDuty",
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageSimulationUsers"),
				Actions: jsii.Strings(
					"iam:CreateUser", "iam:GetUser", "iam:DeleteUser", "iam:TagUser", "iam:UntagUser", "iam:ListUserTags",
					"iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy", "iam:ListUserPolicies",
					"iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:GetLoginProfile",
					// Deleting a user first undoes what a simulation may have added to it.
					"iam:DeleteLoginProfile", "iam:DetachUserPolicy",
					"iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
				),
				Resources: &users,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageSimulationSecrets"),
				Actions: jsii.Strings(
					"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
					"secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret",
					"secretsmanager:TagResource", "secretsmanager:UntagResource",
				),
				Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"+simprincipal.DefaultSecretNamePrefix+"*"), nil)},
			}),
		},
	}
}

// SimulationStackProps configures SimulationStack.
type SimulationStackProps struct {
	awscdk.StackProps
}

// SimulationStack holds the principals the threat simulations act as.
type SimulationStack struct {
	awscdk.Stack
	// CredentialExposure is the user whose "leaked" key the credential
	// exposure simulation uses.
	CredentialExposure *simprincipal.SimulationPrincipal
	// CryptoMining is the "pipeline" user the crypto mining simulation uses.
	CryptoMining *simprincipal.SimulationPrincipal
}

// Names of the simulation users; scripts and playbooks refer to them.
const (
	CredentialExposureUser = "integration"
	CryptoMiningUser       = "pipeline"
)

// NewSimulationStack creates the two simulation principals and outputs the
// names of the secrets that hold their keys (never the keys themselves).
func NewSimulationStack(scope constructs.Construct, id string, props *SimulationStackProps) *SimulationStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &SimulationStack{Stack: stack}
	s.CredentialExposure = simprincipal.NewSimulationPrincipal(stack, "CredentialExposure", &simprincipal.SimulationPrincipalProps{
		UserName: CredentialExposureUser,
		Actions:  []string{"iam:*"},
		Purpose:  "Access key of the IAM user that the credential exposure simulation treats as leaked.",
	})
	s.CryptoMining = simprincipal.NewSimulationPrincipal(stack, "CryptoMining", &simprincipal.SimulationPrincipalProps{
		UserName: CryptoMiningUser,
		Actions:  []string{"ec2:*"},
		Purpose:  "Access key of the IAM user that the EC2 crypto mining simulation launches instances with.",
		// The simulation looks up the current Amazon Linux 2023 AMI.
		ExtraStatements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadAmazonLinuxAmiParameter"),
			Actions:   jsii.Strings("ssm:GetParameter", "ssm:GetParameters"),
			Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:ssm:${AWS::Region}::parameter"+DefaultInstanceImage), nil)},
		})},
	})
	output(stack, "CredentialExposureSecretName", jsii.String(s.CredentialExposure.SecretName), "Secrets Manager secret with the access key of the credential exposure simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "CryptoMiningSecretName", jsii.String(s.CryptoMining.SecretName), "Secrets Manager secret with the access key of the crypto mining simulation user (read it with scripts/configure-simulation-profiles.sh).")
	return s
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
