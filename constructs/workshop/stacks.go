package workshop

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/simprincipal"
)

// WorkshopStackProps configures WorkshopStack.
type WorkshopStackProps struct {
	awscdk.StackProps
	// NatGateways is the number of NAT gateways in the workshop VPC.
	NatGateways int
}

// WorkshopStack is the environment responders train in.
type WorkshopStack struct {
	awscdk.Stack
	LogArchive *logarchive.LogArchive
}

// NewWorkshopStack composes the workshop's constructs and declares the
// stack's parameters and outputs.
func NewWorkshopStack(scope constructs.Construct, id string, props *WorkshopStackProps) *WorkshopStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &WorkshopStack{Stack: stack}

	s.LogArchive = logarchive.NewLogArchive(stack, "LogArchive", nil)

	output(stack, "LogBucketName", s.LogArchive.Bucket.BucketName(), "S3 bucket that CloudTrail, VPC Flow Logs and Route 53 Resolver query logs deliver to, under AWSLogs/.")
	output(stack, "AccessLogsBucketName", s.LogArchive.AccessLogsBucket.BucketName(), "S3 bucket that receives the server access logs of the workshop's buckets.")
	return s
}

// SimulationStackProps configures SimulationStack.
type SimulationStackProps struct {
	awscdk.StackProps
}

// SimulationStack holds the principals the threat simulations act as.
type SimulationStack struct {
	awscdk.Stack
	// CredentialExposure is the user whose "leaked" key the credential
	// exposure simulation uses.
	CredentialExposure *simprincipal.SimulationPrincipal
	// CryptoMining is the "pipeline" user the crypto mining simulation uses.
	CryptoMining *simprincipal.SimulationPrincipal
}

// Names of the simulation users; scripts and playbooks refer to them.
const (
	CredentialExposureUser = "integration"
	CryptoMiningUser       = "pipeline"
)

// NewSimulationStack creates the two simulation principals and outputs the
// names of the secrets that hold their keys (never the keys themselves).
func NewSimulationStack(scope constructs.Construct, id string, props *SimulationStackProps) *SimulationStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &SimulationStack{Stack: stack}
	s.CredentialExposure = simprincipal.NewSimulationPrincipal(stack, "CredentialExposure", &simprincipal.SimulationPrincipalProps{
		UserName: CredentialExposureUser,
		Actions:  []string{"iam:*"},
		Purpose:  "Access key of the IAM user that the credential exposure simulation treats as leaked.",
	})
	s.CryptoMining = simprincipal.NewSimulationPrincipal(stack, "CryptoMining", &simprincipal.SimulationPrincipalProps{
		UserName: CryptoMiningUser,
		Actions:  []string{"ec2:*"},
		Purpose:  "Access key of the IAM user that the EC2 crypto mining simulation launches instances with.",
	})
	output(stack, "CredentialExposureSecretName", jsii.String(s.CredentialExposure.SecretName), "Secrets Manager secret with the access key of the credential exposure simulation user (read it with scripts/configure-simulation-profiles.sh).")
	output(stack, "CryptoMiningSecretName", jsii.String(s.CryptoMining.SecretName), "Secrets Manager secret with the access key of the crypto mining simulation user (read it with scripts/configure-simulation-profiles.sh).")
	return s
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
