package logarchive_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// built is what the test stack holds.
type built struct {
	// archive has every default.
	archive *logarchive.LogArchive
	// own brings an existing access log bucket and its own prefix.
	own *logarchive.LogArchive
	// reader is granted reading archive's logs.
	reader awsiam.Role
	// imported is a bucket from outside the app that delivery was allowed on.
	imported awss3.IBucket
	// shared takes logs from the accounts of the parameter Accounts.
	shared *logarchive.LogArchive
}

const (
	trailSource    = "arn:aws:cloudtrail:*:111122223333:trail/*"
	deliverySource = "arn:aws:logs:us-east-1:111122223333:*"
)

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.archive = logarchive.NewLogArchive(stack, "Archive", nil)
	b.archive.AllowDelivery(logarchive.CloudTrailPrincipal, trailSource)
	b.archive.AllowDelivery(logarchive.LogDeliveryPrincipal, deliverySource)
	b.own = logarchive.NewLogArchive(stack, "Own", &logarchive.LogArchiveProps{
		AccessLogsBucket: awss3.Bucket_FromBucketName(stack, jsii.String("OrgAccessLogs"), jsii.String("org-access-logs")),
		AccessLogsPrefix: "evidence/",
	})
	b.reader = awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	b.archive.GrantRead(b.reader)
	b.imported = awss3.Bucket_FromBucketName(stack, jsii.String("Imported"), jsii.String("someone-elses-logs"))
	logarchive.AllowLogDelivery(b.imported, logarchive.LogDeliveryPrincipal, "arn:aws:logs:us-east-1:111122223333:*")
	accounts := awscdk.NewCfnParameter(stack, jsii.String("Accounts"), &awscdk.CfnParameterProps{Default: jsii.String("444455556666")})
	b.shared = logarchive.NewLogArchive(stack, "Shared", &logarchive.LogArchiveProps{
		DeliveryAccounts: *awscdk.Fn_Split(jsii.String(","), accounts.ValueAsString(), nil),
	})
	return b
}}

func TestBucketsAreHardenedAndOutliveTheStack(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "bucket count", func() {
		// Archive and Shared: logs and access logs; Own: logs only (it
		// brings its access log bucket).
		tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(5))
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
				"OwnershipControls":       map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			}),
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"id": "NIST.800.53.R5-S3BucketReplicationEnabled"}),
			})}},
		}))
	})
	for _, a := range []*logarchive.LogArchive{b.archive, b.own, b.shared} {
		cdktest.Assert(t, *a.Node().Id()+" log bucket under the archive's key", func() {
			tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
				"LoggingConfiguration": assertions.Match_AnyValue(),
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cdktest.GetAtt(a.Key, "Arn")},
					"BucketKeyEnabled":              true,
				}}},
			}))
		})
	}
	// S3 server access logging cannot deliver to a bucket whose default
	// encryption is SSE-KMS.
	cdktest.Assert(t, "access log buckets on SSE-S3, with the reason", func() {
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
			}},
		}), jsii.Number(2))
		tmpl.HasResource(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": assertions.Match_ArrayWith(&[]any{map[string]any{
				"id": "NIST.800.53.R5-S3DefaultEncryptionKMS", "reason": assertions.Match_StringLikeRegexp(jsii.String("server access logging delivers only to a bucket whose default encryption is SSE-S3")),
			}})}},
		}))
	})
	cdktest.Assert(t, "keys rotated and retained", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(3))
		tmpl.AllResources(jsii.String("AWS::KMS::Key"), assertions.Match_ObjectLike(&map[string]any{
			"DeletionPolicy": "Retain",
			"Properties":     assertions.Match_ObjectLike(&map[string]any{"EnableKeyRotation": true}),
		}))
	})
	cdktest.Assert(t, "every bucket policy denies requests without TLS", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::S3::BucketPolicy"), jsii.Number(5))
		tmpl.AllResourcesProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Action":    "s3:*",
				"Principal": map[string]any{"AWS": "*"},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		}))
	})
}

// keyPolicy returns the resolved key policy of key.
func keyPolicy(t *testing.T, r *iamsim.Resolver, template map[string]any, key awskms.IKey) any {
	t.Helper()
	res := template["Resources"].(map[string]any)[cdktest.LogicalID(key)].(map[string]any)
	policy, err := r.Resolve(res["Properties"].(map[string]any)["KeyPolicy"])
	if err != nil {
		t.Fatal(err)
	}
	return policy
}

