// Package logschema defines, once, the Athena tables over the workshop's
// three log sources: CloudTrail, VPC Flow Logs and Route 53 Resolver query
// logs. Each definition holds the columns with their types (Type, rendered
// in Hive syntax for Glue and in DuckDB's for the rehearsal), the
// partition keys and how each is projected, the SerDe and the file formats,
// and where the files land in the log bucket.
//
// The security analytics construct turns these into Glue tables; tests check
// playbook queries against them. The package is plain Go with no CDK import,
// so tools that only need the schema do not pay for the CDK.
package logschema

import "strings"

// Names shared by the Glue catalog, the playbook queries and the tests.
const (
	Database        = "ir_workshop"
	CloudTrailTable = "cloudtrail_logs"
	VPCFlowTable    = "vpc_flow_logs"
	DNSTable        = "dns_query_logs"
)

// Partition key names.
const (
	DatePartition    = "date_partition"
	RegionPartition  = "region_partition"
	AccountPartition = "account_partition"
	VPCPartition     = "vpc_partition"
)

// DateFormat is the format of date_partition, as the log paths spell the day.
const DateFormat = "yyyy/MM/dd"

// Projection says how Athena computes a partition key's values.
type Projection int

const (
	// ProjectDate is a date range from a start date to NOW, one value a day.
	ProjectDate Projection = iota + 1
	// ProjectEnum is a list of values given at deployment (regions, accounts,
	// VPC IDs).
	ProjectEnum
)

// Column is a table column or partition key.
type Column struct {
	Name    string
	Type    Type
	Comment string
}

// PartitionKey is a partition column and its projection.
type PartitionKey struct {
	Column
	Projection Projection
}

// Table is one log source's table.
type Table struct {
	Name        string
	Description string
	Columns     []Column
	// PartitionKeys, in the order they appear in PathTemplate.
	PartitionKeys []PartitionKey
	// PathTemplate is the key of a day's folder in the log bucket, with
	// ${partition} placeholders: Athena's storage.location.template without
	// the s3://bucket/ prefix.
	PathTemplate string
	InputFormat  string
	OutputFormat string
	SerDe        string
	SerDeParams  map[string]string
	// Parameters are table properties besides projection, such as the
	// classification and skip.header.line.count.
	Parameters map[string]string
}

// LocationPrefix is the fixed part of PathTemplate before the first
// placeholder: the table's LOCATION relative to the bucket.
func (t Table) LocationPrefix() string {
	i := strings.Index(t.PathTemplate, "${")
	if i < 0 {
		return t.PathTemplate
	}
	return t.PathTemplate[:i]
}

// AllColumns returns the columns followed by the partition keys, as a query
// sees them.
func (t Table) AllColumns() []Column {
	all := append([]Column(nil), t.Columns...)
	for _, p := range t.PartitionKeys {
		all = append(all, p.Column)
	}
	return all
}

// Tables returns the three tables, CloudTrail first.
func Tables() []Table {
	return []Table{CloudTrail(), VPCFlow(), DNS()}
}

// Hive classes the tables name: how Athena splits files into records
// (input formats) and records into columns (SerDes). The rehearsal engine
// reads the same names to load sample logs the way Athena would.
const (
	TextInputFormat       = "org.apache.hadoop.mapred.TextInputFormat"
	IgnoreKeyOutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
	// CloudTrailInputFormat makes one record of each element of a CloudTrail
	// log file's Records array.
	CloudTrailInputFormat = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
	// HiveJSONSerDe reads a JSON object into columns, matching keys to
	// column and struct field names whatever their case. AWS documents it
	// for CloudTrail tables: unlike the older CloudTrailSerde, it reads
	// every field of the record, the newer ones included.
	HiveJSONSerDe = "org.apache.hive.hcatalog.data.JsonSerDe"
	// OpenXJSONSerDe reads a JSON object a line; keys match case-insensitively
	// unless the case.insensitive parameter is false.
	OpenXJSONSerDe = "org.openx.data.jsonserde.JsonSerDe"
	// LazySimpleSerDe cuts delimited text into columns.
	LazySimpleSerDe = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
)

