// Package logarchive provides a log archive: the central S3 bucket that
// CloudTrail, VPC Flow Logs and Route 53 Resolver query logs deliver to under
// AWSLogs/, the delivery statements of its policy, read access for
// responders, and a bucket that receives the S3 server access logs of the
// archive (who read the evidence).
//
// Logs are evidence: the buckets and their objects survive stack deletion.
package logarchive

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/flags"
)

// Service principals that deliver logs to the archive.
const (
	// CloudTrailPrincipal delivers CloudTrail log files.
	CloudTrailPrincipal = "cloudtrail.amazonaws.com"
	// LogDeliveryPrincipal delivers VPC Flow Logs and Route 53 Resolver query
	// logs (the "vended logs" delivery service).
	LogDeliveryPrincipal = "delivery.logs.amazonaws.com"
)

// Defaults of LogArchiveProps.
const (
	DefaultAccessLogsPrefix = "log-archive/"
	// LogsPrefix is where AWS delivers logs in a bucket: AWSLogs/{account}/...
	LogsPrefix = "AWSLogs/"
)

// LogArchiveProps configures a LogArchive. The zero value (or nil) is a
// complete, hardened archive.
type LogArchiveProps struct {
	// AccessLogsBucket receives the S3 server access logs of Bucket, for
	// example an organization's existing access log bucket. Default: a new
	// hardened bucket, AccessLogsBucket, which logs nowhere itself.
	AccessLogsBucket awss3.IBucket
	// AccessLogsPrefix is the key prefix of Bucket's server access logs in
	// AccessLogsBucket. Default DefaultAccessLogsPrefix.
	AccessLogsPrefix string
	// DeliveryAccounts are accounts whose CloudTrail and log delivery service
	// (LogDeliveryPrincipal) may write to Bucket, each under
	// AWSLogs/{that account}/ and nowhere else, as when other accounts
	// deliver their logs to an archive. A list token resolved at deployment
	// works too, such as Fn::Split of a template parameter. Default: none
	// (AllowDelivery admits this account's own sources).
	DeliveryAccounts []*string
}

// LogArchive is the central log bucket and its delivery policy.
type LogArchive struct {
	constructs.Construct
	// Bucket holds the delivered logs under AWSLogs/{account}/...
	Bucket awss3.Bucket
	// AccessLogsBucket receives S3 server access logs of Bucket, and of any
	// other bucket that names it as its ServerAccessLogsBucket.
	AccessLogsBucket awss3.IBucket
}

// NewLogArchive creates the log bucket and, unless props bring one, its
// access log bucket, both with public access blocked, encryption at rest,
// versioning, ACLs disabled and a bucket policy that denies requests without
// TLS.
func NewLogArchive(scope constructs.Construct, id string, props *LogArchiveProps) *LogArchive {
	if props == nil {
		props = &LogArchiveProps{}
	}
	prefix := props.AccessLogsPrefix
	if prefix == "" {
		prefix = DefaultAccessLogsPrefix
	}
	c := constructs.NewConstruct(scope, &id)
	flags.AccessLogsByBucketPolicy(c)
	a := &LogArchive{Construct: c, AccessLogsBucket: props.AccessLogsBucket}

	if a.AccessLogsBucket == nil {
		accessLogs := awss3.NewBucket(c, jsii.String("AccessLogsBucket"), HardenedBucketProps())
		cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-S1"),
			Reason: jsii.String("This bucket is the destination of S3 server access logs; logging it into itself would loop and logging it elsewhere needs a third bucket with the same problem."),
		}}, jsii.Bool(false))
		a.AccessLogsBucket = accessLogs
	}

	bucketProps := HardenedBucketProps()
	bucketProps.ServerAccessLogsBucket = a.AccessLogsBucket
	bucketProps.ServerAccessLogsPrefix = jsii.String(prefix)
	a.Bucket = awss3.NewBucket(c, jsii.String("Bucket"), bucketProps)
	if len(props.DeliveryAccounts) > 0 {
		for _, principal := range []string{CloudTrailPrincipal, LogDeliveryPrincipal} {
			allowAccounts(a.Bucket, principal, props.DeliveryAccounts)
		}
	}
	return a
}

