package e2e

import (
	"maps"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// TestNatGatewaysParameterUnderAnyStackName deploys the committed template
// with NatGateways=0 and NatGateways=2, each under a stack name a console
// user might type, and counts what the VPC got: NAT gateways, Elastic IPs
// and default routes of the private subnets to a NAT gateway. It also checks
// that no physical name of the stack holds the name the template was
// synthesized under.
func TestNatGatewaysParameterUnderAnyStackName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		stack, count string
		want         int
	}{
		{"ir-training-no-nat", "0", 0},
		{"IrTraining2", "2", 2},
	} {
		t.Run("NatGateways="+c.count, func(t *testing.T) {
			t.Parallel()
			s := moto.Start(t, moto.Options{})
			env := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-does-not-check-this-key")
			params, _ := workshopParameters(t, s, env)
			params = maps.Clone(params)
			if params == nil {
				params = map[string]string{}
			}
			params["NatGateways"] = c.count
			outputs := moto.DeployTemplate(t, s, env, c.stack, workshopTemplate, params)
			vpcID := requireOutputs(t, outputs, "VpcId")[0]
			vpcFilter := "Name=vpc-id,Values=" + vpcID

			var gateways struct {
				NatGateways []struct {
					NatGatewayId, SubnetId string
					NatGatewayAddresses    []struct{ AllocationId string }
				}
			}
			s.MustAWSJSON(t, env, &gateways, "ec2", "describe-nat-gateways", "--filter", vpcFilter)
			var addresses struct {
				Addresses []struct{ AllocationId string }
			}
			s.MustAWSJSON(t, env, &addresses, "ec2", "describe-addresses")
			var tables struct {
				RouteTables []struct {
					Routes []struct{ DestinationCidrBlock, NatGatewayId string }
				}
			}
			s.MustAWSJSON(t, env, &tables, "ec2", "describe-route-tables", "--filters", vpcFilter)
			natRoutes := map[string]int{} // NAT gateway: default routes to it
			for _, rt := range tables.RouteTables {
				for _, r := range rt.Routes {
					if r.DestinationCidrBlock == "0.0.0.0/0" && r.NatGatewayId != "" {
						natRoutes[r.NatGatewayId]++
					}
				}
			}
			subnets := map[string]bool{}
			for _, g := range gateways.NatGateways {
				subnets[g.SubnetId] = true
				if natRoutes[g.NatGatewayId] != 1 {
					t.Errorf("NAT gateway %s takes %d private default routes, want 1: each zone's private subnet goes to its own zone's gateway", g.NatGatewayId, natRoutes[g.NatGatewayId])
				}
			}
			routes := 0
			for _, n := range natRoutes {
				routes += n
			}
			if len(gateways.NatGateways) != c.want || len(subnets) != c.want || len(addresses.Addresses) != c.want || routes != c.want {
				t.Errorf("NatGateways=%s: %d NAT gateways in %d subnets, %d Elastic IPs, %d private default routes; want %d of each",
					c.count, len(gateways.NatGateways), len(subnets), len(addresses.Addresses), routes, c.want)
			}

			var listed struct {
				StackResourceSummaries []struct{ LogicalResourceId, PhysicalResourceId string }
			}
			s.MustAWSJSON(t, env, &listed, "cloudformation", "list-stack-resources", "--stack-name", c.stack)
			for _, r := range listed.StackResourceSummaries {
				if strings.Contains(r.PhysicalResourceId, "WorkshopStack") {
					t.Errorf("stack %s: %s is named %s, after the stack name of the synthesis", c.stack, r.LogicalResourceId, r.PhysicalResourceId)
				}
			}
		})
	}
}