var (
	datePartition    = PartitionKey{Column{DatePartition, String, "day the log was delivered, " + DateFormat}, ProjectDate}
	regionPartition  = PartitionKey{Column{RegionPartition, String, "AWS Region the log is from"}, ProjectEnum}
	accountPartition = PartitionKey{Column{AccountPartition, String, "AWS account the log is from"}, ProjectEnum}
	vpcPartition     = PartitionKey{Column{VPCPartition, String, "VPC whose DNS queries the log holds"}, ProjectEnum}
)

// userIdentity is CloudTrail's userIdentity element.
var userIdentity = Struct(append(Strings("type", "principalid", "arn", "accountid", "invokedby", "accesskeyid", "username"),
	Field{"onbehalfof", Struct(Strings("userid", "identitystorearn")...)},
	Field{"sessioncontext", Struct(
		Field{"attributes", Struct(Strings("mfaauthenticated", "creationdate")...)},
		Field{"sessionissuer", Struct(Strings("type", "principalid", "arn", "accountid", "username")...)},
		Field{"ec2roledelivery", String},
		Field{"webidfederationdata", Struct(Field{"federatedprovider", String}, Field{"attributes", MapOf(String, String)})},
		Field{"sourceidentity", String},
	)},
)...)

// CloudTrail is the table over CloudTrail log files, as AWS's DDL for
// CloudTrail with partition projection defines it: the CloudTrail input
// format (one row per record of a file's Records array) and the Hive JSON
// SerDe.
// Columns follow the CloudTrail record contents; JSON-valued fields
// (requestparameters, responseelements, ...) are strings for json_extract.
func CloudTrail() Table {
	return Table{
		Name:        CloudTrailTable,
		Description: "CloudTrail management and S3 data events delivered to the workshop's log bucket.",
		Columns: []Column{
			{"eventversion", String, ""},
			{"useridentity", userIdentity, ""},
			{"eventtime", String, "ISO 8601 time, UTC"},
			{"eventsource", String, ""},
			{"eventname", String, ""},
			{"awsregion", String, ""},
			{"sourceipaddress", String, ""},
			{"useragent", String, ""},
			{"errorcode", String, ""},
			{"errormessage", String, ""},
			{"requestparameters", String, "JSON"},
			{"responseelements", String, "JSON"},
			{"additionaleventdata", String, "JSON"},
			{"requestid", String, ""},
			{"eventid", String, ""},
			{"resources", ArrayOf(Struct(Strings("arn", "accountid", "type")...)), ""},
			{"eventtype", String, ""},
			{"apiversion", String, ""},
			{"readonly", String, ""},
			{"recipientaccountid", String, ""},
			{"serviceeventdetails", String, "JSON"},
			{"sharedeventid", String, ""},
			{"vpcendpointid", String, ""},
			{"vpcendpointaccountid", String, ""},
			{"eventcategory", String, ""},
			{"addendum", Struct(Strings("reason", "updatedfields", "originalrequestid", "originaleventid")...), ""},
			{"sessioncredentialfromconsole", String, ""},
			{"edgedevicedetails", String, "JSON"},
			{"tlsdetails", Struct(Strings("tlsversion", "ciphersuite", "clientprovidedhostheader")...), ""},
		},
		PartitionKeys: []PartitionKey{accountPartition, regionPartition, datePartition},
		PathTemplate:  "AWSLogs/${" + AccountPartition + "}/CloudTrail/${" + RegionPartition + "}/${" + DatePartition + "}",
		InputFormat:   CloudTrailInputFormat,
		OutputFormat:  IgnoreKeyOutputFormat,
		SerDe:         HiveJSONSerDe,
		Parameters:    map[string]string{"classification": "cloudtrail"},
	}
}

// VPCFlowLogFields is the custom format of the workshop's flow logs: every
// version 2 to 5 field, in this order. The flow log's format and the table's
// columns are both built from it.
var VPCFlowLogFields = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
	"vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
	"region", "az-id", "sublocation-type", "sublocation-id",
	"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
}

