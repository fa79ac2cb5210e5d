package network_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/constructs/network"
	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// newNetwork adds a network whose image comes from a template parameter, as
// the workshop's does.
func newNetwork(stack awscdk.Stack, natGateways *float64) *network.WorkshopNetwork {
	image := awscdk.NewCfnParameter(stack, jsii.String("Image"), &awscdk.CfnParameterProps{Type: jsii.String("AWS::EC2::Image::Id")})
	return network.NewWorkshopNetwork(stack, "Network", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(image.ValueAsString()),
		NatGateways:  natGateways,
	})
}

// The fixture's NAT gateway count is the template parameter NatGateways, as
// in the workshop.
var fixture = cdktest.Fixture[*network.WorkshopNetwork]{Build: func(stack awscdk.Stack) *network.WorkshopNetwork {
	count := awscdk.NewCfnParameter(stack, jsii.String("NatGateways"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), Default: jsii.Number(1), AllowedValues: jsii.Strings("0", "1", "2"),
	})
	return newNetwork(stack, count.ValueAsNumber())
}}

func TestNetworkHasTwoZonesPublicAndPrivate(t *testing.T) {
	_, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "VPC and gateways", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), assertions.Match_ObjectLike(&map[string]any{"CidrBlock": network.DefaultCidr}))
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(4))
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::Subnet"), assertions.Match_ObjectLike(&map[string]any{"MapPublicIpOnLaunch": true}), jsii.Number(2))
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::InternetGateway"), jsii.Number(1))
	})
	zones := map[string]bool{}
	for _, s := range *tmpl.FindResources(jsii.String("AWS::EC2::Subnet"), nil) {
		raw, _ := json.Marshal((*s)["Properties"].(map[string]any)["AvailabilityZone"])
		zones[string(raw)] = true
	}
	if len(zones) != network.AvailabilityZones {
		t.Errorf("subnets span %d zones, want %d", len(zones), network.AvailabilityZones)
	}
}

func TestInstanceIsManagedHardenedAndDeliberatelyExposed(t *testing.T) {
	n, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "instance", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::Instance"), assertions.Match_ObjectLike(&map[string]any{
			"InstanceType":       network.DefaultInstanceType,
			"ImageId":            map[string]any{"Ref": "Image"},
			"SubnetId":           cdktest.Ref((*n.Vpc.PublicSubnets())[0]),
			"IamInstanceProfile": map[string]any{"Ref": assertions.Match_AnyValue()},
			// No key pair: administration goes through Systems Manager.
			"KeyName": assertions.Match_Absent(),
			"BlockDeviceMappings": []any{map[string]any{
				"DeviceName": "/dev/xvda",
				"Ebs":        map[string]any{"Encrypted": true, "VolumeSize": 8, "VolumeType": "gp3"},
			}},
		}))
		// CloudFormation names the launch template: a name fixed at
		// synthesis would clash between two stacks of the template.
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
			"LaunchTemplateData": map[string]any{"MetadataOptions": map[string]any{"HttpTokens": "required"}},
		})
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::LaunchTemplate"), jsii.Number(1))
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::Instance"), assertions.Match_ObjectLike(&map[string]any{
			"LaunchTemplate": map[string]any{
				"LaunchTemplateId": cdktest.Ref(n.Instance.Node().FindChild(jsii.String("LaunchTemplate"))),
				"Version":          cdktest.GetAtt(n.Instance.Node().FindChild(jsii.String("LaunchTemplate")), "LatestVersionNumber"),
			},
		}))
	})
	cdktest.Assert(t, "instance role", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::InstanceProfile"), map[string]any{"Roles": []any{cdktest.Ref(n.InstanceRole)}})
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{
			"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
				"Principal": map[string]any{"Service": "ec2.amazonaws.com"},
			})}}),
			"ManagedPolicyArns": []any{map[string]any{"Fn::Join": []any{"", []any{
				"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore",
			}}}},
		}))
	})
	cdktest.Assert(t, "the one deliberate ingress rule", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroup"), assertions.Match_ObjectLike(&map[string]any{
			"VpcId": cdktest.Ref(n.Vpc),
			"SecurityGroupIngress": []any{map[string]any{
				"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
				"Description": assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness")),
			}},
		}))
	})
}

// TestDeliberateWeaknessesAreRecordedOnWhatHasThem pins where the network
// records its three deliberate weaknesses: the open SSH rule on the
// instance's security group, public addresses and the route to the internet
// gateway on each public subnet (its children: the subnet and its route),
// the open default security group on the VPC; none on a private subnet.
func TestDeliberateWeaknessesAreRecordedOnWhatHasThem(t *testing.T) {
	n, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	if got, want := weakness.Names(template), []string{
		"SSH open to the internet on the workshop instance",
		"the VPC's default security group left open",
		"the instance in a public subnet, with a public IP address and a route to the internet",
	}; !slices.Equal(got, want) {
		t.Errorf("weaknesses %q, want %q", got, want)
	}
	suppressed := func(c constructs.IConstruct) []string {
		res := template["Resources"].(map[string]any)[cdktest.LogicalID(c)].(map[string]any)
		var ids []string
		metadata, _ := res["Metadata"].(map[string]any)
		nag, _ := metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, r := range rules {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		return ids
	}
	for _, c := range []struct {
		what  string
		of    constructs.IConstruct
		rules []string
	}{
		{"security group", n.SecurityGroup, []string{"AwsSolutions-EC23", "NIST.800.53.R5-EC2RestrictedSSH"}},
		{"VPC", n.Vpc, []string{"NIST.800.53.R5-VPCDefaultSecurityGroupClosed"}},
		{"public subnet", (*n.Vpc.PublicSubnets())[1], []string{"NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW"}},
		{"public subnet's default route", (*n.Vpc.PublicSubnets())[0].Node().FindChild(jsii.String("DefaultRoute")), []string{"NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW"}},
		{"private subnet", (*n.Vpc.PrivateSubnets())[0], nil},
	} {
		if got := suppressed(c.of); !slices.Equal(got, c.rules) {
			t.Errorf("%s suppresses %v, want %v", c.what, got, c.rules)
		}
	}
}

// TestVPCIsTaggedForScripts pins the tag the crypto mining simulation finds
// the workshop VPC and its subnets by.
func TestVPCIsTaggedForScripts(t *testing.T) {
	_, _, tmpl := fixture.Get(t)
	tagged := assertions.Match_ObjectLike(&map[string]any{
		"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": network.TagKey, "Value": network.TagValue}}),
	})
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet"} {
		cdktest.Assert(t, typ, func() { tmpl.AllResourcesProperties(jsii.String(typ), tagged) })
	}
}

