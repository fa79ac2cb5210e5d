// Package audittrail provides an audit trail: a multi-region CloudTrail trail
// with log file validation that records management events and S3 data events
// into a log bucket, leaving out the buckets whose own writes would feed back
// into the trail. The trail encrypts its log files with a customer managed
// KMS key and also delivers its events to a CloudWatch Logs log group,
// encrypted with the same key, for Logs Insights queries and metric filters.
package audittrail

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/keypolicy"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/nagreason"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
)

// Defaults of AuditTrailProps: the workshop's names, which its playbooks use.
const (
	DefaultTrailName    = "ir-workshop"
	DefaultLogGroupName = "/ir-workshop/cloudtrail"
	// DefaultLogRetention keeps the log group's copy of the events as long
	// as CloudTrail's own event history; the log files in the bucket stay
	// as long as the bucket.
	DefaultLogRetention = awslogs.RetentionDays_THREE_MONTHS
)

// What CloudTrail and CloudWatch Logs accept as names.
var (
	trailName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
	logGroupName = regexp.MustCompile(`^[A-Za-z0-9._/#-]{1,512}$`)
)

// AuditTrailProps configures an AuditTrail.
type AuditTrailProps struct {
	// Bucket receives the log files under AWSLogs/, for example a
	// logarchive.LogArchive's Bucket; the trail adds CloudTrail's delivery
	// statements, with confused-deputy conditions, to its bucket policy.
	// Required.
	Bucket awss3.IBucket
	// ExcludeDataEvents lists more buckets whose object-level events the trail
	// does not record, besides Bucket: recording writes to the bucket the
	// trail writes to, or to the bucket that receives that bucket's server
	// access logs, is a feedback loop of log writes.
	ExcludeDataEvents []awss3.IBucket
	// Key encrypts the log files (SSE-KMS) and the log group: a customer
	// managed key whose policy this construct may add to. The trail adds
	// statements that let CloudTrail use it for this trail only, and
	// CloudWatch Logs for this log group only. Default: Bucket's encryption
	// key, such as a logarchive.LogArchive's Key; none (SSE-S3 and the log
	// group's default encryption) when Bucket has none.
	Key awskms.IKey
	// TrailName is the trail's name, fixed because the key policy names the
	// trail (a trail that refers to a key cannot be referred to by the
	// key's policy). Default DefaultTrailName.
	TrailName string
	// LogGroupName is the name of the log group the trail delivers its
	// events to, fixed for the same reason. Default DefaultLogGroupName.
	LogGroupName string
	// LogRetention is how long the log group keeps events. Default
	// DefaultLogRetention.
	LogRetention awslogs.RetentionDays
}

// AuditTrail is a CloudTrail trail and its log group.
type AuditTrail struct {
	constructs.Construct
	// Trail is the CloudFormation trail. The L2 Trail is not used: it writes
	// bucket statements without confused-deputy conditions and cannot leave a
	// bucket out of S3 data events, so both would need overriding.
	Trail awscloudtrail.CfnTrail
	// LogGroup receives the trail's events, encrypted with Key.
	LogGroup awslogs.LogGroup
	// LogsRole is the role CloudTrail assumes to write to LogGroup, with
	// the permissions of LogsPolicy, its default policy.
	LogsRole   awsiam.Role
	LogsPolicy awsiam.Policy
	// Key encrypts the log files and LogGroup; nil when none was given and
	// the bucket has none.
	Key awskms.IKey
}

