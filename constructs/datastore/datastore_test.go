package datastore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/datastore"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// built is what the test stack holds.
type built struct {
	// store has every default.
	store *datastore.DataStore
	// named has a fixed name and brings its access log bucket and prefix.
	named *datastore.DataStore
	// reader may read store; writer may read and write it.
	reader, writer awsiam.User
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.store = datastore.NewDataStore(stack, "Store", nil)
	b.named = datastore.NewDataStore(stack, "Named", &datastore.DataStoreProps{
		BucketName:       jsii.String("records-of-record"),
		AccessLogsBucket: awss3.Bucket_FromBucketName(stack, jsii.String("OrgAccessLogs"), jsii.String("org-access-logs")),
		AccessLogsPrefix: "records/",
	})
	b.reader = awsiam.NewUser(stack, jsii.String("Reader"), nil)
	b.store.GrantRead(b.reader)
	b.writer = awsiam.NewUser(stack, jsii.String("Writer"), nil)
	b.store.GrantReadWrite(b.writer)
	return b
}}

// TestBucketsAreVersionedEncryptedPrivateAndRetained pins the hardening of
// every bucket the construct makes: the data bucket and its own access log
// bucket, and the named store's data bucket.
func TestBucketsAreVersionedEncryptedPrivateAndRetained(t *testing.T) {
	_, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "bucket count", func() {
		// Store: records and access logs; Named: records only.
		tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(3))
	})
	cdktest.Assert(t, "every bucket hardened and retained", func() {
		tmpl.AllResources(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
					map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
				}},
				"OwnershipControls": map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			}),
		}))
	})
	cdktest.Assert(t, "every bucket policy denies requests without TLS", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Action":    "s3:*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		}))
	})
	cdktest.Assert(t, "the named store keeps its name", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"BucketName": "records-of-record",
		}))
	})
}

// TestDataBucketWritesServerAccessLogs pins where the access logs go, and
// that the S3 logging service may write them there through the access log
// bucket's policy (its ACLs are disabled), for the data bucket only.
func TestDataBucketWritesServerAccessLogs(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "default access log bucket and prefix", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"LoggingConfiguration": map[string]any{
				"DestinationBucketName": cdktest.Ref(b.store.AccessLogsBucket),
				"LogFilePrefix":         datastore.DefaultAccessLogsPrefix,
			},
		}))
	})
	cdktest.Assert(t, "brought access log bucket and prefix", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"BucketName":           "records-of-record",
			"LoggingConfiguration": map[string]any{"DestinationBucketName": "org-access-logs", "LogFilePrefix": "records/"},
		}))
	})
	cdktest.Assert(t, "logging service allowed by policy, for the data bucket", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Bucket": cdktest.Ref(b.store.AccessLogsBucket),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"},
				"Action":    "s3:PutObject",
				"Condition": assertions.Match_ObjectLike(&map[string]any{
					"ArnLike": map[string]any{"aws:SourceArn": cdktest.GetAtt(b.store.Bucket, "Arn")},
				}),
			})})},
		}))
	})
	if b.store.AccessLogsPrefix != datastore.DefaultAccessLogsPrefix || b.named.AccessLogsPrefix != "records/" {
		t.Errorf("AccessLogsPrefix %q and %q, want the default and the one given", b.store.AccessLogsPrefix, b.named.AccessLogsPrefix)
	}
	if got := *b.named.AccessLogsBucket.BucketName(); got != "org-access-logs" {
		t.Errorf("Named.AccessLogsBucket is %s, want the bucket it was given", got)
	}
}

// TestGrantsAllowTheRecordsAndNoEarlierVersion pins each grant's whole
// policy: list the bucket and act on its current objects; no version-level
// action, so a grantee can neither read an earlier version nor delete one,
// and no bucket-level change.
func TestGrantsAllowTheRecordsAndNoEarlierVersion(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	objects := map[string]any{"Fn::Join": []any{"", []any{cdktest.GetAtt(b.store.Bucket, "Arn"), "/*"}}}
	for _, c := range []struct {
		who     awsiam.User
		actions any
	}{
		{b.reader, "s3:GetObject"},
		{b.writer, []any{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}},
	} {
		cdktest.Assert(t, *c.who.Node().Id()+"'s policy", func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
				"Users": []any{cdktest.Ref(c.who)},
				"PolicyDocument": map[string]any{"Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": cdktest.GetAtt(b.store.Bucket, "Arn")},
					map[string]any{"Effect": "Allow", "Action": c.actions, "Resource": objects},
				}},
			}))
		})
	}
}

func TestBadAccessLogsPrefixStopsSynthesisNamingTheField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	datastore.NewDataStore(stack, "Slash", &datastore.DataStoreProps{AccessLogsPrefix: "logs with spaces/"})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	if want := `[Bad/Slash] DataStoreProps.AccessLogsPrefix is "logs with spaces/"`; !strings.Contains(msg, want) {
		t.Errorf("synthesis error does not say %q", want)
	}
}

// ExampleNewDataStore creates a store of records with every default and
// lets a reporting job read them.
func ExampleNewDataStore() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Records"), nil)
	store := datastore.NewDataStore(stack, "Data", nil)
	job := awsiam.NewUser(stack, jsii.String("Reporting"), nil)
	store.GrantRead(job)

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::IAM::Policy"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::S3::Bucket 2
	// AWS::S3::BucketPolicy 2
	// AWS::IAM::Policy 1
}
