package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// writeFile writes content under root at the slash-separated key, gzipped
// when the key ends in .gz.
func writeFile(t *testing.T, root, key, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte(content)
	if strings.HasSuffix(key, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// open returns an engine loaded with the files (key → content).
func open(t *testing.T, files map[string]string) *Engine {
	t.Helper()
	root := t.TempDir()
	for k, v := range files {
		writeFile(t, root, k, v)
	}
	e, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if _, err := e.Load(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	return e
}

// query runs sql and returns the rows.
func query(t *testing.T, e *Engine, sql string) [][]string {
	t.Helper()
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

func requireRows(t *testing.T, e *Engine, sql string, want [][]string) {
	t.Helper()
	if got := query(t, e, sql); !reflect.DeepEqual(got, want) {
		t.Errorf("%s\ngot  %q\nwant %q", sql, got, want)
	}
}

const (
	ctKey   = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/111122223333_CloudTrail_us-east-1_20260314T0915Z_abcdefghijklmnop.json.gz"
	flowKey = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/14/111122223333_vpcflowlogs_us-east-1_fl-1234567890abcdef0_20260314T0915Z_0a1b2c3d.log.gz"
	dnsKey  = "AWSLogs/111122223333/vpcdnsquerylogs/vpc-0a1b2c3d4e5f67890/2026/03/14/vpc-0a1b2c3d4e5f67890_vpcdnsquerylogs_111122223333_20260314T0915Z_0a1b2c3d.log.gz"
)

var sampleFiles = map[string]string{
	ctKey: `{"Records":[
 {"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/integration","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"integration"},
  "eventTime":"2026-03-14T09:15:02Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1",
  "sourceIPAddress":"198.51.100.23","userAgent":"aws-cli/2.27.0","requestParameters":{"userName":"backup-admin","tags":[]},
  "responseElements":{"user":{"userName":"backup-admin","userId":"AIDAEXAMPLE2"}},"requestID":"r1","eventID":"e1","readOnly":false,
  "resources":[{"ARN":"arn:aws:iam::111122223333:user/backup-admin","accountId":"111122223333","type":"AWS::IAM::User"}],
  "eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management",
  "tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"iam.amazonaws.com"}},
 {"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/SecurityAnalystRole/alice",
  "sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2026-03-14T08:00:00Z"},"sessionIssuer":{"type":"Role","userName":"SecurityAnalystRole"},"webIdFederationData":{"federatedProvider":"x","attributes":{"k":"v"}}}},
  "eventTime":"2026-03-14T09:16:00Z","eventSource":"athena.amazonaws.com","eventName":"StartQueryExecution","awsRegion":"us-east-1",
  "sourceIPAddress":"203.0.113.10","requestParameters":null,"readOnly":true}
]}`,
	flowKey: strings.Join(logschema.VPCFlowLogFields, " ") + "\n" +
		"5 111122223333 eni-0a1b2c3d4e5f67890 198.51.100.23 192.168.0.10 49152 22 6 10 840 1773479700 1773479760 ACCEPT OK vpc-0a1b2c3d4e5f67890 subnet-0a1b2c3d4e5f67890 i-1234567890abcdef0 2 IPv4 198.51.100.23 192.168.0.10 us-east-1 use1-az1 - - - - ingress -\n" +
		"5 111122223333 eni-0a1b2c3d4e5f67890 - - - - - - - 1773479700 1773479760 - NODATA vpc-0a1b2c3d4e5f67890 subnet-0a1b2c3d4e5f67890 i-1234567890abcdef0 - - - - us-east-1 use1-az1 - - - - - -\n",
	dnsKey: `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f67890","query_timestamp":"2026-03-14T09:15:30Z","query_name":"pool.minexmr.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"203.0.113.50","Type":"A","Class":"IN"}],"srcaddr":"192.168.0.10","srcport":"56067","transport":"UDP","srcids":{"instance":"i-1234567890abcdef0"}}
{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f67890","query_timestamp":"2026-03-14T09:15:31Z","query_name":"ssm.us-east-1.amazonaws.com.","query_type":"AAAA","query_class":"IN","rcode":"NOERROR","answers":[],"srcaddr":"192.168.0.10","srcport":"40000","transport":"UDP","srcids":{"instance":"i-1234567890abcdef0"}}
{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f67890","query_timestamp":"2026-03-14T09:15:32Z","query_name":"xmr.pool.example.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"192.168.0.10","srcport":"40001","transport":"UDP","srcids":{"instance":"i-1234567890abcdef0"},"firewall_rule_action":"BLOCK","firewall_rule_group_id":"rslvr-frg-0123456789abcdef","firewall_domain_list_id":"rslvr-fdl-0123456789abcdef"}
`,
	// Not a table's file: ignored.
	"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/digest.json.gz": `{"not":"records"}`,
	// Hidden: ignored, as by Athena.
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/_SUCCESS": "",
}

func TestTablesHaveLogschemaColumnsAndTypes(t *testing.T) {
	e := open(t, nil)
	for _, table := range logschema.Tables() {
		rows := query(t, e, "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'awsdatacatalog' AND table_schema = 'ir_workshop' AND table_name = '"+table.Name+"' ORDER BY ordinal_position")
		cols := table.AllColumns()
		if len(rows) != len(cols) {
			t.Fatalf("%s has %d columns, logschema %d", table.Name, len(rows), len(cols))
		}
		for i, c := range cols {
			want := c.Type.DuckDB()
			got := rows[i][1]
			// DuckDB spells struct fields unquoted where it can.
			if rows[i][0] != c.Name || strings.ReplaceAll(want, `"`, "") != strings.ReplaceAll(got, `"`, "") {
				t.Errorf("%s column %d = %s %s, want %s %s", table.Name, i, rows[i][0], got, c.Name, want)
			}
		}
	}
}

func TestTableNamesResolveAsInAthena(t *testing.T) {
	e := open(t, sampleFiles)
	for _, name := range []string{"cloudtrail_logs", "ir_workshop.cloudtrail_logs", `"ir_workshop"."cloudtrail_logs"`, "awsdatacatalog.ir_workshop.cloudtrail_logs"} {
		requireRows(t, e, "SELECT count(*) FROM "+name, [][]string{{"2"}})
	}
}

func TestLoadReadsCloudTrailAsTheHiveJSONSerDe(t *testing.T) {
	e := open(t, sampleFiles)
	requireRows(t, e, `SELECT eventname, useridentity.accesskeyid, useridentity.username, sourceipaddress, readonly,
	       requestparameters, json_extract_scalar(responseelements, '$.user.userName'), resources[1].arn,
	       tlsdetails.tlsversion, useridentity.sessioncontext.webidfederationdata.attributes['k'],
	       account_partition, region_partition, date_partition
	FROM cloudtrail_logs ORDER BY eventtime`, [][]string{
		{"CreateUser", "AKIAIOSFODNN7EXAMPLE", "integration", "198.51.100.23", "false",
			`{"userName":"backup-admin","tags":[]}`, "backup-admin", "arn:aws:iam::111122223333:user/backup-admin",
			"TLSv1.3", "NULL", "111122223333", "us-east-1", "2026/03/14"},
		{"StartQueryExecution", "NULL", "NULL", "203.0.113.10", "true",
			"NULL", "NULL", "NULL", "NULL", "v", "111122223333", "us-east-1", "2026/03/14"},
	})
}

func TestLoadReadsFlowLogsAsLazySimpleSerDe(t *testing.T) {
	e := open(t, sampleFiles)
	// The header line is skipped; a '-' in a number column is NULL, in a
	// string column it stays '-' (no serialization.null.format in logschema).
	requireRows(t, e, `SELECT version, srcaddr, dstport, protocol, bytes, action, log_status, instance_id, tcp_flags,
	       flow_direction, traffic_path, sublocation_type, account_partition, region_partition, date_partition
	FROM vpc_flow_logs ORDER BY log_status`, [][]string{
		{"5", "-", "NULL", "NULL", "NULL", "-", "NODATA", "i-1234567890abcdef0", "NULL", "-", "NULL", "-", "111122223333", "us-east-1", "2026/03/14"},
		{"5", "198.51.100.23", "22", "6", "840", "ACCEPT", "OK", "i-1234567890abcdef0", "2", "ingress", "NULL", "-", "111122223333", "us-east-1", "2026/03/14"},
	})
}

func TestLoadReadsDNSLogsAsOpenXJSONSerDe(t *testing.T) {
	e := open(t, sampleFiles)
	requireRows(t, e, `SELECT query_name, srcport, srcids.instance, cardinality(answers), answers[1].rdata, answers[1].type,
	       account_partition, vpc_partition, date_partition
	FROM dns_query_logs ORDER BY query_timestamp`, [][]string{
		{"pool.minexmr.com.", "56067", "i-1234567890abcdef0", "1", "203.0.113.50", "A", "111122223333", "vpc-0a1b2c3d4e5f67890", "2026/03/14"},
		{"ssm.us-east-1.amazonaws.com.", "40000", "i-1234567890abcdef0", "0", "NULL", "NULL", "111122223333", "vpc-0a1b2c3d4e5f67890", "2026/03/14"},
		{"xmr.pool.example.", "40001", "i-1234567890abcdef0", "0", "NULL", "NULL", "111122223333", "vpc-0a1b2c3d4e5f67890", "2026/03/14"},
	})
	// DNS Firewall's fields, present only when a rule matched.
	requireRows(t, e, `SELECT query_name, firewall_rule_action, firewall_rule_group_id, firewall_domain_list_id
	FROM dns_query_logs ORDER BY query_timestamp`, [][]string{
		{"pool.minexmr.com.", "NULL", "NULL", "NULL"},
		{"ssm.us-east-1.amazonaws.com.", "NULL", "NULL", "NULL"},
		{"xmr.pool.example.", "BLOCK", "rslvr-frg-0123456789abcdef", "rslvr-fdl-0123456789abcdef"},
	})
}

func TestLoadCountsFilesAndRowsOfEachTable(t *testing.T) {
	root := t.TempDir()
	for k, v := range sampleFiles {
		writeFile(t, root, k, v)
	}
	e, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	stats, err := e.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	want := LoadStats{
		Files: map[string]int{"cloudtrail_logs": 1, "vpc_flow_logs": 1, "dns_query_logs": 1},
		Rows:  map[string]int{"cloudtrail_logs": 2, "vpc_flow_logs": 2, "dns_query_logs": 3},
	}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("stats = %v, want %v", stats, want)
	}
}

func TestLoadNamesTheFileItCannotRead(t *testing.T) {
	for name, content := range map[string]string{
		"NotJSON":   `{"Records":[{"eventName":`,
		"NoRecords": `{"not":"records"}`,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, ctKey, content)
			e, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			_, err = e.Load(context.Background(), root)
			if err == nil || !strings.Contains(err.Error(), ctKey) {
				t.Errorf("error %v, want one naming %s", err, ctKey)
			}
		})
	}
}

