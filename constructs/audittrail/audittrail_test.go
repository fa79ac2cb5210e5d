package audittrail_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

type built struct {
	logs, accessLogs awss3.Bucket
	// key encrypts logs, and so the trail's files and log group.
	key   awskms.Key
	trail *audittrail.AuditTrail
	// toImported writes to a bucket whose policy this app does not manage,
	// without a key, under its own names.
	toImported *audittrail.AuditTrail
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.accessLogs = awss3.NewBucket(stack, jsii.String("AccessLogs"), nil)
	b.key = awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	b.logs = awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{ServerAccessLogsBucket: b.accessLogs, EncryptionKey: b.key})
	b.trail = audittrail.NewAuditTrail(stack, "Trail", &audittrail.AuditTrailProps{
		Bucket:            b.logs,
		ExcludeDataEvents: []awss3.IBucket{b.accessLogs},
	})
	b.toImported = audittrail.NewAuditTrail(stack, "ToImported", &audittrail.AuditTrailProps{
		Bucket:       awss3.Bucket_FromBucketName(stack, jsii.String("Imported"), jsii.String("org-trail-logs")),
		TrailName:    "org-trail",
		LogGroupName: "org/cloudtrail",
		LogRetention: awslogs.RetentionDays_ONE_YEAR,
	})
	return b
}}

func dataSelector(excluded ...any) map[string]any {
	return map[string]any{
		"Name": "S3 data events, except the log buckets",
		"FieldSelectors": []any{
			map[string]any{"Field": "eventCategory", "Equals": []any{"Data"}},
			map[string]any{"Field": "resources.type", "Equals": []any{"AWS::S3::Object"}},
			map[string]any{"Field": "resources.ARN", "NotStartsWith": excluded},
		},
	}
}

func objectsOf(b awss3.IBucket) map[string]any {
	return map[string]any{"Fn::Sub": []any{"${Arn}/", map[string]any{"Arn": cdktest.GetAtt(b, "Arn")}}}
}

func TestTrailIsMultiRegionValidatedAndSkipsItsOwnBuckets(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "trail", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"S3BucketName":               cdktest.Ref(b.logs),
			"IsLogging":                  true,
			"IsMultiRegionTrail":         true,
			"IncludeGlobalServiceEvents": true,
			"EnableLogFileValidation":    true,
			// CloudFormation rejects EventSelectors next to AdvancedEventSelectors.
			"EventSelectors": assertions.Match_Absent(),
			"AdvancedEventSelectors": []any{
				map[string]any{
					"Name":           "Management events",
					"FieldSelectors": []any{map[string]any{"Field": "eventCategory", "Equals": []any{"Management"}}},
				},
				// Writes to the log bucket, or to its access log bucket, would
				// be recorded, written, and recorded again.
				dataSelector(objectsOf(b.logs), objectsOf(b.accessLogs)),
			},
		}))
	})
}

func TestTrailWaitsForItsDeliveryStatements(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	policy := cdktest.LogicalID(b.logs.Policy())
	cdktest.Assert(t, "delivery statements", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Bucket": cdktest.Ref(b.logs),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
					"Action":    "s3:GetBucketAcl",
					"Condition": assertions.Match_ObjectLike(&map[string]any{"ArnLike": map[string]any{
						"aws:SourceArn": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"},
					}}),
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
					"Action":    "s3:PutObject",
				}),
			})},
		}))
	})
	cdktest.Assert(t, "trail depends on the policy", func() {
		tmpl.HasResource(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{"S3BucketName": cdktest.Ref(b.logs)}),
			// CloudTrail checks its write access when the trail is created.
			"DependsOn": assertions.Match_ArrayWith(&[]any{policy}),
		}))
	})
}

// TestTrailToAnImportedBucketBuildsWithoutAPolicyToWaitFor covers a bucket
// from outside the app: the trail still writes to it and excludes it.
func TestTrailToAnImportedBucketBuildsWithoutAPolicyToWaitFor(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	imported := map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":s3:::org-trail-logs"}}}
	cdktest.Assert(t, "trail to imported bucket", func() {
		tmpl.HasResource(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"S3BucketName":           "org-trail-logs",
				"AdvancedEventSelectors": assertions.Match_ArrayWith(&[]any{dataSelector(map[string]any{"Fn::Sub": []any{"${Arn}/", map[string]any{"Arn": imported}}})}),
			}),
			// Only the role's policy, which the trail checks it may use.
			"DependsOn": []any{cdktest.LogicalID(b.toImported.LogsPolicy)},
		}))
	})
}

