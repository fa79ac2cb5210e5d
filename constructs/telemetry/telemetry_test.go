package telemetry_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
	"github.com/ir-workshop/incident-response-playbooks/constructs/telemetry"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

type built struct {
	vpc   awsec2.Vpc
	logs  awss3.Bucket
	named *telemetry.NetworkTelemetry
	plain *telemetry.NetworkTelemetry
}

// smallVpc is a VPC with as few resources as a test needs.
func smallVpc(stack awscdk.Stack, id string) awsec2.Vpc {
	return awsec2.NewVpc(stack, jsii.String(id), &awsec2.VpcProps{
		MaxAzs:              jsii.Number(1),
		NatGateways:         jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("Isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.vpc = smallVpc(stack, "Vpc")
	b.logs = awss3.NewBucket(stack, jsii.String("Logs"), nil)
	b.named = telemetry.NewNetworkTelemetry(stack, "Named", &telemetry.NetworkTelemetryProps{
		Vpc: b.vpc, Bucket: b.logs, QueryLoggingName: "prod-vpc-dns",
	})
	// A VPC from outside the app, with every default.
	existing := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Existing"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0123456789abcdef0"), AvailabilityZones: jsii.Strings("us-east-1a"),
	})
	b.plain = telemetry.NewNetworkTelemetry(stack, "Plain", &telemetry.NetworkTelemetryProps{Vpc: existing, Bucket: b.logs})
	return b
}}

// documentedFields is every VPC Flow Logs field in the order the
// specification lists them, which the table's columns follow.
const documentedFields = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"

func TestFlowLogRecordsAllTrafficInTheFullFormatEveryMinute(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	format := assertions.NewCapture(nil)
	cdktest.Assert(t, "flow log", func() {
		tmpl.HasResource(jsii.String("AWS::EC2::FlowLog"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": map[string]any{
				"ResourceType":           "VPC",
				"ResourceId":             cdktest.Ref(b.vpc),
				"TrafficType":            "ALL",
				"LogDestinationType":     "s3",
				"LogDestination":         cdktest.GetAtt(b.logs, "Arn"),
				"MaxAggregationInterval": 60,
				"LogFormat":              format,
				"DestinationOptions":     map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false},
			},
			// The delivery service checks its write access on creation.
			"DependsOn": []any{cdktest.LogicalID(b.logs.Policy())},
		}))
	})
	if t.Failed() {
		return
	}
	got := *format.AsString()
	if got != logschema.VPCFlowFormat() {
		t.Errorf("flow log format %q differs from the table schema's %q", got, logschema.VPCFlowFormat())
	}
	var want []string
	for _, f := range strings.Fields(documentedFields) {
		want = append(want, "${"+f+"}")
	}
	if got != strings.Join(want, " ") {
		t.Errorf("flow log format %q does not name every documented field in order", got)
	}
}

func TestDNSQueryLoggingGoesToTheBucketForTheVPC(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "named query logging", func() {
		tmpl.HasResource(jsii.String("AWS::Route53Resolver::ResolverQueryLoggingConfig"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": map[string]any{"Name": "prod-vpc-dns", "DestinationArn": cdktest.GetAtt(b.logs, "Arn")},
			"DependsOn":  []any{cdktest.LogicalID(b.logs.Policy())},
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation"), map[string]any{
			"ResolverQueryLogConfigId": cdktest.GetAtt(b.named.QueryLogging, "Id"),
			"ResourceId":               cdktest.Ref(b.vpc),
		})
	})
	cdktest.Assert(t, "default name and an imported VPC", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Route53Resolver::ResolverQueryLoggingConfig"), map[string]any{
			"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-vpc-dns"}, "DestinationArn": cdktest.GetAtt(b.logs, "Arn"),
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation"), map[string]any{
			"ResolverQueryLogConfigId": cdktest.GetAtt(b.plain.QueryLogging, "Id"),
			"ResourceId":               "vpc-0123456789abcdef0",
		})
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::FlowLog"), jsii.Number(2))
	})
}

func TestLogDeliveryServiceMayWriteOnlyForThisAccountsLogs(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	source := assertions.Match_ObjectLike(&map[string]any{
		"StringEquals": assertions.Match_ObjectLike(&map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}),
		"ArnLike":      map[string]any{"aws:SourceArn": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"}},
	})
	cdktest.Assert(t, "delivery statements", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Bucket": cdktest.Ref(b.logs),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Condition": source,
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:PutObject", "Condition": source,
				}),
			})},
		}))
	})
}

func TestMissingOrBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	telemetry.NewNetworkTelemetry(stack, "Nil", nil)
	telemetry.NewNetworkTelemetry(stack, "BadName", &telemetry.NetworkTelemetryProps{
		Vpc: smallVpc(stack, "Vpc"), Bucket: awss3.NewBucket(stack, jsii.String("Logs"), nil), QueryLoggingName: "dns/logs",
	})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/Nil] NetworkTelemetryProps.Vpc is required",
		"[Bad/Nil] NetworkTelemetryProps.Bucket is required",
		`[Bad/BadName] NetworkTelemetryProps.QueryLoggingName is "dns/logs"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}

// ExampleNewNetworkTelemetry logs a VPC's traffic and DNS queries into a
// bucket of the app's own.
func ExampleNewNetworkTelemetry() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Network"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), nil)
	logs := awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	telemetry.NewNetworkTelemetry(stack, "Telemetry", &telemetry.NetworkTelemetryProps{Vpc: vpc, Bucket: logs})

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::EC2::FlowLog", "AWS::Route53Resolver::ResolverQueryLoggingConfig", "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::EC2::FlowLog 1
	// AWS::Route53Resolver::ResolverQueryLoggingConfig 1
	// AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation 1
}