func TestPathPatternExtractsPartitionsAsProjectionDoes(t *testing.T) {
	tests := []struct {
		table logschema.Table
		key   string
		want  map[string]string // nil: not the table's file
	}{
		{logschema.CloudTrail(), ctKey, map[string]string{"account_partition": "111122223333", "region_partition": "us-east-1", "date_partition": "2026/03/14"}},
		{logschema.VPCFlow(), flowKey, map[string]string{"account_partition": "111122223333", "region_partition": "us-east-1", "date_partition": "2026/03/14"}},
		{logschema.DNS(), dnsKey, map[string]string{"account_partition": "111122223333", "vpc_partition": "vpc-0a1b2c3d4e5f67890", "date_partition": "2026/03/14"}},
		{logschema.CloudTrail(), "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/x.json.gz", nil},
		{logschema.CloudTrail(), "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/x.json.gz", nil},
		{logschema.CloudTrail(), flowKey, nil},
	}
	for _, tt := range tests {
		p, err := compilePath(tt.table)
		if err != nil {
			t.Fatal(err)
		}
		m := p.re.FindStringSubmatch(tt.key)
		if tt.want == nil {
			if m != nil {
				t.Errorf("%s matched %s: %v", tt.table.Name, tt.key, m)
			}
			continue
		}
		got := map[string]string{}
		for k, i := range p.group {
			got[k] = m[i]
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s, %s: %v, want %v", tt.table.Name, tt.key, got, tt.want)
		}
	}
}

