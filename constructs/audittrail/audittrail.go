// Package audittrail provides an audit trail: a multi-region CloudTrail trail
// with log file validation that records management events and S3 data events
// into a log bucket, leaving out the buckets whose own writes would feed back
// into the trail.
package audittrail

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
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
}

// AuditTrail is a CloudTrail trail.
type AuditTrail struct {
	constructs.Construct
	// Trail is the CloudFormation trail. The L2 Trail is not used: it writes
	// bucket statements without confused-deputy conditions and cannot leave a
	// bucket out of S3 data events, so both would need overriding.
	Trail awscloudtrail.CfnTrail
}

// NewAuditTrail creates the trail and its delivery permission on the bucket.
// A missing Bucket stops synthesis with a message that names it.
func NewAuditTrail(scope constructs.Construct, id string, props *AuditTrailProps) *AuditTrail {
	if props == nil {
		props = &AuditTrailProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	t := &AuditTrail{Construct: c}
	problems := validate.Problems{Props: "AuditTrailProps"}
	problems.Require(props.Bucket == nil, "Bucket", "the bucket CloudTrail delivers log files to")
	if problems.Stop(c) {
		return t
	}
	policy := logarchive.AllowLogDelivery(props.Bucket, logarchive.CloudTrailPrincipal,
		*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"), nil))

	excluded := []*string{}
	for _, b := range append([]awss3.IBucket{props.Bucket}, props.ExcludeDataEvents...) {
		excluded = append(excluded, awscdk.Fn_Sub(jsii.String("${Arn}/"), &map[string]*string{"Arn": b.BucketArn()}))
	}

	trail := awscloudtrail.NewCfnTrail(c, jsii.String("Trail"), &awscloudtrail.CfnTrailProps{
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
	t.Trail = trail
	return t
}
