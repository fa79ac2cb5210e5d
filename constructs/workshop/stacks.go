package workshop

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/datastore"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/network"
	"github.com/ir-workshop/incident-response-playbooks/constructs/simprincipal"
	"github.com/ir-workshop/incident-response-playbooks/constructs/telemetry"
	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
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
	for _, u := range []string{CredentialExposureUser, CryptoMiningUser, S3ExfiltrationUser, S3RansomwareUser} {
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
			// The data bucket has a fixed name; CloudFormation names its
			// access log bucket after the stack, in lower case.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageSimulationDataBuckets"),
				Actions: jsii.Strings(
					"s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketAcl",
					"s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration",
					"s3:PutBucketVersioning", "s3:GetBucketVersioning",
					"s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
					"s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls",
					"s3:PutBucketLogging", "s3:GetBucketLogging",
					"s3:PutBucketTagging", "s3:GetBucketTagging",
					"s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy",
				),
				Resources: &[]*string{
					awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:s3:::"+DataBucketPrefix+"${AWS::AccountId}-${AWS::Region}"), nil),
					awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:s3:::"+strings.ToLower(SimulationStackName)+"-*"), nil),
				},
			}),
		},
	}
}

// SimulationStackProps configures SimulationStack.
type SimulationStackProps struct {
	awscdk.StackProps
}

// SimulationStack holds the principals the threat simulations act as, and
// the data the S3 simulations attack.
type SimulationStack struct {
	awscdk.Stack
	// CredentialExposure is the user whose "leaked" key the credential
	// exposure simulation uses.
	CredentialExposure *simprincipal.SimulationPrincipal
	// CryptoMining is the "pipeline" user the crypto mining simulation uses.
	CryptoMining *simprincipal.SimulationPrincipal
	// Data is the bucket of business records that the S3 simulations
	// attack, with its server access logs.
	Data *datastore.DataStore
	// S3Exfiltration is the reporting workload's user, which reads the
	// records; the S3 exfiltration simulation uses its "leaked" key.
	S3Exfiltration *simprincipal.SimulationPrincipal
	// S3Ransomware is the ingest workload's user, which writes the
	// records; the S3 ransomware simulation uses its "leaked" key.
	S3Ransomware *simprincipal.SimulationPrincipal
}

// Names of the simulation users; scripts and playbooks refer to them.
const (
	CredentialExposureUser = "integration"
	CryptoMiningUser       = "pipeline"
	S3ExfiltrationUser     = "reporting"
	S3RansomwareUser       = "ingest"
)

// Names the S3 simulations and their playbooks rely on.
const (
	// DataBucketPrefix starts the data bucket's fixed name,
	// ir-workshop-data-ACCOUNT-REGION.
	DataBucketPrefix = "ir-workshop-data-"
	// ExfiltrationBucketPrefix starts the name of every bucket the S3
	// exfiltration simulation creates: ir-exfil-ACCOUNT-RUN_ID.
	ExfiltrationBucketPrefix = "ir-exfil-"
	// AccessLogsTag is the data bucket's tag that says where its server
	// access logs go, s3://BUCKET/PREFIX, for whoever turns them back on.
	AccessLogsTag = "ir-workshop:server-access-logs"
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
	s.newS3Simulations(stack)
	output(stack, "CredentialExposureSecretName", jsii.String(s.CredentialExposure.SecretName), "Secrets Manager secret with the access key of the credential exposure simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "CryptoMiningSecretName", jsii.String(s.CryptoMining.SecretName), "Secrets Manager secret with the access key of the crypto mining simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "S3ExfiltrationSecretName", jsii.String(s.S3Exfiltration.SecretName), "Secrets Manager secret with the access key of the S3 exfiltration simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "S3RansomwareSecretName", jsii.String(s.S3Ransomware.SecretName), "Secrets Manager secret with the access key of the S3 ransomware simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "DataBucketName", s.Data.Bucket.BucketName(), "S3 bucket of generated business records that the S3 simulations attack; fill it with scripts/seed-data-bucket.sh.")
	output(stack, "DataAccessLogsBucketName", s.Data.AccessLogsBucket.BucketName(), "S3 bucket that receives the data bucket's server access logs.")
	return s
}

