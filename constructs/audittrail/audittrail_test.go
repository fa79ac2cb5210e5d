package audittrail_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
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
			"DependsOn": []any{cdktest.LogicalID(b.toImported.LogsRole.Node().TryFindChild(jsii.String("Policy")).(awsiam.ManagedPolicy))},
		}))
	})
}

func TestMissingBucketStopsSynthesisNamingTheFieldAndPath(t *testing.T) {
	stack := cdktest.NewStack("Missing")
	audittrail.NewAuditTrail(stack, "Trail", nil)
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{"[Missing/Trail]", "AuditTrailProps.Bucket is required"} {
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
	for _, typ := range []string{"AWS::CloudTrail::Trail", "AWS::S3::BucketPolicy"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::CloudTrail::Trail 1
	// AWS::S3::BucketPolicy 1
}