// vpcFlowTypes gives the fields that are not strings their types.
var vpcFlowTypes = map[string]Type{
	"version": Int, "srcport": Int, "dstport": Int, "protocol": BigInt,
	"packets": BigInt, "bytes": BigInt, "start": BigInt, "end": BigInt,
	"tcp-flags": Int, "traffic-path": Int,
}

// VPCFlowColumn is the column name of a flow log format field: hyphens
// become underscores.
func VPCFlowColumn(field string) string {
	return strings.ReplaceAll(field, "-", "_")
}

// VPCFlowFormat is the flow log's custom format string.
func VPCFlowFormat() string {
	parts := make([]string, len(VPCFlowLogFields))
	for i, f := range VPCFlowLogFields {
		parts[i] = "${" + f + "}"
	}
	return strings.Join(parts, " ")
}

// VPCFlow is the table over VPC Flow Logs text files: space-delimited, one
// column per format field in format order, first line a header to skip.
func VPCFlow() Table {
	cols := make([]Column, len(VPCFlowLogFields))
	for i, f := range VPCFlowLogFields {
		typ, ok := vpcFlowTypes[f]
		if !ok {
			typ = String
		}
		cols[i] = Column{Name: VPCFlowColumn(f), Type: typ, Comment: "flow log field " + f}
	}
	return Table{
		Name:          VPCFlowTable,
		Description:   "VPC Flow Logs of the workshop VPC, all fields, 60 second aggregation.",
		Columns:       cols,
		PartitionKeys: []PartitionKey{accountPartition, regionPartition, datePartition},
		PathTemplate:  "AWSLogs/${" + AccountPartition + "}/vpcflowlogs/${" + RegionPartition + "}/${" + DatePartition + "}",
		InputFormat:   TextInputFormat,
		OutputFormat:  IgnoreKeyOutputFormat,
		SerDe:         LazySimpleSerDe,
		SerDeParams:   map[string]string{"field.delim": " ", "serialization.format": " "},
		Parameters:    map[string]string{"classification": "csv", "skip.header.line.count": "1"},
	}
}

// DNS is the table over Route 53 Resolver query logs: one JSON object a line,
// read with the OpenX JSON SerDe.
func DNS() Table {
	return Table{
		Name:        DNSTable,
		Description: "Route 53 Resolver query logs of the workshop VPC.",
		Columns: []Column{
			{"version", String, ""},
			{"account_id", String, ""},
			{"region", String, ""},
			{"vpc_id", String, ""},
			{"query_timestamp", String, "ISO 8601 time, UTC"},
			{"query_name", String, "name queried, with a trailing dot"},
			{"query_type", String, ""},
			{"query_class", String, ""},
			{"rcode", String, ""},
			{"answers", ArrayOf(Struct(Strings("rdata", "type", "class")...)), ""},
			{"srcaddr", String, ""},
			{"srcport", Int, ""},
			{"transport", String, ""},
			{"srcids", Struct(Strings("instance", "resolver_endpoint")...), ""},
			{"firewall_rule_action", String, "ALLOW, BLOCK or ALERT when a DNS Firewall rule matched the query"},
			{"firewall_rule_group_id", String, "DNS Firewall rule group that matched"},
			{"firewall_domain_list_id", String, "DNS Firewall domain list that matched"},
		},
		PartitionKeys: []PartitionKey{accountPartition, vpcPartition, datePartition},
		PathTemplate:  "AWSLogs/${" + AccountPartition + "}/vpcdnsquerylogs/${" + VPCPartition + "}/${" + DatePartition + "}",
		InputFormat:   TextInputFormat,
		OutputFormat:  IgnoreKeyOutputFormat,
		SerDe:         OpenXJSONSerDe,
		SerDeParams:   map[string]string{"case.insensitive": "true"},
		Parameters:    map[string]string{"classification": "json"},
	}
}
