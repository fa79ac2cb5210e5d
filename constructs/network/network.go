// Package network provides the workshop network: a VPC with public and
// private subnets in two availability zones, an internet gateway, NAT
// gateways (their number fixed at synthesis or chosen at deployment), and one
// EC2 instance that serves as the thing to attack.
//
// The instance's security group opens SSH (TCP 22) to the whole internet on
// purpose: it is the attack surface of the exercise, kept from the seed. It
// has no key pair, so nobody can log in with SSH; administration goes through
// AWS Systems Manager.
package network

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
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
	DefaultNatGateways  = 1
	// AvailabilityZones is how many AZs the VPC spans.
	AvailabilityZones = 2
)

// WorkshopNetworkProps configures a WorkshopNetwork.
type WorkshopNetworkProps struct {
	// MachineImage is the instance's image. Required: the stack passes one
	// that reads a CloudFormation parameter (see ImageFromParameter).
	MachineImage awsec2.IMachineImage
	// NatGateways is the number of NAT gateways, 0 to AvailabilityZones,
	// or a token that resolves to one at deployment, such as a Number
	// template parameter's ValueAsNumber. With 0 the private subnets have no
	// route to the internet. Default DefaultNatGateways.
	NatGateways *float64
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
	natGateways := float64(DefaultNatGateways)
	if props.NatGateways != nil {
		natGateways = *props.NatGateways
	}
	chosenAtDeployment := *awscdk.Token_IsUnresolved(natGateways)
	if !chosenAtDeployment && (natGateways < 0 || natGateways > AvailabilityZones || natGateways != float64(int(natGateways))) {
		problems.Addf("NatGateways", "is %v; it must be 0 to %d, one at most for each availability zone", natGateways, AvailabilityZones)
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
	built := natGateways
	if chosenAtDeployment {
		// One gateway for each zone; conditions keep as many as the
		// deployment asks for (natGatewayConditions).
		built = AvailabilityZones
	} else if natGateways == 0 {
		privateType = awsec2.SubnetType_PRIVATE_ISOLATED
	}

	n.Vpc = awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(cidr)),
		MaxAzs:      jsii.Number(AvailabilityZones),
		NatGateways: jsii.Number(built),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("Private"), SubnetType: privateType, CidrMask: jsii.Number(24)},
		},
		// The restriction is a Lambda-backed custom resource: an asset the
		// console template cannot carry. See the weakness recorded below.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	awscdk.Tags_Of(n.Vpc).Add(jsii.String(TagKey), jsii.String(TagValue), nil)
	for _, subnet := range *n.Vpc.PublicSubnets() {
		weakness.Suppress(subnet, "the instance in a public subnet, with a public IP address and a route to the internet",
			"The instance to attack must be reachable from the internet and reach it, as an exposed workload does: the public subnets assign public IPv4 addresses and route 0.0.0.0/0 to the internet gateway.",
			true, weakness.Rule{ID: "NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled"}, weakness.Rule{ID: "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW"})
	}
	weakness.Suppress(n.Vpc.Node().DefaultChild().(awscdk.CfnResource), "the VPC's default security group left open",
		"The crypto mining simulation launches its instances without a security group, so into the default group, whose open outbound rule lets them reach the mining pools as a compromised workload would; closing it also takes a Lambda-backed custom resource, an asset the console template cannot carry.",
		false, weakness.Rule{ID: "NIST.800.53.R5-VPCDefaultSecurityGroupClosed"})
	if chosenAtDeployment {
		natGatewayConditions(c, n.Vpc, awscdk.Token_AsString(natGateways, nil))
	}

	n.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("InstanceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              n.Vpc,
		Description:      jsii.String("Workshop instance: SSH open to the internet on purpose, as attack surface"),
		AllowAllOutbound: jsii.Bool(true),
	})
	n.SecurityGroup.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(22)),
		jsii.String("Deliberate weakness: SSH from anywhere, the exercise's attack surface"), jsii.Bool(false))
	weakness.Suppress(n.SecurityGroup, "SSH open to the internet on the workshop instance",
		"Its security group admits TCP 22 from 0.0.0.0/0, the attack surface of the exercise; the instance has no key pair and is managed through Systems Manager.",
		false, weakness.Rule{ID: "AwsSolutions-EC23"}, weakness.Rule{ID: "NIST.800.53.R5-EC2RestrictedSSH"})
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
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	// IMDSv2 only. RequireImdsv2 would add a launch template named after
	// the construct path, which holds the stack name given at synthesis: a
	// second stack from the same template in a region would clash on it. The
	// Instance L2 takes no launch template of ours, so the CloudFormation
	// one is set on it; CloudFormation names the template.
	launchTemplate := awsec2.NewCfnLaunchTemplate(n.Instance, jsii.String("LaunchTemplate"), &awsec2.CfnLaunchTemplateProps{
		LaunchTemplateData: &awsec2.CfnLaunchTemplate_LaunchTemplateDataProperty{
			MetadataOptions: &awsec2.CfnLaunchTemplate_MetadataOptionsProperty{HttpTokens: jsii.String("required")},
		},
	})
	n.Instance.Node().DefaultChild().(awsec2.CfnInstance).SetLaunchTemplate(&awsec2.CfnInstance_LaunchTemplateSpecificationProperty{
		LaunchTemplateId: launchTemplate.Ref(),
		Version:          launchTemplate.AttrLatestVersionNumber(),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(n.Instance, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-EC28"), Reason: jsii.String("One training instance: basic five-minute monitoring is enough and detailed monitoring is billed.")},
		{Id: jsii.String("AwsSolutions-EC29"), Reason: jsii.String("The instance must go with the stack; scripts/isolate-instance.sh turns termination protection on when an incident needs it.")},
	}, jsii.Bool(false))
	return n
}

