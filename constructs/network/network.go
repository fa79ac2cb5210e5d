// Package network provides the workshop network: a VPC with public and
// private subnets in two availability zones, an internet gateway, NAT
// gateways, and one EC2 instance that serves as the thing to attack.
//
// The instance's security group opens SSH (TCP 22) to the whole internet on
// purpose: it is the attack surface of the exercise, kept from the seed. It
// has no key pair, so nobody can log in with SSH; administration goes through
// AWS Systems Manager.
package network

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
)

// TagKey and TagValue mark the workshop VPC and its subnets, route tables
// and gateways, so scripts can find them with nothing but EC2 permissions.
const (
	TagKey   = "ir-workshop:network"
	TagValue = "workshop"
)

// Defaults of WorkshopNetworkProps.
const (
	DefaultCidr         = "192.168.0.0/16"
	DefaultInstanceType = "t3.micro"
	// AvailabilityZones is how many AZs the VPC spans.
	AvailabilityZones = 2
)

// WorkshopNetworkProps configures a WorkshopNetwork.
type WorkshopNetworkProps struct {
	// MachineImage is the instance's image. Required: the stack passes one
	// that reads a CloudFormation parameter (see ImageFromParameter).
	MachineImage awsec2.IMachineImage
	// NatGateways is the number of NAT gateways, 0 to AvailabilityZones. With
	// 0 the private subnets are isolated (no route to the internet).
	NatGateways int
	// InstanceType of the instance. Default DefaultInstanceType.
	InstanceType string
	// Cidr of the VPC. Default DefaultCidr.
	Cidr string
}

// WorkshopNetwork is the VPC and its instance.
type WorkshopNetwork struct {
	constructs.Construct
	Vpc           awsec2.Vpc
	Instance      awsec2.Instance
	SecurityGroup awsec2.SecurityGroup
	InstanceRole  awsiam.Role
}

// NewWorkshopNetwork creates the VPC and the instance. A missing
// MachineImage or a NatGateways count out of range stops synthesis with a
// message that names it.
func NewWorkshopNetwork(scope constructs.Construct, id string, props *WorkshopNetworkProps) *WorkshopNetwork {
	if props == nil {
		props = &WorkshopNetworkProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	n := &WorkshopNetwork{Construct: c}
	problems := validate.Problems{Props: "WorkshopNetworkProps"}
	problems.Require(props.MachineImage == nil, "MachineImage", "the instance's image, for example ImageFromParameter of a template parameter")
	if props.NatGateways < 0 || props.NatGateways > AvailabilityZones {
		problems.Addf("NatGateways", "is %d; it must be 0 to %d, one at most for each availability zone", props.NatGateways, AvailabilityZones)
	}
	if problems.Stop(c) {
		return n
	}
	cidr := props.Cidr
	if cidr == "" {
		cidr = DefaultCidr
	}
	instanceType := props.InstanceType
	if instanceType == "" {
		instanceType = DefaultInstanceType
	}
	privateType := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	if props.NatGateways == 0 {
		privateType = awsec2.SubnetType_PRIVATE_ISOLATED
	}

	n.Vpc = awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(cidr)),
		MaxAzs:      jsii.Number(AvailabilityZones),
		NatGateways: jsii.Number(props.NatGateways),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("Private"), SubnetType: privateType, CidrMask: jsii.Number(24)},
		},
		// The restriction is a Lambda-backed custom resource: an asset the
		// console template cannot carry. Nothing uses the default group.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	awscdk.Tags_Of(n.Vpc).Add(jsii.String(TagKey), jsii.String(TagValue), nil)

	n.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              n.Vpc,
		Description:      jsii.String("Workshop instance: SSH open to the internet on purpose, as attack surface"),
		AllowAllOutbound: jsii.Bool(true),
	})
	n.SecurityGroup.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(22)),
		jsii.String("Deliberate weakness: SSH from anywhere, the exercise's attack surface"), jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(n.SecurityGroup, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-EC23"),
		Reason: jsii.String("Deliberate weakness: SSH from 0.0.0.0/0 is the attack surface the workshop exposes; the instance has no key pair and is managed through Systems Manager."),
	}}, jsii.Bool(false))
	awscdk.Validations_Of(n.SecurityGroup).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String("CloudFormation-Validate::W2508"),
		Reason: jsii.String("Deliberate weakness: SSH from anywhere is the workshop's attack surface."),
	})

	n.InstanceRole = awsiam.NewRole(c, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description:     jsii.String("Workshop instance: managed by AWS Systems Manager"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore"))},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(n.InstanceRole, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM4"),
		Reason:    jsii.String("AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Systems Manager to manage an instance; a copy would go stale."),
		AppliesTo: &[]interface{}{"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"},
	}}, jsii.Bool(false))

	n.Instance = awsec2.NewInstance(c, jsii.String("Instance"), &awsec2.InstanceProps{
		Vpc:           n.Vpc,
		VpcSubnets:    &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		InstanceType:  awsec2.NewInstanceType(jsii.String(instanceType)),
		MachineImage:  props.MachineImage,
		SecurityGroup: n.SecurityGroup,
		Role:          n.InstanceRole,
		RequireImdsv2: jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(n.Instance, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-EC28"), Reason: jsii.String("One training instance: basic five-minute monitoring is enough and detailed monitoring is billed.")},
		{Id: jsii.String("AwsSolutions-EC29"), Reason: jsii.String("The instance must go with the stack; scripts/isolate-instance.sh turns termination protection on when an incident needs it.")},
	}, jsii.Bool(false))
	return n
}

// ImageFromParameter returns a machine image whose ID is imageID, typically
// the value of an AWS::SSM::Parameter::Value<AWS::EC2::Image::Id> template
// parameter. Unlike MachineImage.fromSsmParameter it adds no parameter of its
// own with a generated name.
func ImageFromParameter(imageID *string) awsec2.IMachineImage {
	return &parameterImage{imageID: imageID}
}

type parameterImage struct {
	imageID *string
}

// GetImage implements awsec2.IMachineImage.
func (p *parameterImage) GetImage(_ constructs.Construct) *awsec2.MachineImageConfig {
	return &awsec2.MachineImageConfig{
		ImageId:  p.imageID,
		OsType:   awsec2.OperatingSystemType_LINUX,
		UserData: awsec2.UserData_ForLinux(nil),
	}
}