// TestTrailEncryptsWithTheKeyAndAlsoDeliversToItsLogGroup pins the trail's
// key and log group: the bucket's key by default, a log group with a
// retention and the same key, and the role CloudTrail writes to it with,
// whose policy the trail waits for. Without a key, neither is encrypted
// with one.
func TestTrailEncryptsWithTheKeyAndAlsoDeliversToItsLogGroup(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	key := cdktest.GetAtt(b.key, "Arn")
	cdktest.Assert(t, "trail", func() {
		tmpl.HasResource(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"TrailName":                 audittrail.DefaultTrailName,
				"KMSKeyId":                  key,
				"EnableLogFileValidation":   true,
				"CloudWatchLogsLogGroupArn": cdktest.GetAtt(b.trail.LogGroup, "Arn"),
				"CloudWatchLogsRoleArn":     cdktest.GetAtt(b.trail.LogsRole, "Arn"),
			}),
			"DependsOn": assertions.Match_ArrayWith(&[]any{cdktest.LogicalID(b.trail.LogsPolicy)}),
		}))
	})
	cdktest.Assert(t, "log groups", func() {
		tmpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
			"Type":       "AWS::Logs::LogGroup",
			"Properties": map[string]any{"LogGroupName": audittrail.DefaultLogGroupName, "RetentionInDays": 90, "KmsKeyId": key},
			// The bucket keeps the files; a log group left behind would
			// stop the next deployment.
			"DeletionPolicy":      "Delete",
			"UpdateReplacePolicy": "Delete",
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"LogGroupName": "org/cloudtrail", "RetentionInDays": 365})
	})
	cdktest.Assert(t, "no key, no encryption", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"TrailName": "org-trail", "KMSKeyId": assertions.Match_Absent(),
		}))
	})
	cdktest.Assert(t, "role and its policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{
			"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			}}}),
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.trail.LogsRole)},
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{map[string]any{
				"Sid": "WriteTrailEvents", "Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" +
					audittrail.DefaultLogGroupName + ":log-stream:${AWS::AccountId}_CloudTrail_${AWS::Region}*"},
			}}}),
		}))
	})
}

// TestKeyLetsCloudTrailAndCloudWatchLogsServeThisTrailOnly evaluates the
// key policy with iamsim: CloudTrail may generate data keys and describe the
// key for this trail, not for another trail of the account; CloudWatch Logs
// of this region may use it for this log group, not another; the trail's
// role may use it through CloudWatch Logs for this log group.
func TestKeyLetsCloudTrailAndCloudWatchLogsServeThisTrailOnly(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	r, err := iamsim.NewResolver(template, iamsim.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := r.Resolve(template["Resources"].(map[string]any)[cdktest.LogicalID(b.key)].(map[string]any)["Properties"].(map[string]any)["KeyPolicy"])
	if err != nil {
		t.Fatal(err)
	}
	const (
		account = "111122223333"
		keyArn  = "arn:aws:kms:us-east-1:111122223333:key/key"
		trail   = "arn:aws:cloudtrail:us-east-1:111122223333:trail/" + audittrail.DefaultTrailName
		other   = "arn:aws:cloudtrail:us-east-1:111122223333:trail/other"
		group   = "arn:aws:logs:us-east-1:111122223333:log-group:" + audittrail.DefaultLogGroupName
	)
	role := "arn:aws:iam::111122223333:role/" + strings.ToLower(cdktest.LogicalID(b.trail.LogsRole))
	for _, c := range []struct {
		name      string
		principal string
		action    string
		context   map[string]string
		want      bool
	}{
		{"CloudTrail for this trail", "cloudtrail.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceArn": trail, "aws:SourceAccount": account, "kms:EncryptionContext:aws:cloudtrail:arn": trail}, true},
		{"CloudTrail describes for this trail", "cloudtrail.amazonaws.com", "kms:DescribeKey", map[string]string{"aws:SourceArn": trail}, true},
		{"CloudTrail for another trail", "cloudtrail.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceArn": other, "aws:SourceAccount": account, "kms:EncryptionContext:aws:cloudtrail:arn": other}, false},
		{"CloudTrail describes for another trail", "cloudtrail.amazonaws.com", "kms:DescribeKey", map[string]string{"aws:SourceArn": other}, false},
		{"CloudTrail for another account's trail context", "cloudtrail.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceArn": trail, "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:us-east-1:444455556666:trail/t"}, false},
		{"CloudWatch Logs for the log group", "logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:logs:arn": group}, true},
		{"CloudWatch Logs for another log group", "logs.us-east-1.amazonaws.com", "kms:Decrypt", map[string]string{"kms:EncryptionContext:aws:logs:arn": group + "-other"}, false},
		{"CloudWatch Logs of another region", "logs.eu-west-1.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:logs:arn": group}, false},
		{"the trail's role through CloudWatch Logs", role, "kms:GenerateDataKey", map[string]string{"kms:ViaService": "logs.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:logs:arn": group}, true},
	} {
		got, err := iamsim.Allows(policy, iamsim.Request{Principal: c.principal, Action: c.action, Resource: keyArn, Context: c.context})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: %s %s allowed=%v, want %v", c.name, c.principal, c.action, got, c.want)
		}
	}
}

func TestMissingBucketOrBadNamesStopSynthesisNamingTheFieldAndPath(t *testing.T) {
	stack := cdktest.NewStack("Missing")
	audittrail.NewAuditTrail(stack, "Trail", nil)
	logs := awss3.NewBucket(stack, jsii.String("Logs"), nil)
	audittrail.NewAuditTrail(stack, "Named", &audittrail.AuditTrailProps{Bucket: logs, TrailName: "-x", LogGroupName: "no spaces"})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{"[Missing/Trail]", "AuditTrailProps.Bucket is required",
		`[Missing/Named] AuditTrailProps.TrailName is "-x"`, `AuditTrailProps.LogGroupName is "no spaces"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error %q does not say %q", msg, want)
		}
	}
}

// ExampleNewAuditTrail records this account's management events and S3 data
// events into a bucket of the app's own.
func ExampleNewAuditTrail() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Audit"), nil)
	logs := awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	audittrail.NewAuditTrail(stack, "Trail", &audittrail.AuditTrailProps{Bucket: logs})

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::CloudTrail::Trail", "AWS::S3::BucketPolicy", "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::IAM::Policy"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::CloudTrail::Trail 1
	// AWS::S3::BucketPolicy 1
	// AWS::Logs::LogGroup 1
	// AWS::IAM::Role 1
	// AWS::IAM::Policy 1
}
