package test

import (
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestFlowLogRecordsAllTrafficInTheFullFormatEveryMinute(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	logBucket, _ := archiveIDs(t, tmpl)
	vpcID, _ := only(t, tmpl, "AWS::EC2::VPC")
	_, fl := only(t, tmpl, "AWS::EC2::FlowLog")
	p := props(fl)
	want := map[string]any{
		"ResourceType":           "VPC",
		"ResourceId":             ref(vpcID),
		"TrafficType":            "ALL",
		"LogDestinationType":     "s3",
		"LogDestination":         getAtt(logBucket, "Arn"),
		"MaxAggregationInterval": 60,
		"DestinationOptions":     map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false},
	}
	for k, v := range want {
		if !equalJSON(p[k], v) {
			t.Errorf("%s = %s, want %s", k, compact(p[k]), compact(v))
		}
	}
	// The format names every field, in the documented order the table reads.
	format := strings.Fields(p["LogFormat"].(string))
	spec := strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path")
	if len(format) != len(spec) {
		t.Fatalf("format has %d fields, want %d: %v", len(format), len(spec), format)
	}
	for i, f := range spec {
		if format[i] != "${"+f+"}" {
			t.Errorf("format field %d is %s, want ${%s}", i, format[i], f)
		}
	}
	if got := p["LogFormat"]; got != logschema.VPCFlowFormat() {
		t.Errorf("flow log format and table schema disagree")
	}
}

func TestDNSQueryLoggingGoesToTheArchiveForTheWorkshopVPC(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	logBucket, _ := archiveIDs(t, tmpl)
	vpcID, _ := only(t, tmpl, "AWS::EC2::VPC")
	cfgID, cfg := only(t, tmpl, "AWS::Route53Resolver::ResolverQueryLoggingConfig")
	if !equalJSON(props(cfg)["DestinationArn"], getAtt(logBucket, "Arn")) {
		t.Errorf("query logs go to %s", compact(props(cfg)["DestinationArn"]))
	}
	_, assoc := only(t, tmpl, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation")
	if !equalJSON(props(assoc)["ResolverQueryLogConfigId"], getAtt(cfgID, "Id")) || !equalJSON(props(assoc)["ResourceId"], ref(vpcID)) {
		t.Errorf("association %s does not tie the config to the workshop VPC", compact(props(assoc)))
	}
}