// NewAuditTrail creates the trail, its log group with the role CloudTrail
// writes to it with, its delivery permission on the bucket and its
// statements in the key policy. A missing Bucket or a malformed name stops
// synthesis with a message that names it.
func NewAuditTrail(scope constructs.Construct, id string, props *AuditTrailProps) *AuditTrail {
	if props == nil {
		props = &AuditTrailProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	t := &AuditTrail{Construct: c}
	name, groupName, retention := props.TrailName, props.LogGroupName, props.LogRetention
	if name == "" {
		name = DefaultTrailName
	}
	if groupName == "" {
		groupName = DefaultLogGroupName
	}
	if retention == "" {
		retention = DefaultLogRetention
	}
	problems := validate.Problems{Props: "AuditTrailProps"}
	problems.Require(props.Bucket == nil, "Bucket", "the bucket CloudTrail delivers log files to")
	problems.Pattern("TrailName", name, trailName, "3 to 128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
	problems.Pattern("LogGroupName", groupName, logGroupName, "1 to 512 letters, digits, '.', '_', '-', '/' or '#'")
	if problems.Stop(c) {
		return t
	}
	policy := logarchive.AllowLogDelivery(props.Bucket, logarchive.CloudTrailPrincipal,
		*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"), nil))
	t.Key = props.Key
	if t.Key == nil {
		t.Key = props.Bucket.EncryptionKey()
	}
	// Both ARNs are written out: the trail and the log group refer to the
	// key, so the key's policy cannot refer back to them.
	trailArn := awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/"+name), nil)
	groupArn := awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"+groupName), nil)

	t.LogGroup = awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(groupName),
		Retention:     retention,
		EncryptionKey: t.Key,
		// The bucket keeps every log file; this copy is for searching, and
		// a log group left behind would stop the next deployment, which
		// creates one of the same name.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// No condition on who assumes it: a trail names this role only if the
	// principal that configures it may pass it (iam:PassRole), and only
	// principals of this account can be allowed that.
	t.LogsRole = awsiam.NewRole(c, jsii.String("LogsRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String(logarchive.CloudTrailPrincipal), nil),
		Description: jsii.String("CloudTrail delivers the events of trail " + name + " to log group " + groupName),
	})
	const streams = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:%s:log-stream:${AWS::AccountId}_CloudTrail_${AWS::Region}*"
	t.LogsRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteTrailEvents"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String(fmt.Sprintf(streams, groupName)), nil)},
	}))
	t.LogsPolicy = t.LogsRole.Node().FindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	cdknag.NagSuppressions_AddResourceSuppressions(t.LogsRole, &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("CloudTrail names its log streams ACCOUNT_CloudTrail_REGION, with a number appended when it needs several; the wildcard stays inside the trail's own log group."),
			AppliesTo: &[]any{"Resource::" + strings.NewReplacer("${", "<", "}", ">").Replace(fmt.Sprintf(streams, groupName))},
		},
		{Id: jsii.String("NIST.800.53.R5-IAMNoInlinePolicy"), Reason: jsii.String(nagreason.InlinePolicy)},
	}, jsii.Bool(true))

	if t.Key != nil {
		t.allowKeyUse(trailArn, groupArn)
	}

	excluded := []*string{}
	for _, b := range append([]awss3.IBucket{props.Bucket}, props.ExcludeDataEvents...) {
		excluded = append(excluded, awscdk.Fn_Sub(jsii.String("${Arn}/"), &map[string]*string{"Arn": b.BucketArn()}))
	}

	var keyArn *string
	if t.Key != nil {
		keyArn = t.Key.KeyArn()
	}
	trail := awscloudtrail.NewCfnTrail(c, jsii.String("Trail"), &awscloudtrail.CfnTrailProps{
		TrailName:                  jsii.String(name),
		KmsKeyId:                   keyArn,
		CloudWatchLogsLogGroupArn:  t.LogGroup.LogGroupArn(),
		CloudWatchLogsRoleArn:      t.LogsRole.RoleArn(),
		IsLogging:                  jsii.Bool(true),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		S3BucketName:               props.Bucket.BucketName(),
		AdvancedEventSelectors: &[]*awscloudtrail.CfnTrail_AdvancedEventSelectorProperty{
			{
				Name: jsii.String("Management events"),
				FieldSelectors: &[]*awscloudtrail.CfnTrail_AdvancedFieldSelectorProperty{
					{Field: jsii.String("eventCategory"), EqualTo: jsii.Strings("Management")},
				},
			},
			{
				Name: jsii.String("S3 data events, except the log buckets"),
				FieldSelectors: &[]*awscloudtrail.CfnTrail_AdvancedFieldSelectorProperty{
					{Field: jsii.String("eventCategory"), EqualTo: jsii.Strings("Data")},
					{Field: jsii.String("resources.type"), EqualTo: jsii.Strings("AWS::S3::Object")},
					{Field: jsii.String("resources.ARN"), NotStartsWith: &excluded},
				},
			},
		},
	})
	if policy != nil {
		trail.AddResourceDependency(policy, jsii.String("CloudTrail checks its write access when the trail is created"))
	}
	// The trail refers to the role, not to its policy, which CloudFormation
	// attaches as a resource of its own.
	trail.AddResourceDependency(t.LogsPolicy.Node().DefaultChild().(awscdk.CfnResource), jsii.String("CloudTrail checks that its role may write to the log group when the trail is created"))
	t.Trail = trail
	return t
}

// allowKeyUse adds to the key policy what the trail and its log group need,
// as the CloudTrail and CloudWatch Logs user guides document it, scoped to
// this trail and this log group:
//   - CloudTrail generates data keys for log files of this trail only
//     (aws:SourceArn), in the encryption context of this account's trails,
//     and describes the key; it decrypts to validate a bucket that uses S3
//     Bucket Keys when the trail is created or updated;
//   - CloudWatch Logs in this region uses the key for this log group only
//     (its ARN is the encryption context);
//   - the role CloudTrail writes to the log group with may use the key
//     through CloudWatch Logs, for this log group only, as CloudWatch Logs
//     asks of roles that call it since it supports kms:ViaService.
func (t *AuditTrail) allowKeyUse(trailArn, groupArn *string) {
	cloudtrail := []awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(logarchive.CloudTrailPrincipal), nil)}
	thisTrail := map[string]any{"aws:SourceArn": trailArn}
	add := func(sid string, principals []awsiam.IPrincipal, actions []string, conditions map[string]any) {
		keypolicy.Add(t.Construct, t.Key, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &principals,
			Actions:    jsii.Strings(actions...),
			Resources:  jsii.Strings("*"),
			Conditions: &conditions,
		}), "add the statement "+sid+" of the audit trail")
	}
	add("CloudTrailEncryptsThisTrailsLogFiles", cloudtrail, []string{"kms:GenerateDataKey*"}, map[string]any{
		"StringEquals": thisTrail,
		"StringLike": map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": awscdk.Fn_Sub(
			jsii.String("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"), nil)},
	})
	add("CloudTrailDescribesTheKeyForThisTrail", cloudtrail, []string{"kms:DescribeKey", "kms:Decrypt"}, map[string]any{
		"StringEquals": thisTrail,
	})
	logs := []awsiam.IPrincipal{awsiam.NewServicePrincipal(keypolicy.ViaService("logs"), nil)}
	add("CloudWatchLogsEncryptsTheTrailLogGroup", logs,
		[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		map[string]any{"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": groupArn}})
	add("TrailRoleWritesThroughCloudWatchLogs", []awsiam.IPrincipal{t.LogsRole}, []string{"kms:GenerateDataKey", "kms:Decrypt"}, map[string]any{
		"StringEquals": map[string]any{"kms:ViaService": keypolicy.ViaService("logs")},
		"ArnEquals":    map[string]any{"kms:EncryptionContext:aws:logs:arn": groupArn},
	})
}

// TrailArn is the trail's ARN.
func (t *AuditTrail) TrailArn() *string {
	return t.Trail.AttrArn()
}
