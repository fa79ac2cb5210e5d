// Package telemetry provides network telemetry for a VPC: VPC Flow Logs of
// all traffic in the full custom format with 60 second aggregation, and
// Route 53 Resolver query logging associated with the VPC, both delivered to
// a log bucket under AWSLogs/.
package telemetry

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53resolver"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// NetworkTelemetryProps configures a NetworkTelemetry.
type NetworkTelemetryProps struct {
	// Vpc whose traffic and DNS queries are logged. Required.
	Vpc awsec2.IVpc
	// Bucket receives the logs under AWSLogs/, for example a
	// logarchive.LogArchive's Bucket; the construct adds the log delivery
	// service's statements, with confused-deputy conditions, to its policy.
	// Required.
	Bucket awss3.IBucket
	// QueryLoggingName names the Route 53 Resolver query logging
	// configuration. Default "{stack name}-vpc-dns".
	QueryLoggingName string
}

// NetworkTelemetry is a VPC's flow log and DNS query logging.
type NetworkTelemetry struct {
	constructs.Construct
	// FlowLog is the VPC's flow log. The L2 FlowLog is not used: it adds
	// bucket statements of its own (logarchive owns the delivery statements)
	// and writes DestinationOptions with keys the resource schema rejects.
	FlowLog awsec2.CfnFlowLog
	// QueryLogging is the Route 53 Resolver query logging configuration; no
	// L2 construct exists for it.
	QueryLogging awsroute53resolver.CfnResolverQueryLoggingConfig
	// QueryLoggingAssociation ties QueryLogging to the VPC.
	QueryLoggingAssociation awsroute53resolver.CfnResolverQueryLoggingConfigAssociation
}

// queryLoggingName is what Route 53 Resolver accepts as a query logging
// configuration's name.
var queryLoggingName = regexp.MustCompile(`^[A-Za-z0-9 _-]{1,64}$`)

// NewNetworkTelemetry creates the flow log and the query logging. A missing
// Vpc or Bucket stops synthesis with a message that names it.
func NewNetworkTelemetry(scope constructs.Construct, id string, props *NetworkTelemetryProps) *NetworkTelemetry {
	if props == nil {
		props = &NetworkTelemetryProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	t := &NetworkTelemetry{Construct: c}
	problems := validate.Problems{Props: "NetworkTelemetryProps"}
	problems.Require(props.Vpc == nil, "Vpc", "the VPC whose traffic and DNS queries are logged")
	problems.Require(props.Bucket == nil, "Bucket", "the bucket the logs are delivered to")
	if props.QueryLoggingName != "" {
		problems.Pattern("QueryLoggingName", props.QueryLoggingName, queryLoggingName, "1 to 64 letters, digits, spaces, '-' or '_'")
	}
	if problems.Stop(c) {
		return t
	}
	bucket := props.Bucket
	policy := logarchive.AllowLogDelivery(bucket, logarchive.LogDeliveryPrincipal,
		*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"), nil))
	name := jsii.String(props.QueryLoggingName)
	if props.QueryLoggingName == "" {
		name = awscdk.Fn_Sub(jsii.String("${AWS::StackName}-vpc-dns"), nil)
	}

	t.FlowLog = awsec2.NewCfnFlowLog(c, jsii.String("FlowLog"), &awsec2.CfnFlowLogProps{
		ResourceType:           jsii.String("VPC"),
		ResourceId:             props.Vpc.VpcId(),
		TrafficType:            jsii.String("ALL"),
		LogDestinationType:     jsii.String("s3"),
		LogDestination:         bucket.BucketArn(),
		LogFormat:              jsii.String(logschema.VPCFlowFormat()),
		MaxAggregationInterval: jsii.Number(60),
		DestinationOptions: map[string]any{
			"FileFormat":               "plain-text",
			"HiveCompatiblePartitions": false,
			"PerHourPartition":         false,
		},
	})
	if policy != nil {
		t.FlowLog.AddResourceDependency(policy, jsii.String("the log delivery service checks its write access when the flow log is created"))
	}

	t.QueryLogging = awsroute53resolver.NewCfnResolverQueryLoggingConfig(c, jsii.String("QueryLogging"), &awsroute53resolver.CfnResolverQueryLoggingConfigProps{
		Name:           name,
		DestinationArn: bucket.BucketArn(),
	})
	if policy != nil {
		t.QueryLogging.AddResourceDependency(policy, jsii.String("the log delivery service checks its write access when logging is configured"))
	}
	t.QueryLoggingAssociation = awsroute53resolver.NewCfnResolverQueryLoggingConfigAssociation(c, jsii.String("QueryLoggingAssociation"), &awsroute53resolver.CfnResolverQueryLoggingConfigAssociationProps{
		ResolverQueryLogConfigId: t.QueryLogging.AttrId(),
		ResourceId:               props.Vpc.VpcId(),
	})
	return t
}
