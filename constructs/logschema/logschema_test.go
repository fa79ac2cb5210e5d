package logschema

import (
	"slices"
	"testing"
)

// TestTablesReadLogsAsAWSDocumentsThem pins the classes and fields that come
// from AWS's documentation rather than from this project: the Athena user
// guide's DDL for CloudTrail with partition projection (the CloudTrail input
// format with the Hive JSON SerDe, which reads the newer record fields), and
// the Route 53 Resolver query log fields, DNS Firewall's included.
func TestTablesReadLogsAsAWSDocumentsThem(t *testing.T) {
	ct := CloudTrail()
	if ct.SerDe != "org.apache.hive.hcatalog.data.JsonSerDe" || ct.InputFormat != "com.amazon.emr.cloudtrail.CloudTrailInputFormat" {
		t.Errorf("CloudTrail table reads with %s and %s", ct.SerDe, ct.InputFormat)
	}
	names := func(tb Table) []string {
		var out []string
		for _, c := range tb.Columns {
			out = append(out, c.Name)
		}
		return out
	}
	for _, want := range []string{"addendum", "tlsdetails", "edgedevicedetails", "sessioncredentialfromconsole"} {
		if !slices.Contains(names(ct), want) {
			t.Errorf("CloudTrail table has no column %s", want)
		}
	}
	dns := DNS()
	if dns.SerDe != "org.openx.data.jsonserde.JsonSerDe" {
		t.Errorf("DNS table reads with %s", dns.SerDe)
	}
	want := []string{"version", "account_id", "region", "vpc_id", "query_timestamp", "query_name", "query_type",
		"query_class", "rcode", "answers", "srcaddr", "srcport", "transport", "srcids",
		"firewall_rule_action", "firewall_rule_group_id", "firewall_domain_list_id"}
	if got := names(dns); !slices.Equal(got, want) {
		t.Errorf("DNS columns %v, want %v", got, want)
	}
}
