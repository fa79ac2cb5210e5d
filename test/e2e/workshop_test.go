package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// TestWorkshopStackDeploysIntoEmulator deploys the template with every
// default, so with a BasePrincipal that does not exist: the roles trust the
// account and admit the base principal by a condition. (moto does not check
// that a trust policy's principal exists, as IAM does; the template tests
// pin that the Principal is the account.)
func TestWorkshopStackDeploysIntoEmulator(t *testing.T) {
	t.Parallel()
	s := moto.Start(t, moto.Options{})
	env := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-does-not-check-this-key")
	if _, err := s.AWS(t, env, "iam", "get-role", "--role-name", "WSParticipantRole"); err == nil || !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Fatalf("the default base principal role/WSParticipantRole should not exist in the emulator: %v", err)
	}
	params, ami := workshopParameters(t, s, env)
	outputs := moto.DeployTemplate(t, s, env, "WorkshopStack", workshopTemplate, params)
	ids := requireOutputs(t, outputs, "VpcId", "InstanceId", "LogBucketName")
	vpcID, instanceID, logBucket := ids[0], ids[1], ids[2]

	t.Run("VpcHasTheWorkshopCidrAndFourSubnetsInTwoZones", func(t *testing.T) {
		t.Parallel()
		var vpcs struct{ Vpcs []struct{ CidrBlock string } }
		s.MustAWSJSON(t, env, &vpcs, "ec2", "describe-vpcs", "--vpc-ids", vpcID)
		if len(vpcs.Vpcs) != 1 || vpcs.Vpcs[0].CidrBlock != "192.168.0.0/16" {
			t.Errorf("VPC %s: %+v, want one VPC with CIDR 192.168.0.0/16", vpcID, vpcs.Vpcs)
		}
		var subnets struct {
			Subnets []struct{ SubnetId, AvailabilityZone string }
		}
		s.MustAWSJSON(t, env, &subnets, "ec2", "describe-subnets", "--filters", "Name=vpc-id,Values="+vpcID)
		zones := map[string]bool{}
		for _, sn := range subnets.Subnets {
			zones[sn.AvailabilityZone] = true
		}
		if len(subnets.Subnets) != 4 || len(zones) != 2 {
			t.Errorf("VPC %s has %d subnets in %d zones, want 4 in 2", vpcID, len(subnets.Subnets), len(zones))
		}
	})

	t.Run("InstanceRunsTheImageInAPublicSubnetOfTheVpc", func(t *testing.T) {
		t.Parallel()
		var reservations struct {
			Reservations []struct {
				Instances []struct{ InstanceId, VpcId, SubnetId, ImageId string }
			}
		}
		s.MustAWSJSON(t, env, &reservations, "ec2", "describe-instances", "--instance-ids", instanceID)
		if len(reservations.Reservations) != 1 || len(reservations.Reservations[0].Instances) != 1 {
			t.Fatalf("instance %s: %+v, want one instance", instanceID, reservations.Reservations)
		}
		instance := reservations.Reservations[0].Instances[0]
		if instance.VpcId != vpcID {
			t.Errorf("instance %s is in VPC %s, want %s", instanceID, instance.VpcId, vpcID)
		}
		if instance.ImageId != ami {
			t.Errorf("instance %s runs %s, want %s from the %s parameter", instanceID, instance.ImageId, ami, instanceImageParameter)
		}
		public := publicSubnets(t, s, env, vpcID)
		if len(public) != 2 {
			t.Errorf("VPC %s has public subnets %v, want 2", vpcID, public)
		}
		if !slices.Contains(public, instance.SubnetId) {
			t.Errorf("instance %s is in subnet %s, want one of the public subnets %v", instanceID, instance.SubnetId, public)
		}
	})

	// moto's CloudFormation applies only BucketEncryption and Tags of an
	// AWS::S3::Bucket (not versioning, public access block or logging), so
	// encryption is what the emulator can show: the log and results buckets
	// under the workshop's key, the access log bucket on SSE-S3, which is
	// all S3 server access logging delivers to.
	t.Run("BucketsAreEncryptedWithTheRotatedKey", func(t *testing.T) {
		t.Parallel()
		names := requireOutputs(t, outputs, "KeyArn", "AthenaResultsBucketName", "AccessLogsBucketName")
		key, results, accessLogs := names[0], names[1], names[2]
		var rotation struct{ KeyRotationEnabled bool }
		s.MustAWSJSON(t, env, &rotation, "kms", "get-key-rotation-status", "--key-id", key)
		if !rotation.KeyRotationEnabled {
			t.Errorf("key %s is not rotated", key)
		}
		for bucket, want := range map[string]struct{ algorithm, key string }{
			logBucket:  {"aws:kms", key},
			results:    {"aws:kms", key},
			accessLogs: {"AES256", ""},
		} {
			var encryption struct {
				ServerSideEncryptionConfiguration struct {
					Rules []struct {
						ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm, KMSMasterKeyID string }
					}
				}
			}
			s.MustAWSJSON(t, env, &encryption, "s3api", "get-bucket-encryption", "--bucket", bucket)
			rules := encryption.ServerSideEncryptionConfiguration.Rules
			if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != want.algorithm ||
				rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID != want.key {
				t.Errorf("bucket %s encryption rules %+v, want %s with key %q", bucket, rules, want.algorithm, want.key)
			}
		}
	})

	// moto does not model the trail (moto.UnmodeledTypes); the log group it
	// delivers to, with its retention, it does. (moto ignores a log group's
	// KmsKeyId; the template tests pin it.)
	t.Run("TrailLogGroupKeepsNinetyDays", func(t *testing.T) {
		t.Parallel()
		name := requireOutputs(t, outputs, "TrailLogGroupName")[0]
		var groups struct {
			LogGroups []struct {
				LogGroupName    string
				RetentionInDays int
			}
		}
		s.MustAWSJSON(t, env, &groups, "logs", "describe-log-groups", "--log-group-name-prefix", name)
		if len(groups.LogGroups) != 1 || groups.LogGroups[0].LogGroupName != name || groups.LogGroups[0].RetentionInDays != 90 {
			t.Errorf("log groups %+v, want %s keeping 90 days", groups.LogGroups, name)
		}
	})

	t.Run("FlowLogSendsAllVpcTrafficToTheLogBucket", func(t *testing.T) {
		t.Parallel()
		if reason, skipped := moto.UnmodeledTypes["AWS::EC2::FlowLog"]; skipped {
			t.Skipf("moto does not create AWS::EC2::FlowLog: %s", reason)
		}
		var flowLogs struct {
			FlowLogs []struct {
				TrafficType, LogDestinationType, LogDestination string
				MaxAggregationInterval                          int
			}
		}
		s.MustAWSJSON(t, env, &flowLogs, "ec2", "describe-flow-logs", "--filter", "Name=resource-id,Values="+vpcID)
		if len(flowLogs.FlowLogs) != 1 {
			t.Fatalf("VPC %s has %d flow logs, want 1", vpcID, len(flowLogs.FlowLogs))
		}
		got := flowLogs.FlowLogs[0]
		if got.TrafficType != "ALL" || got.LogDestinationType != "s3" ||
			strings.TrimSuffix(got.LogDestination, "/") != "arn:aws:s3:::"+logBucket || got.MaxAggregationInterval != 60 {
			t.Errorf("flow log %+v, want traffic ALL to s3 bucket %s every 60 s", got, logBucket)
		}
	})
}

