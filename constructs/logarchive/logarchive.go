// Package logarchive provides a log archive: the central S3 bucket that
// CloudTrail, VPC Flow Logs and Route 53 Resolver query logs deliver to under
// AWSLogs/, the customer managed KMS key that encrypts it, the delivery
// statements of its bucket and key policies, read access for responders, and
// a bucket that receives the S3 server access logs of the archive (who read
// the evidence).
//
// Logs are evidence: the buckets, their objects and the key that decrypts
// them survive stack deletion.
package logarchive

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/flags"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/keypolicy"
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
	// works too, such as Fn::Split of a template parameter. Their trails and
	// log deliveries write through the bucket's default encryption, so Key's
	// policy lets those services generate data keys for these accounts
	// (other than this one) too. Default: none (AllowDelivery admits this
	// account's own sources).
	DeliveryAccounts []*string
	// Key encrypts Bucket (SSE-KMS with S3 Bucket Keys, which keep the
	// KMS requests down): a customer managed key whose policy this construct
	// may add to. Default: a new key of the archive, rotated yearly and
	// retained with the buckets, whose policy lets the account administer it
	// (what CloudFormation needs) and lets nobody use it until a service
	// statement or a grant (GrantRead) names them.
	Key awskms.IKey
}

// LogArchive is the central log bucket and its delivery policy.
type LogArchive struct {
	constructs.Construct
	// Bucket holds the delivered logs under AWSLogs/{account}/...
	Bucket awss3.Bucket
	// AccessLogsBucket receives S3 server access logs of Bucket, and of any
	// other bucket that names it as its ServerAccessLogsBucket.
	AccessLogsBucket awss3.IBucket
	// Key encrypts Bucket. Pass it to what else holds evidence (a trail, its
	// log group, query results, an alert topic): one key, $1 a month, with a
	// statement per service in its policy.
	Key awskms.IKey
}

// NewLogArchive creates the log bucket, its key and, unless props bring
// them, its access log bucket, all buckets with public access blocked,
// encryption at rest, versioning, ACLs disabled and a bucket policy that
// denies requests without TLS.
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
		accessLogs := NewHardenedBucket(c, "AccessLogsBucket", nil)
		cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{
			{
				Id:     jsii.String("AwsSolutions-S1"),
				Reason: jsii.String("This bucket is the destination of S3 server access logs; logging it into itself would loop and logging it elsewhere needs a third bucket with the same problem."),
			},
			{
				Id:     jsii.String("NIST.800.53.R5-S3DefaultEncryptionKMS"),
				Reason: jsii.String("S3 server access logging delivers only to a bucket whose default encryption is SSE-S3: default encryption with a KMS key (SSE-KMS) is not supported on the target bucket (Amazon S3 User Guide, Enabling server access logging)."),
			},
		}, jsii.Bool(false))
		a.AccessLogsBucket = accessLogs
	}

	a.Key = props.Key
	if a.Key == nil {
		a.Key = newKey(c)
	}

	bucketProps := HardenedBucketProps()
	bucketProps.Encryption = awss3.BucketEncryption_KMS
	bucketProps.EncryptionKey = a.Key
	bucketProps.BucketKeyEnabled = jsii.Bool(true)
	bucketProps.ServerAccessLogsBucket = a.AccessLogsBucket
	bucketProps.ServerAccessLogsPrefix = jsii.String(prefix)
	a.Bucket = NewHardenedBucket(c, "Bucket", bucketProps)
	if len(props.DeliveryAccounts) > 0 {
		for _, principal := range []string{CloudTrailPrincipal, LogDeliveryPrincipal} {
			allowAccounts(a.Bucket, principal, props.DeliveryAccounts)
		}
	}
	return a
}

// keyAdministration is what the account's administrators, and CloudFormation
// acting for them, may do with a key of the archive: read, change and delete
// it and its policy (the handler permissions of AWS::KMS::Key), cancel a
// deletion, list and revoke grants, and no cryptographic operation. Keeping
// PutKeyPolicy with the account is also what KMS requires, so the key cannot
// become unmanageable.
var keyAdministration = []string{
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ListKeyPolicies",
	"kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
	"kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
	"kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
	"kms:ListGrants", "kms:RevokeGrant",
}