// TestNatGatewaysFollowTheParameter resolves the template's conditions for
// each value of the parameter and counts what a deployment would create:
// the gateways, their Elastic IPs, and the private default routes with the
// gateway each goes to.
func TestNatGatewaysFollowTheParameter(t *testing.T) {
	n, _, tmpl := fixture.Get(t)
	template := cdktest.TemplateJSON(tmpl)
	resources := template["Resources"].(map[string]any)
	gateway := func(zone int) string {
		return strings.ToLower(cdktest.LogicalID((*n.Vpc.PublicSubnets())[zone].Node().FindChild(jsii.String("NATGateway"))))
	}
	for _, c := range []struct {
		count string
		// routes holds the gateway each private subnet's default route
		// goes to, by zone; none without gateways.
		routes []string
	}{
		{"0", nil},
		{"1", []string{gateway(0), gateway(0)}},
		{"2", []string{gateway(0), gateway(1)}},
	} {
		r, err := iamsim.NewResolver(template, iamsim.Deployment{Parameters: map[string]string{"NatGateways": c.count, "Image": "ami-0123456789abcdef0"}})
		if err != nil {
			t.Fatal(err)
		}
		created := map[string]int{}
		var routes []string
		for _, id := range slices.Sorted(maps.Keys(resources)) {
			res := resources[id].(map[string]any)
			if cond, ok := res["Condition"].(string); ok {
				if yes, err := r.Condition(cond); err != nil || !yes {
					continue
				}
			}
			created[res["Type"].(string)]++
			props, err := r.Resolve(res["Properties"])
			if err != nil {
				t.Fatal(err)
			}
			if target, ok := props.(map[string]any)["NatGatewayId"]; ok && res["Type"] == "AWS::EC2::Route" {
				routes = append(routes, target.(string))
			}
		}
		want := len(c.routes) > 0
		gateways := map[bool]int{false: 0, true: 1}[want]
		if c.count == "2" {
			gateways = 2
		}
		if created["AWS::EC2::NatGateway"] != gateways || created["AWS::EC2::EIP"] != gateways {
			t.Errorf("NatGateways=%s: %d NAT gateways and %d Elastic IPs, want %d of each", c.count, created["AWS::EC2::NatGateway"], created["AWS::EC2::EIP"], gateways)
		}
		if !slices.Equal(routes, c.routes) {
			t.Errorf("NatGateways=%s: private default routes go to %v, want %v", c.count, routes, c.routes)
		}
		if created["AWS::EC2::Subnet"] != 4 || created["AWS::EC2::Instance"] != 1 {
			t.Errorf("NatGateways=%s: %d subnets and %d instances, want 4 and 1", c.count, created["AWS::EC2::Subnet"], created["AWS::EC2::Instance"])
		}
	}
}

func TestWithoutNatThePrivateSubnetsAreIsolated(t *testing.T) {
	stack := cdktest.NewStack("NoNat")
	newNetwork(stack, jsii.Number(0))
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Assert(t, "no NAT", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(0))
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::Route"),
			assertions.Match_ObjectLike(&map[string]any{"NatGatewayId": assertions.Match_AnyValue()}), jsii.Number(0))
		tmpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(4))
	})
}

func TestMissingOrBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	network.NewWorkshopNetwork(stack, "Nil", nil)
	network.NewWorkshopNetwork(stack, "TooManyNats", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(jsii.String("ami-0123456789abcdef0")), NatGateways: jsii.Number(3),
	})
	network.NewWorkshopNetwork(stack, "HalfANat", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(jsii.String("ami-0123456789abcdef0")), NatGateways: jsii.Number(0.5),
	})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/Nil] WorkshopNetworkProps.MachineImage is required",
		"[Bad/TooManyNats] WorkshopNetworkProps.NatGateways is 3; it must be 0 to 2",
		"[Bad/HalfANat] WorkshopNetworkProps.NatGateways is 0.5; it must be 0 to 2",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}

// ExampleNewWorkshopNetwork builds the network to attack without NAT
// gateways, with a fixed image.
func ExampleNewWorkshopNetwork() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Range"), nil)
	network.NewWorkshopNetwork(stack, "Network", &network.WorkshopNetworkProps{
		MachineImage: network.ImageFromParameter(jsii.String("ami-0123456789abcdef0")),
		NatGateways:  jsii.Number(0),
	})

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway", "AWS::EC2::Instance"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::EC2::VPC 1
	// AWS::EC2::Subnet 4
	// AWS::EC2::NatGateway 0
	// AWS::EC2::Instance 1
}