// natGatewayConditions makes the NAT gateways of vpc, one in each zone's
// public subnet, a choice of the deployment: zone i keeps its gateway and the
// gateway's Elastic IP when count is more than i. Each private subnet's
// default route goes to its own zone's gateway, or to the first zone's when
// its own is not there, and is not there at all when count is 0. The VPC L2
// takes only a fixed count, so the conditions are set on the resources it
// builds; it gives them no other dependants.
func natGatewayConditions(scope constructs.Construct, vpc awsec2.Vpc, count *string) {
	public, private := *vpc.PublicSubnets(), *vpc.PrivateSubnets()
	inZone := make([]awscdk.CfnCondition, len(public))
	gateways := make([]awsec2.CfnNatGateway, len(public))
	for i, subnet := range public {
		// count is more than i: one of the counts from i+1 on.
		var more []awscdk.ICfnConditionExpression
		for v := i + 1; v <= len(public); v++ {
			more = append(more, awscdk.Fn_ConditionEquals(count, jsii.String(fmt.Sprint(v))))
		}
		expression := more[0]
		if i == 0 {
			expression = awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(count, jsii.String("0")))
		} else if len(more) > 1 {
			expression = awscdk.Fn_ConditionOr(more...)
		}
		inZone[i] = awscdk.NewCfnCondition(scope, jsii.String(fmt.Sprintf("NatGatewayInZone%d", i+1)), &awscdk.CfnConditionProps{Expression: expression})
		gateways[i] = subnet.Node().FindChild(jsii.String("NATGateway")).(awsec2.CfnNatGateway)
		gateways[i].CfnOptions().SetCondition(inZone[i])
		subnet.Node().FindChild(jsii.String("EIP")).(awsec2.CfnEIP).CfnOptions().SetCondition(inZone[i])
	}
	for i, subnet := range private {
		route := subnet.Node().FindChild(jsii.String("DefaultRoute")).(awsec2.CfnRoute)
		route.CfnOptions().SetCondition(inZone[0])
		if i > 0 {
			route.SetNatGatewayId(awscdk.Token_AsString(awscdk.Fn_ConditionIf(inZone[i].LogicalId(), gateways[i].Ref(), gateways[0].Ref()), nil))
		}
	}
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