// newKey creates the archive's key. The key policy starts with the
// account's key administration only: unlike CDK's default key policy, it
// does not let every IAM principal with kms:* in its own policies use the
// key (an administrator, or any role an attacker gains), so reading the
// evidence takes a grant in the key policy itself.
func newKey(scope constructs.Construct) awskms.Key {
	return awskms.NewKey(scope, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the log archive (constructs/logarchive) and the evidence its app protects with it: CloudTrail log files and log group, Athena query results, alerts. Retained with the log buckets: their objects cannot be read without it."),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		Policy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountAdministersTheKey"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(keyAdministration...),
				Resources:  jsii.Strings("*"),
			}),
		}}),
	})
}

// deliveryKeyActions is what the log delivery service needs on the key of a
// bucket with SSE-KMS default encryption (Amazon CloudWatch Logs User Guide,
// "Amazon S3 bucket server-side encryption").
var deliveryKeyActions = []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}

// allowAccounts lets principal check bucket's ACL and write objects under
// AWSLogs/{account}/ for each of accounts. One pair of statements covers
// any number of accounts, even a list known only at deployment: the
// aws:SourceAccount condition admits the listed accounts, and the object ARN
// names the prefix with the ${aws:SourceAccount} policy variable, so each
// account writes under its own prefix only (IAM allows global condition keys
// as policy variables in the Resource element).
//
// The bucket's key lets principal generate data keys for the listed accounts
// other than this one: their trails and deliveries write through the
// bucket's default encryption. This account's sources have their own,
// narrower statements (AllowLogDelivery, and a trail's own key statements).
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
	if key := bucket.EncryptionKey(); key != nil {
		keypolicy.Add(bucket, key, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{sp},
			Actions:    jsii.Strings("kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{
				"StringEquals":    map[string]any{"aws:SourceAccount": accounts},
				"StringNotEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			},
		}), "allow "+principal+" kms:GenerateDataKey* for the delivery accounts")
	}
}

// GrantRead lets grantee list the log bucket and read the delivered logs
// under AWSLogs/, and nothing else: no writes, no deletes, no other keys.
// Reading an object encrypted with Key takes its decryption, which the grant
// allows in Key's policy when S3 or CloudWatch Logs (for a log group that
// Key encrypts, such as an audit trail's) asks for it on grantee's behalf,
// never in a direct call to KMS.
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
	grant := list.Combine(read)
	if a.Key != nil {
		grant = grant.Combine(keypolicy.GrantThrough(a.Construct, a.Key, grantee, []string{"s3", "logs"}, "kms:Decrypt"))
	}
	return grant
}

// HardenedBucketProps returns the settings every bucket of these constructs
// shares: all public access blocked, SSE-S3 encryption, versioning, ACLs
// disabled, TLS enforced by the bucket policy, and the bucket with its
// objects retained when the stack is deleted. Change Encryption (and set
// EncryptionKey) for SSE-KMS.
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

// NewHardenedBucket creates a bucket with props (default
// HardenedBucketProps()), and records why it has no replication.
func NewHardenedBucket(scope constructs.Construct, id string, props *awss3.BucketProps) awss3.Bucket {
	if props == nil {
		props = HardenedBucketProps()
	}
	bucket := awss3.NewBucket(scope, jsii.String(id), props)
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("NIST.800.53.R5-S3BucketReplicationEnabled"),
		Reason: jsii.String("Versioning and retention on stack deletion keep the objects; a replica needs a second bucket, and a key, in another region or account, which a single-region stack cannot create. An organization replicates its log archive account's buckets there."),
	}}, jsii.Bool(false))
	return bucket
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
// When bucket's default encryption uses a KMS key, the log delivery service
// (LogDeliveryPrincipal) also gets the key statement AWS documents for it,
// with the same source conditions. CloudTrail gets none here: a trail that
// writes to such a bucket encrypts with its own KMS key setting, and the
// statements for that key name that trail (package audittrail).
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
	if key := bucket.EncryptionKey(); key != nil && principal == LogDeliveryPrincipal {
		keypolicy.Add(bucket, key, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{sp},
			Actions:    jsii.Strings(deliveryKeyActions...),
			Resources:  jsii.Strings("*"),
			Conditions: &source,
		}), "allow "+principal+" to encrypt log files for this account's sources")
	}
	return bucket.Policy().Node().DefaultChild().(awscdk.CfnResource)
}