// TestKeyAdmitsTheAccountsAdministrationAndWhatIsGrantedOnly evaluates the
// archive's key policy with iamsim: the account administers the key (what
// CloudFormation does) but no IAM principal of it decrypts because its own
// policies say so; the reader decrypts through S3 and CloudWatch Logs, not
// by calling KMS itself; the log delivery service encrypts for this
// account's sources only; CloudTrail, whose trail has its own statements,
// gets none here.
func TestKeyAdmitsTheAccountsAdministrationAndWhatIsGrantedOnly(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	r, err := iamsim.NewResolver(template, iamsim.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	policy := keyPolicy(t, r, template, b.archive.Key)
	const admin = "arn:aws:iam::111122223333:role/Administrator"
	reader := "arn:aws:iam::111122223333:role/" + strings.ToLower(cdktest.LogicalID(b.reader))
	via := func(service string) map[string]string {
		return map[string]string{"kms:ViaService": service + ".us-east-1.amazonaws.com"}
	}
	delivery := func(account string) map[string]string {
		return map[string]string{"aws:SourceAccount": account, "aws:SourceArn": "arn:aws:logs:us-east-1:" + account + ":*"}
	}
	for _, c := range []struct {
		principal, action string
		context           map[string]string
		want              bool
	}{
		{admin, "kms:PutKeyPolicy", nil, true},
		{admin, "kms:ScheduleKeyDeletion", nil, true},
		{admin, "kms:EnableKeyRotation", nil, true},
		{admin, "kms:Decrypt", via("s3"), false},
		{admin, "kms:CreateGrant", nil, false},
		{admin, "kms:GenerateDataKey", nil, false},
		{reader, "kms:Decrypt", via("s3"), true},
		{reader, "kms:Decrypt", via("logs"), true},
		{reader, "kms:Decrypt", nil, false},
		{reader, "kms:Decrypt", via("secretsmanager"), false},
		{reader, "kms:GenerateDataKey", via("s3"), false},
		{logarchive.LogDeliveryPrincipal, "kms:GenerateDataKey", delivery("111122223333"), true},
		{logarchive.LogDeliveryPrincipal, "kms:GenerateDataKey", delivery("444455556666"), false},
		{logarchive.CloudTrailPrincipal, "kms:GenerateDataKey", map[string]string{"aws:SourceAccount": "111122223333", "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}, false},
	} {
		got, err := iamsim.Allows(policy, iamsim.Request{Principal: c.principal, Action: c.action, Resource: "arn:aws:kms:us-east-1:111122223333:key/k", Context: c.context})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s %s %v: allowed=%v, want %v", c.principal, c.action, c.context, got, c.want)
		}
	}
}

func TestLogBucketWritesAccessLogsToTheAccessLogBucket(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "default access log bucket and prefix", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"LoggingConfiguration": map[string]any{
				"DestinationBucketName": cdktest.Ref(b.archive.AccessLogsBucket),
				"LogFilePrefix":         logarchive.DefaultAccessLogsPrefix,
			},
		}))
	})
	cdktest.Assert(t, "brought access log bucket and prefix", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"LoggingConfiguration": map[string]any{"DestinationBucketName": "org-access-logs", "LogFilePrefix": "evidence/"},
		}))
	})
	// The S3 logging service writes through the access log bucket's policy,
	// whatever feature flags the app sets: ACLs are disabled everywhere.
	cdktest.Assert(t, "logging service allowed by policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Bucket": cdktest.Ref(b.archive.AccessLogsBucket),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"},
				"Action":    "s3:PutObject",
			})})},
		}))
	})
	if got := *b.own.AccessLogsBucket.BucketName(); got != "org-access-logs" {
		t.Errorf("Own.AccessLogsBucket is %s, want the bucket it was given", got)
	}
}

