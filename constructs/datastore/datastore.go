// Package datastore provides a business data store: an S3 bucket of records
// that workloads read and write, hardened as the log archive's buckets are
// (public access blocked, encryption at rest, versioning, ACLs disabled,
// TLS only), with its S3 server access logs kept in a bucket of their own,
// so that who read or changed which record can be told afterwards.
//
// Versioning is what makes the data recoverable: an object that is
// overwritten or deleted keeps its earlier versions. Block Public Access is
// what makes a policy or ACL that would open the records to everyone fail.
package datastore

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/flags"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
)

// DefaultAccessLogsPrefix is where the data bucket's server access logs go
// in the access log bucket unless props say otherwise.
const DefaultAccessLogsPrefix = "data-store/"

// accessLogsPrefix is an S3 key prefix: printable, no leading slash.
var accessLogsPrefix = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]{1,256}$`)

// DataStoreProps configures a DataStore. The zero value (or nil) is a
// complete, hardened store.
type DataStoreProps struct {
	// BucketName is the data bucket's physical name, for scripts that must
	// find it without the stack's outputs. Default: a name that
	// CloudFormation makes up.
	BucketName *string
	// AccessLogsBucket receives the data bucket's server access logs.
	// Default: a new hardened bucket, AccessLogsBucket, which logs nowhere
	// itself.
	AccessLogsBucket awss3.IBucket
	// AccessLogsPrefix is the key prefix of the server access logs in
	// AccessLogsBucket. Default DefaultAccessLogsPrefix.
	AccessLogsPrefix string
}

// DataStore is the data bucket and where its access logs go.
type DataStore struct {
	constructs.Construct
	// Bucket holds the records.
	Bucket awss3.Bucket
	// AccessLogsBucket receives Bucket's server access logs under
	// AccessLogsPrefix.
	AccessLogsBucket awss3.IBucket
	// AccessLogsPrefix is the key prefix of Bucket's server access logs.
	AccessLogsPrefix string
}

// NewDataStore creates the data bucket and, unless props bring one, its
// access log bucket, both with logarchive.HardenedBucketProps: the buckets
// and their objects outlive the stack.
func NewDataStore(scope constructs.Construct, id string, props *DataStoreProps) *DataStore {
	if props == nil {
		props = &DataStoreProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	d := &DataStore{Construct: c, AccessLogsBucket: props.AccessLogsBucket, AccessLogsPrefix: props.AccessLogsPrefix}
	if d.AccessLogsPrefix == "" {
		d.AccessLogsPrefix = DefaultAccessLogsPrefix
	}
	problems := validate.Problems{Props: "DataStoreProps"}
	problems.Pattern("AccessLogsPrefix", d.AccessLogsPrefix, accessLogsPrefix, "an S3 key prefix of letters, digits and !_.*'()/-")
	if problems.Stop(c) {
		return d
	}
	flags.AccessLogsByBucketPolicy(c)

	if d.AccessLogsBucket == nil {
		accessLogs := logarchive.NewHardenedBucket(c, "AccessLogsBucket", nil)
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
		d.AccessLogsBucket = accessLogs
	}
	bucketProps := logarchive.HardenedBucketProps()
	bucketProps.BucketName = props.BucketName
	bucketProps.ServerAccessLogsBucket = d.AccessLogsBucket
	bucketProps.ServerAccessLogsPrefix = jsii.String(d.AccessLogsPrefix)
	d.Bucket = logarchive.NewHardenedBucket(c, "Bucket", bucketProps)
	// SSE-S3, not a KMS key: the records' readers and writers then need no
	// key grant, and a key costs a dollar a month.
	cdknag.NagSuppressions_AddResourceSuppressions(d.Bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("NIST.800.53.R5-S3DefaultEncryptionKMS"),
		Reason: jsii.String("The records are encrypted at rest with SSE-S3; a customer managed key would add a key grant to every reader and writer and a monthly key charge, for records that are generated sample data."),
	}}, jsii.Bool(false))
	return d
}

// GrantRead lets grantee list the data bucket and read its records: what a
// reporting job needs, and nothing else.
func (d *DataStore) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return d.grant(grantee, []string{"s3:GetObject"})
}

// GrantReadWrite lets grantee list the data bucket, and read, write and
// delete its records: what a job that keeps the records up to date needs.
// Earlier versions of a record stay out of its reach: it can neither read
// them by version nor delete them.
func (d *DataStore) GrantReadWrite(grantee awsiam.IGrantable) awsiam.Grant {
	return d.grant(grantee, []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"})
}

func (d *DataStore) grant(grantee awsiam.IGrantable, objectActions []string) awsiam.Grant {
	list := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:ListBucket"),
		ResourceArns: &[]*string{d.Bucket.BucketArn()},
	})
	objects := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(objectActions...),
		ResourceArns: &[]*string{d.Bucket.ArnForObjects(jsii.String("*"))},
	})
	return list.Combine(objects)
}