// publicSubnets returns the subnets of the VPC whose route table sends
// 0.0.0.0/0 to an internet gateway. moto keeps the subnet associations that
// its CloudFormation creates (AWS::EC2::SubnetRouteTableAssociation) out of
// DescribeRouteTables, so they are also taken from the WorkshopStack template
// and its stack resources; the routes are the emulator's.
func publicSubnets(t *testing.T, s *moto.Server, env []string, vpcID string) []string {
	t.Helper()
	var tables struct {
		RouteTables []struct {
			RouteTableId string
			Associations []struct{ SubnetId string }
			Routes       []struct{ DestinationCidrBlock, GatewayId string }
		}
	}
	s.MustAWSJSON(t, env, &tables, "ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+vpcID)
	subnetsOf := templateAssociations(t, s, env)
	var public []string
	for _, rt := range tables.RouteTables {
		toInternet := slices.ContainsFunc(rt.Routes, func(r struct{ DestinationCidrBlock, GatewayId string }) bool {
			return r.DestinationCidrBlock == "0.0.0.0/0" && strings.HasPrefix(r.GatewayId, "igw-")
		})
		if !toInternet {
			continue
		}
		for _, a := range rt.Associations {
			if a.SubnetId != "" {
				public = append(public, a.SubnetId)
			}
		}
		public = append(public, subnetsOf[rt.RouteTableId]...)
	}
	return public
}

// templateAssociations maps each route table of the deployed WorkshopStack to
// the subnets that the template associates with it, by physical ID.
func templateAssociations(t *testing.T, s *moto.Server, env []string) map[string][]string {
	t.Helper()
	template, err := moto.ReadTemplate(workshopTemplate)
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		StackResourceSummaries []struct{ LogicalResourceId, PhysicalResourceId string }
	}
	s.MustAWSJSON(t, env, &listed, "cloudformation", "list-stack-resources", "--stack-name", "WorkshopStack")
	physical := map[string]string{}
	for _, r := range listed.StackResourceSummaries {
		physical[r.LogicalResourceId] = r.PhysicalResourceId
	}
	ref := func(v any) string {
		m, _ := v.(map[string]any)
		id, _ := m["Ref"].(string)
		return physical[id]
	}
	associations := map[string][]string{}
	resources, _ := template["Resources"].(map[string]any)
	for _, res := range resources {
		res, _ := res.(map[string]any)
		if res["Type"] != "AWS::EC2::SubnetRouteTableAssociation" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		if rt, subnet := ref(props["RouteTableId"]), ref(props["SubnetId"]); rt != "" && subnet != "" {
			associations[rt] = append(associations[rt], subnet)
		}
	}
	return associations
}
