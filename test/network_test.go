package test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/network"
)

func TestWorkshopNetworkHasTwoZonesPublicPrivateAndOneNat(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	vpcID, vpc := only(t, tmpl, "AWS::EC2::VPC")
	if props(vpc)["CidrBlock"] != "192.168.0.0/16" {
		t.Errorf("VPC CIDR %v", props(vpc)["CidrBlock"])
	}
	subnets := resources(tmpl, "AWS::EC2::Subnet")
	public, zones := 0, map[string]bool{}
	for id, s := range subnets {
		if !equalJSON(props(s)["VpcId"], ref(vpcID)) {
			t.Errorf("subnet %s is not in the workshop VPC", id)
		}
		if props(s)["MapPublicIpOnLaunch"] == true {
			public++
		}
		zones[compact(props(s)["AvailabilityZone"])] = true
	}
	if len(subnets) != 4 || public != 2 || len(zones) != 2 {
		t.Errorf("want 2 public and 2 private subnets in 2 zones; got %d subnets, %d public, %d zones", len(subnets), public, len(zones))
	}
	only(t, tmpl, "AWS::EC2::InternetGateway")
	only(t, tmpl, "AWS::EC2::NatGateway") // default natGateways=1, as the seed
}

func TestWorkshopInstanceIsManagedHardenedAndDeliberatelyExposed(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	_, inst := only(t, tmpl, "AWS::EC2::Instance")
	p := props(inst)
	if p["InstanceType"] != "t3.micro" {
		t.Errorf("instance type %v", p["InstanceType"])
	}
	if !equalJSON(p["ImageId"], ref("InstanceImage")) {
		t.Errorf("image %s does not come from the InstanceImage parameter", compact(p["ImageId"]))
	}
	subnet := at(t, p, "SubnetId", "Ref").(string)
	if props(resources(tmpl, "AWS::EC2::Subnet")[subnet])["MapPublicIpOnLaunch"] != true {
		t.Errorf("instance is in %s, not a public subnet", subnet)
	}
	dev := at(t, p, "BlockDeviceMappings", 0).(map[string]any)
	if at(t, dev, "Ebs", "Encrypted") != true || dev["DeviceName"] != "/dev/xvda" {
		t.Errorf("root volume is not encrypted: %s", compact(dev))
	}
	_, lt := only(t, tmpl, "AWS::EC2::LaunchTemplate")
	if at(t, props(lt), "LaunchTemplateData", "MetadataOptions", "HttpTokens") != "required" {
		t.Error("IMDSv2 is not required")
	}
	if _, ok := p["KeyName"]; ok {
		t.Error("instance has a key pair; administration goes through Systems Manager")
	}
	// The role behind the instance profile is the SSM-managed one.
	profile := at(t, p, "IamInstanceProfile", "Ref").(string)
	roleID := at(t, props(resources(tmpl, "AWS::IAM::InstanceProfile")[profile]), "Roles", 0, "Ref").(string)
	role := resources(tmpl, "AWS::IAM::Role")[roleID]
	if !mentions(props(role)["ManagedPolicyArns"], ":iam::aws:policy/AmazonSSMManagedInstanceCore") {
		t.Errorf("instance role %s lacks AmazonSSMManagedInstanceCore", roleID)
	}
	if !mentions(props(role)["AssumeRolePolicyDocument"], "ec2.amazonaws.com") {
		t.Errorf("instance role %s is not for EC2", roleID)
	}

	sgID := at(t, p, "SecurityGroupIds", 0, "Fn::GetAtt", 0).(string)
	ingress := at(t, props(resources(tmpl, "AWS::EC2::SecurityGroup")[sgID]), "SecurityGroupIngress").([]any)
	if len(ingress) != 1 {
		t.Fatalf("want exactly the deliberate SSH rule, got %s", compact(ingress))
	}
	rule := ingress[0].(map[string]any)
	if rule["CidrIp"] != "0.0.0.0/0" || rule["FromPort"] != float64(22) || rule["ToPort"] != float64(22) || rule["IpProtocol"] != "tcp" {
		t.Errorf("ingress rule %s is not SSH from anywhere", compact(rule))
	}
	if !mentions(rule["Description"], "Deliberate") {
		t.Errorf("the open SSH rule does not say it is deliberate: %v", rule["Description"])
	}
}

func TestWorkshopNetworkWithoutNatIsolatesPrivateSubnets(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("NoNat"), nil)
	image := awscdk.NewCfnParameter(stack, jsii.String("Image"), &awscdk.CfnParameterProps{Type: jsii.String("AWS::EC2::Image::Id")})
	network.NewWorkshopNetwork(stack, "Network", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(image.ValueAsString()),
		NatGateways:  0,
	})
	raw, _ := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	if n := len(resources(tmpl, "AWS::EC2::NatGateway")); n != 0 {
		t.Errorf("natGateways=0 still creates %d NAT gateways", n)
	}
	for id, r := range resources(tmpl, "AWS::EC2::Route") {
		if _, ok := props(r)["NatGatewayId"]; ok {
			t.Errorf("route %s points at a NAT gateway", id)
		}
	}
	if n := len(resources(tmpl, "AWS::EC2::Subnet")); n != 4 {
		t.Errorf("want 4 subnets, got %d", n)
	}
}

// TestWorkshopVPCIsTaggedForScripts pins the tag the crypto mining
// simulation finds the workshop VPC and its subnets by.
func TestWorkshopVPCIsTaggedForScripts(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	want := map[string]any{"Key": network.TagKey, "Value": network.TagValue}
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet"} {
		for id, r := range resources(tmpl, typ) {
			found := false
			for _, tag := range at(t, props(r), "Tags").([]any) {
				found = found || equalJSON(tag, want)
			}
			if !found {
				t.Errorf("%s %s lacks tag %s=%s", typ, id, network.TagKey, network.TagValue)
			}
		}
	}
}
