// Package telemetry provides network telemetry for a VPC: VPC Flow Logs of
// all traffic in the full custom format with 60 second aggregation, and
// Route 53 Resolver query logging associated with the VPC, both delivered to
// the log archive under AWSLogs/.
package telemetry

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53resolver"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// NetworkTelemetryProps configures a NetworkTelemetry.
type NetworkTelemetryProps struct {
	// Vpc whose traffic and DNS queries are logged. Required.
	Vpc awsec2.IVpc
	// Archive receives the logs. Required.
	Archive *logarchive.LogArchive
}

// NetworkTelemetry is a VPC's flow log and DNS query logging.
type NetworkTelemetry struct {
	constructs.Construct
	// FlowLog is the VPC's flow log. The L2 FlowLog is not used: it adds
	// bucket statements of its own (the archive owns the delivery policy)
	// and writes DestinationOptions with keys the resource schema rejects.
	FlowLog awsec2.CfnFlowLog
	// QueryLogging is the Route 53 Resolver query logging configuration; no
	// L2 construct exists for it.
	QueryLogging awsroute53resolver.CfnResolverQueryLoggingConfig
	// QueryLoggingAssociation ties QueryLogging to the VPC.
	QueryLoggingAssociation awsroute53resolver.CfnResolverQueryLoggingConfigAssociation
}

// NewNetworkTelemetry creates the flow log and the query logging.
func NewNetworkTelemetry(scope constructs.Construct, id string, props *NetworkTelemetryProps) *NetworkTelemetry {
	if props == nil || props.Vpc == nil || props.Archive == nil {
		panic(fmt.Sprintf("telemetry %s: Vpc and Archive are required", id))
	}
	c := constructs.NewConstruct(scope, &id)
	t := &NetworkTelemetry{Construct: c}
	bucket := props.Archive.Bucket
	props.Archive.AllowDelivery(logarchive.LogDeliveryPrincipal,
		*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"), nil))
	policy := bucket.Policy().Node().DefaultChild().(awscdk.CfnResource)

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
	t.FlowLog.AddResourceDependency(policy, jsii.String("the log delivery service checks its write access when the flow log is created"))

	t.QueryLogging = awsroute53resolver.NewCfnResolverQueryLoggingConfig(c, jsii.String("QueryLogging"), &awsroute53resolver.CfnResolverQueryLoggingConfigProps{
		Name:           awscdk.Fn_Sub(jsii.String("${AWS::StackName}-vpc-dns"), nil),
		DestinationArn: bucket.BucketArn(),
	})
	t.QueryLogging.AddResourceDependency(policy, jsii.String("the log delivery service checks its write access when logging is configured"))
	t.QueryLoggingAssociation = awsroute53resolver.NewCfnResolverQueryLoggingConfigAssociation(c, jsii.String("QueryLoggingAssociation"), &awsroute53resolver.CfnResolverQueryLoggingConfigAssociationProps{
		ResolverQueryLogConfigId: t.QueryLogging.AttrId(),
		ResourceId:               props.Vpc.VpcId(),
	})
	return t
}