// newS3Simulations adds the data bucket and the two workload users whose
// keys the S3 simulations misuse. Each user may do its job (read, or read
// and write, the records) and, as a deliberate weakness, what its
// simulation needs besides, and no more: the exfiltration key may look at
// and change the data bucket's policy and logging and stage copies in
// buckets named ir-exfil-*; the ransomware key may create KMS keys, which
// its own key policy then lets it use.
func (s *SimulationStack) newS3Simulations(stack awscdk.Stack) {
	s.Data = datastore.NewDataStore(stack, "Data", &datastore.DataStoreProps{
		BucketName: awscdk.Fn_Sub(jsii.String(DataBucketPrefix+"${AWS::AccountId}-${AWS::Region}"), nil),
	})
	awscdk.Tags_Of(s.Data.Bucket).Add(jsii.String(AccessLogsTag), awscdk.Fn_Sub(
		jsii.String("s3://${Logs}/"+s.Data.AccessLogsPrefix), &map[string]*string{"Logs": s.Data.AccessLogsBucket.BucketName()}), nil)
	dataArn := s.Data.Bucket.BucketArn()
	staging := "arn:${AWS::Partition}:s3:::" + ExfiltrationBucketPrefix + "*"

	s.S3Exfiltration = simprincipal.NewSimulationPrincipal(stack, "S3Exfiltration", &simprincipal.SimulationPrincipalProps{
		UserName: S3ExfiltrationUser,
		Weakness: WorkloadUsersWeakness,
		Actions:  []string{"s3:ListAllMyBuckets"},
		Purpose:  "Access key of the reporting workload's IAM user, which the S3 exfiltration simulation treats as leaked.",
		ExtraStatements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageDataBucketAccess"),
				Actions: jsii.Strings("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketPublicAccessBlock",
					"s3:GetBucketLogging", "s3:PutBucketLogging"),
				Resources: &[]*string{dataArn},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("StageInOwnBuckets"),
				Actions:   jsii.Strings("s3:CreateBucket", "s3:PutBucketTagging", "s3:PutObject"),
				Resources: &[]*string{awscdk.Fn_Sub(jsii.String(staging), nil), awscdk.Fn_Sub(jsii.String(staging+"/*"), nil)},
			}),
		},
	})
	s.Data.GrantRead(s.S3Exfiltration.User)

	s.S3Ransomware = simprincipal.NewSimulationPrincipal(stack, "S3Ransomware", &simprincipal.SimulationPrincipalProps{
		UserName: S3RansomwareUser,
		// CreateKey names no resource; TagResource tags a key as CreateKey
		// makes it. Using the key is granted by the key policy the
		// intruder writes, which names this user.
		Actions:  []string{"s3:ListAllMyBuckets", "kms:CreateKey", "kms:TagResource"},
		Weakness: WorkloadUsersWeakness,
		Purpose:  "Access key of the ingest workload's IAM user, which the S3 ransomware simulation treats as leaked.",
		ExtraStatements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("CheckDataBucketVersioning"),
			Actions:   jsii.Strings("s3:GetBucketVersioning"),
			Resources: &[]*string{dataArn},
		})},
	})
	s.Data.GrantReadWrite(s.S3Ransomware.User)

	// One deliberate weakness, recorded as weakness.Suppress records one; the
	// records' wildcard is matched by a pattern, which weakness.Rule cannot
	// carry, since the data bucket's logical ID is known only at synthesis.
	records := &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<DataBucket[0-9A-F]+\.Arn>\/\*$/`)}
	suppress := func(p *simprincipal.SimulationPrincipal, why string, findings ...any) {
		cdknag.NagSuppressions_AddResourceSuppressions(p.User, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(weakness.Prefix + WorkloadUsersWeakness + ". " + why),
			AppliesTo: &findings,
		}}, jsii.Bool(true))
	}
	suppress(s.S3Exfiltration, "The workload user "+S3ExfiltrationUser+" reads every record of the data bucket, as its job needs, and may stage copies in buckets named "+ExfiltrationBucketPrefix+"*, as its simulation does. Sandbox accounts only.",
		records, "Resource::arn:<AWS::Partition>:s3:::"+ExfiltrationBucketPrefix+"*", "Resource::arn:<AWS::Partition>:s3:::"+ExfiltrationBucketPrefix+"*/*")
	suppress(s.S3Ransomware, "The workload user "+S3RansomwareUser+" reads, writes and deletes every record of the data bucket, as its job needs. Sandbox accounts only.",
		records)
}

// WorkloadUsersWeakness names, in the README's warning box, the deliberate
// weakness of the S3 simulations' workload users.
const WorkloadUsersWeakness = "workload users allowed more than their job"

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