// TestDeliveryStatementsCarrySourceConditions pins the confused-deputy
// protection: the service may check the ACL and write under
// AWSLogs/{this account}/ only for this account's sources.
func TestDeliveryStatementsCarrySourceConditions(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	source := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
		"ArnLike":      map[string]any{"aws:SourceArn": trailSource},
	}
	cdktest.Assert(t, "log bucket policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Bucket": cdktest.Ref(b.archive.Bucket),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				map[string]any{
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": logarchive.CloudTrailPrincipal},
					"Action":    "s3:GetBucketAcl",
					"Resource":  cdktest.GetAtt(b.archive.Bucket, "Arn"),
					"Condition": source,
				},
				map[string]any{
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": logarchive.CloudTrailPrincipal},
					"Action":    "s3:PutObject",
					"Resource": map[string]any{"Fn::Sub": []any{"${Bucket}/AWSLogs/${AWS::AccountId}/*",
						map[string]any{"Bucket": cdktest.GetAtt(b.archive.Bucket, "Arn")}}},
					"Condition": map[string]any{
						"StringEquals": map[string]any{
							"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"},
							"s3:x-amz-acl":      "bucket-owner-full-control",
						},
						"ArnLike": map[string]any{"aws:SourceArn": trailSource},
					},
				},
			})},
		}))
	})
	// Only the buckets that delivery was allowed on let a log delivery
	// service in.
	cdktest.Assert(t, "no delivery statement elsewhere", func() {
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{
					"Service": assertions.Match_StringLikeRegexp(jsii.String("cloudtrail|delivery[.]logs"))}}),
			})},
		}), jsii.Number(2))
	})
}

// TestListedAccountsWriteUnderTheirOwnPrefixOnly evaluates the shared
// archive's bucket policy, resolved for one, two and several accounts, with
// iamsim: each listed account's CloudTrail and log delivery may check the ACL
// and write under AWSLogs/{that account}/ with the owner-full-control ACL;
// not under another account's prefix, not without the ACL, and an unlisted
// account not at all.
func TestListedAccountsWriteUnderTheirOwnPrefixOnly(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	bucket := "arn:aws:s3:::" + strings.ToLower(cdktest.LogicalID(b.shared.Bucket))
	const unlisted, self = "999988887777", "111122223333"
	for _, accounts := range [][]string{
		{"444455556666"},
		{"444455556666", "777788889999"},
		{"444455556666", "777788889999", "123456789012", "210987654321", "555566667777"},
	} {
		r, err := iamsim.NewResolver(template, iamsim.Deployment{Account: self, Parameters: map[string]string{"Accounts": strings.Join(accounts, ",")}})
		if err != nil {
			t.Fatal(err)
		}
		policy := bucketPolicy(t, r, template, b.shared.Bucket)
		check := func(principal, source, action, resource string, acl bool, want bool) {
			t.Helper()
			ctx := map[string]string{"aws:SourceAccount": source, "aws:SecureTransport": "true"}
			if acl {
				ctx["s3:x-amz-acl"] = "bucket-owner-full-control"
			}
			got, err := iamsim.Allows(policy, iamsim.Request{Principal: principal, Action: action, Resource: resource, Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("accounts %v: %s for %s: %s on %s (ACL %v): allowed=%v, want %v", accounts, principal, source, action, resource, acl, got, want)
			}
		}
		for _, principal := range []string{logarchive.CloudTrailPrincipal, logarchive.LogDeliveryPrincipal} {
			for _, account := range accounts {
				check(principal, account, "s3:GetBucketAcl", bucket, false, true)
				check(principal, account, "s3:PutObject", bucket+"/AWSLogs/"+account+"/CloudTrail/us-east-1/2026/01/01/f.json.gz", true, true)
				check(principal, account, "s3:PutObject", bucket+"/AWSLogs/"+account+"/vpcflowlogs/f.log.gz", false, false)
				check(principal, account, "s3:PutObject", bucket+"/AWSLogs/"+unlisted+"/f.json.gz", true, false)
				check(principal, account, "s3:PutObject", bucket+"/elsewhere/f.json.gz", true, false)
			}
			for _, other := range []string{unlisted, self} {
				check(principal, other, "s3:GetBucketAcl", bucket, false, false)
				check(principal, other, "s3:PutObject", bucket+"/AWSLogs/"+other+"/CloudTrail/f.json.gz", true, false)
			}
		}
		key := keyPolicy(t, r, template, b.shared.Key)
		generates := func(principal, source string, want bool) {
			t.Helper()
			got, err := iamsim.Allows(key, iamsim.Request{Principal: principal, Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
				Context: map[string]string{"aws:SourceAccount": source}})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("accounts %v: %s for %s generates a data key with the bucket's key: %v, want %v", accounts, principal, source, got, want)
			}
		}
		for _, principal := range []string{logarchive.CloudTrailPrincipal, logarchive.LogDeliveryPrincipal} {
			for _, account := range accounts {
				generates(principal, account, true)
			}
			// This account's sources have narrower statements of their own.
			generates(principal, self, false)
			generates(principal, unlisted, false)
		}
		check("logging.s3.amazonaws.com", accounts[0], "s3:PutObject", bucket+"/AWSLogs/"+accounts[0]+"/f", true, false)
		if len(accounts) > 1 {
			check(logarchive.CloudTrailPrincipal, accounts[0], "s3:PutObject", bucket+"/AWSLogs/"+accounts[1]+"/CloudTrail/f.json.gz", true, false)
		}
	}
}