// allowAccounts lets principal check bucket's ACL and write objects under
// AWSLogs/{account}/ for each of accounts. One pair of statements covers
// any number of accounts, even a list known only at deployment: the
// aws:SourceAccount condition admits the listed accounts, and the object ARN
// names the prefix with the ${aws:SourceAccount} policy variable, so each
// account writes under its own prefix only (IAM allows global condition keys
// as policy variables in the Resource element).
func allowAccounts(bucket awss3.Bucket, principal string, accounts []*string) {
	sp := awsiam.NewServicePrincipal(jsii.String(principal), nil)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{bucket.BucketArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": accounts}},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{awscdk.Fn_Sub(jsii.String("${Bucket}/"+LogsPrefix+"${!aws:SourceAccount}/*"), &map[string]*string{"Bucket": bucket.BucketArn()})},
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"aws:SourceAccount": accounts,
			"s3:x-amz-acl":      "bucket-owner-full-control",
		}},
	}))
}

// GrantRead lets grantee list the log bucket and read the delivered logs
// under AWSLogs/, and nothing else: no writes, no deletes, no other keys.
func (a *LogArchive) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	list := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:GetBucketLocation", "s3:ListBucket"),
		ResourceArns: &[]*string{a.Bucket.BucketArn()},
	})
	read := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:GetObject"),
		ResourceArns: &[]*string{awscdk.Fn_Sub(jsii.String("${Arn}/"+LogsPrefix+"*"), &map[string]*string{"Arn": a.Bucket.BucketArn()})},
	})
	return list.Combine(read)
}

// HardenedBucketProps returns the settings every bucket of these constructs
// shares: all public access blocked, SSE-S3 encryption, versioning, ACLs
// disabled, TLS enforced by the bucket policy, and the bucket with its
// objects retained when the stack is deleted.
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
// LogDeliveryPrincipal) write to the archive; see AllowLogDelivery.
func (a *LogArchive) AllowDelivery(principal string, sourceArn string) awscdk.CfnResource {
	return AllowLogDelivery(a.Bucket, principal, sourceArn)
}

// AllowLogDelivery lets a log delivery service principal (CloudTrailPrincipal
// or LogDeliveryPrincipal) check bucket's ACL and write objects under
// AWSLogs/{this account}/ with the bucket-owner-full-control ACL. Both
// statements carry aws:SourceAccount (this account) and an aws:SourceArn
// pattern (sourceArn, for example the ARN pattern of this account's trails),
// so another account cannot use the service to write here (confused deputy).
//
// It returns the bucket policy that holds the statements, for resources the
// service checks its access from when they are created (a trail, a flow log)
// to depend on. A bucket imported from outside the app has no policy here:
// the statements cannot be added, a warning on the bucket says so, and the
// result is nil.
func AllowLogDelivery(bucket awss3.IBucket, principal string, sourceArn string) awscdk.CfnResource {
	stack := awscdk.Stack_Of(bucket)
	sp := awsiam.NewServicePrincipal(jsii.String(principal), nil)
	source := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": sourceArn},
	}
	added := bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{bucket.BucketArn()},
		Conditions: &source,
	}))
	if !*added.StatementAdded {
		awscdk.Annotations_Of(bucket).AddWarningV2(jsii.String("logarchive:delivery-policy-not-added"),
			jsii.String("this bucket's policy is not managed by this app: allow "+principal+" to call s3:GetBucketAcl on it and s3:PutObject under "+LogsPrefix+"{account}/ yourself"), nil)
		return nil
	}
	write := map[string]any{
		"StringEquals": map[string]any{
			"aws:SourceAccount": stack.Account(),
			"s3:x-amz-acl":      "bucket-owner-full-control",
		},
		"ArnLike": map[string]any{"aws:SourceArn": sourceArn},
	}
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{sp},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{awscdk.Fn_Sub(jsii.String("${Bucket}/"+LogsPrefix+"${AWS::AccountId}/*"), &map[string]*string{"Bucket": bucket.BucketArn()})},
		Conditions: &write,
	}))
	return bucket.Policy().Node().DefaultChild().(awscdk.CfnResource)
}