// Trino expands an array of rows into one column per field; the engine
// rewrites UNNEST so that DuckDB does too.
func TestUnnestExpandsRowsAndZipsArraysAsTrino(t *testing.T) {
	e := open(t, sampleFiles)
	requireRows(t, e, `SELECT d.query_name, a.rdata, a.answer_type, n
	FROM dns_query_logs AS d
	CROSS JOIN UNNEST(d.answers) WITH ORDINALITY AS a (rdata, answer_type, answer_class, n)
	WHERE d.date_partition = '2026/03/14'`, [][]string{{"pool.minexmr.com.", "203.0.113.50", "A", "1"}})
	requireRows(t, e, `SELECT r.type, r.arn FROM cloudtrail_logs, UNNEST(resources) r (arn, accountid, type)
	WHERE date_partition = '2026/03/14'`, [][]string{{"AWS::IAM::User", "arn:aws:iam::111122223333:user/backup-admin"}})
	requireRows(t, e, `SELECT n, l FROM UNNEST(ARRAY[1, 2], ARRAY['x', 'y', 'z']) AS z (n, l) ORDER BY l`,
		[][]string{{"1", "x"}, {"2", "y"}, {"NULL", "z"}})
	// The word unnest in a string or a comment is left alone.
	requireRows(t, e, `SELECT 'unnest(x) AS t' AS s -- UNNEST(y)`, [][]string{{"unnest(x) AS t"}})
}