// TestKeyOfTheSharedArchiveLeavesThisAccountToItsOwnStatements lists this
// account among the delivery accounts: the key's statement for them still
// leaves it out, since this account's trail and deliveries have narrower
// statements (source ARNs) of their own.
func TestKeyOfTheSharedArchiveLeavesThisAccountToItsOwnStatements(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	const self, other = "111122223333", "444455556666"
	r, err := iamsim.NewResolver(template, iamsim.Deployment{Account: self, Parameters: map[string]string{"Accounts": other + "," + self}})
	if err != nil {
		t.Fatal(err)
	}
	key := keyPolicy(t, r, template, b.shared.Key)
	for _, principal := range []string{logarchive.CloudTrailPrincipal, logarchive.LogDeliveryPrincipal} {
		for account, want := range map[string]bool{other: true, self: false} {
			got, err := iamsim.Allows(key, iamsim.Request{Principal: principal, Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
				Context: map[string]string{"aws:SourceAccount": account}})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s for %s: allowed=%v, want %v", principal, account, got, want)
			}
		}
	}
}

// bucketPolicy returns the resolved policy document of bucket's policy.
func bucketPolicy(t *testing.T, r *iamsim.Resolver, template map[string]any, bucket awss3.IBucket) any {
	t.Helper()
	name := strings.ToLower(cdktest.LogicalID(bucket))
	for _, res := range template["Resources"].(map[string]any) {
		res := res.(map[string]any)
		if res["Type"] != "AWS::S3::BucketPolicy" {
			continue
		}
		props, err := r.Resolve(res["Properties"])
		if err != nil {
			t.Fatal(err)
		}
		if p := props.(map[string]any); p["Bucket"] == name {
			return p["PolicyDocument"]
		}
	}
	t.Fatalf("no policy for bucket %s", name)
	return nil
}

func TestDeliveryToAnImportedBucketWarns(t *testing.T) {
	_, stack, _ := fixture.Get(t)
	cdktest.Assert(t, "warning on the imported bucket", func() {
		assertions.Annotations_FromStack(stack).HasWarning(jsii.String("/Test/Imported"),
			assertions.Match_StringLikeRegexp(jsii.String("not managed by this app: allow delivery.logs.amazonaws.com to call s3:GetBucketAcl")))
	})
}

// TestGrantReadAllowsListingAndReadingLogsOnly pins the grant's whole policy:
// list the bucket, read keys under AWSLogs/, decrypt them through S3 (or a
// log group through CloudWatch Logs), nothing more.
func TestGrantReadAllowsListingAndReadingLogsOnly(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "reader policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.reader)},
			"PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{
					"Effect":   "Allow",
					"Action":   []any{"s3:GetBucketLocation", "s3:ListBucket"},
					"Resource": cdktest.GetAtt(b.archive.Bucket, "Arn"),
				},
				map[string]any{
					"Effect": "Allow",
					"Action": "s3:GetObject",
					"Resource": map[string]any{"Fn::Sub": []any{"${Arn}/AWSLogs/*",
						map[string]any{"Arn": cdktest.GetAtt(b.archive.Bucket, "Arn")}}},
				},
				map[string]any{
					"Effect":   "Allow",
					"Action":   "kms:Decrypt",
					"Resource": cdktest.GetAtt(b.archive.Key, "Arn"),
					"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": []any{
						map[string]any{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"},
						map[string]any{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"},
					}}},
				},
			}},
		}))
	})
}

// ExampleNewLogArchive builds an archive with every default, lets a role
// read it, and lists what the stack then holds.
func ExampleNewLogArchive() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Evidence"), nil)
	archive := logarchive.NewLogArchive(stack, "LogArchive", nil)
	responder := awsiam.NewRole(stack, jsii.String("Responder"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	archive.GrantRead(responder)

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::KMS::Key", "AWS::IAM::Policy"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::S3::Bucket 2
	// AWS::S3::BucketPolicy 2
	// AWS::KMS::Key 1
	// AWS::IAM::Policy 1
}
