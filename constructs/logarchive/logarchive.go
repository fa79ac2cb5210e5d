// Package logarchive provides the workshop's log archive: the central S3
// bucket that CloudTrail, VPC Flow Logs and Route 53 Resolver query logs
// deliver to under AWSLogs/, its delivery policy, and a second bucket that
// receives the S3 server access logs of the archive (who read the evidence).
//
// Logs are evidence: both buckets and their objects survive stack deletion.
package logarchive

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Service principals that deliver logs to the archive.
const (
	// CloudTrailPrincipal delivers CloudTrail log files.
	CloudTrailPrincipal = "cloudtrail.amazonaws.com"
	// LogDeliveryPrincipal delivers VPC Flow Logs and Route 53 Resolver query
	// logs (the "vended logs" delivery service).
	LogDeliveryPrincipal = "delivery.logs.amazonaws.com"
)

// LogArchiveProps configures a LogArchive. The zero value is a complete,
// hardened archive.
type LogArchiveProps struct {
	// AccessLogsPrefix is the key prefix of the server access logs written to
	// AccessLogsBucket. Default "log-archive/".
	AccessLogsPrefix string
}

// LogArchive is the central log bucket and its delivery policy.
type LogArchive struct {
	constructs.Construct
	// Bucket holds the delivered logs under AWSLogs/{account}/...
	Bucket awss3.Bucket
	// AccessLogsBucket receives S3 server access logs of Bucket and of any
	// other workshop bucket that names it as its ServerAccessLogsBucket.
	AccessLogsBucket awss3.Bucket
}

// NewLogArchive creates the log bucket and its access log bucket, both with
// public access blocked, encryption at rest, versioning, ACLs disabled and a
// bucket policy that denies requests without TLS.
func NewLogArchive(scope constructs.Construct, id string, props *LogArchiveProps) *LogArchive {
	if props == nil {
		props = &LogArchiveProps{}
	}
	prefix := props.AccessLogsPrefix
	if prefix == "" {
		prefix = "log-archive/"
	}
	c := constructs.NewConstruct(scope, &id)
	a := &LogArchive{Construct: c}

	a.AccessLogsBucket = awss3.NewBucket(c, jsii.String("AccessLogsBucket"), HardenedBucketProps())
	cdknag.NagSuppressions_AddResourceSuppressions(a.AccessLogsBucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This bucket is the destination of the workshop's S3 server access logs; logging it into itself would loop and logging it elsewhere needs a third bucket with the same problem."),
	}}, jsii.Bool(false))

	bucketProps := HardenedBucketProps()
	bucketProps.ServerAccessLogsBucket = a.AccessLogsBucket
	bucketProps.ServerAccessLogsPrefix = jsii.String(prefix)
	a.Bucket = awss3.NewBucket(c, jsii.String("Bucket"), bucketProps)
	return a
}

// HardenedBucketProps returns the settings every workshop bucket shares:
// all public access blocked, SSE-S3 encryption, versioning, ACLs disabled,
// TLS enforced by the bucket policy, and the bucket with its objects retained
// when the stack is deleted.
func HardenedBucketProps() *awss3.BucketProps {
	return &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	}
}

// AllowDelivery lets a log delivery service principal (CloudTrailPrincipal or
// LogDeliveryPrincipal) check the bucket ACL and write objects under
// AWSLogs/{this account}/ with the bucket-owner-full-control ACL. Both
// statements carry aws:SourceAccount (this account) and an aws:SourceArn
// pattern (sourceArn, for example the ARN pattern of this account's trails),
// so another account cannot use the service to write here (confused deputy).
func (a *LogArchive) AllowDelivery(principal string, sourceArn string) {
	stack := awscdk.Stack_Of(a.Construct)
	sp := awsiam.NewServicePrincipal(jsii.String(principal), nil)
	source := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": sourceArn},
	}
	a.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{a.Bucket.BucketArn()},
		Conditions: &source,
	}))
	write := map[string]any{
		"StringEquals": map[string]any{
			"aws:SourceAccount": stack.Account(),
			"s3:x-amz-acl":      "bucket-owner-full-control",
		},
		"ArnLike": map[string]any{"aws:SourceArn": sourceArn},
	}
	a.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{awscdk.Fn_Sub(jsii.String("${Bucket}/AWSLogs/${AWS::AccountId}/*"), &map[string]*string{"Bucket": a.Bucket.BucketArn()})},
		Conditions: &write,
	}))
}
