package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestWorkgroupEnforcesEncryptedResultsAndMetrics(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	_, wg := only(t, tmpl, "AWS::Athena::WorkGroup")
	p := props(wg)
	if p["Name"] != analytics.WorkGroupName || p["RecursiveDeleteOption"] != true {
		t.Errorf("workgroup %v, recursive delete %v", p["Name"], p["RecursiveDeleteOption"])
	}
	cfg := at(t, p, "WorkGroupConfiguration")
	if at(t, cfg, "EnforceWorkGroupConfiguration") != true || at(t, cfg, "PublishCloudWatchMetricsEnabled") != true {
		t.Error("workgroup configuration is not enforced, or metrics are off")
	}
	if at(t, cfg, "ResultConfiguration", "EncryptionConfiguration", "EncryptionOption") != "SSE_S3" {
		t.Error("query results are not encrypted")
	}
	if !equalJSON(at(t, cfg, "EngineVersion", "SelectedEngineVersion"), ref("AthenaEngineVersion")) {
		t.Error("engine version does not come from the AthenaEngineVersion parameter")
	}
	// Results go to the results bucket, not the log bucket.
	logBucket, accessLogs := archiveIDs(t, tmpl)
	var results string
	for id := range resources(tmpl, "AWS::S3::Bucket") {
		if id != logBucket && id != accessLogs {
			results = id
		}
	}
	if !mentions(at(t, cfg, "ResultConfiguration", "OutputLocation"), `"Ref":"`+results+`"`) {
		t.Errorf("results go to %s, want bucket %s", compact(at(t, cfg, "ResultConfiguration", "OutputLocation")), results)
	}
}

// TestGlueTablesMatchTheSchemaDefinedInGo pins each table to logschema:
// columns with types in order, partition keys, SerDe, formats, location.
func TestGlueTablesMatchTheSchemaDefinedInGo(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	logBucket, _ := archiveIDs(t, tmpl)
	dbID, db := only(t, tmpl, "AWS::Glue::Database")
	if at(t, props(db), "DatabaseInput", "Name") != logschema.Database {
		t.Errorf("database name %v", at(t, props(db), "DatabaseInput", "Name"))
	}
	tables := map[string]map[string]any{}
	for _, r := range resources(tmpl, "AWS::Glue::Table") {
		if !equalJSON(props(r)["DatabaseName"], ref(dbID)) {
			t.Errorf("table outside the workshop database: %s", compact(props(r)["DatabaseName"]))
		}
		in := at(t, props(r), "TableInput").(map[string]any)
		tables[in["Name"].(string)] = in
	}
	if len(tables) != 3 {
		t.Fatalf("tables %v", keys(tables))
	}
	for _, want := range logschema.Tables() {
		t.Run(want.Name, func(t *testing.T) {
			in, ok := tables[want.Name]
			if !ok {
				t.Fatalf("no table %s", want.Name)
			}
			cols := at(t, in, "StorageDescriptor", "Columns").([]any)
			if len(cols) != len(want.Columns) {
				t.Fatalf("%d columns, want %d", len(cols), len(want.Columns))
			}
			for i, c := range want.Columns {
				if at(t, cols[i], "Name") != c.Name || at(t, cols[i], "Type") != c.Type.Hive() {
					t.Errorf("column %d is %s, want %s %s", i, compact(cols[i]), c.Name, c.Type.Hive())
				}
			}
			parts := at(t, in, "PartitionKeys").([]any)
			for i, k := range want.PartitionKeys {
				if at(t, parts[i], "Name") != k.Name || at(t, parts[i], "Type") != "string" {
					t.Errorf("partition key %d is %s, want %s", i, compact(parts[i]), k.Name)
				}
			}
			sd := at(t, in, "StorageDescriptor")
			if at(t, sd, "SerdeInfo", "SerializationLibrary") != want.SerDe || at(t, sd, "InputFormat") != want.InputFormat || at(t, sd, "OutputFormat") != want.OutputFormat {
				t.Errorf("SerDe or formats differ: %s", compact(sd))
			}
			params := at(t, in, "Parameters").(map[string]any)
			if params["projection.enabled"] != "true" || params["EXTERNAL"] != "TRUE" || at(t, in, "TableType") != "EXTERNAL_TABLE" {
				t.Error("not an external table with partition projection")
			}
			for k, v := range want.Parameters {
				if params[k] != v {
					t.Errorf("parameter %s = %v, want %s", k, params[k], v)
				}
			}
			wantTemplate := map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(logBucket), "/" + want.PathTemplate}}}
			if !equalJSON(params["storage.location.template"], wantTemplate) {
				t.Errorf("location template %s", compact(params["storage.location.template"]))
			}
			for _, k := range want.PartitionKeys {
				typ := params["projection."+k.Name+".type"]
				switch k.Projection {
				case logschema.ProjectDate:
					if typ != "date" || params["projection."+k.Name+".format"] != "yyyy/MM/dd" ||
						!mentions(params["projection."+k.Name+".range"], `"Ref":"ProjectionStartDate"`) || !mentions(params["projection."+k.Name+".range"], ",NOW") {
						t.Errorf("%s is not a date projection from ProjectionStartDate to NOW", k.Name)
					}
				case logschema.ProjectEnum:
					if typ != "enum" || params["projection."+k.Name+".values"] == nil {
						t.Errorf("%s is not an enum projection", k.Name)
					}
				}
			}
		})
	}
	if tables[logschema.VPCFlowTable]["Parameters"].(map[string]any)["skip.header.line.count"] != "1" {
		t.Error("the VPC Flow table does not skip the header line")
	}
	accounts := tables[logschema.CloudTrailTable]["Parameters"].(map[string]any)["projection.account_partition.values"]
	if !equalJSON(accounts, map[string]any{"Fn::If": []any{"NoLogAccountIds", ref("AWS::AccountId"), ref("LogAccountIds")}}) {
		t.Errorf("account enum %s: want LogAccountIds, or this account when empty", compact(accounts))
	}
}

func TestVPCFlowColumnsFollowTheFormatFieldsInOrder(t *testing.T) {
	table := logschema.VPCFlow()
	for i, f := range logschema.VPCFlowLogFields {
		if table.Columns[i].Name != strings.ReplaceAll(f, "-", "_") {
			t.Errorf("column %d is %s for field %s", i, table.Columns[i].Name, f)
		}
	}
	if len(table.Columns) != len(logschema.VPCFlowLogFields) {
		t.Errorf("%d columns for %d fields", len(table.Columns), len(logschema.VPCFlowLogFields))
	}
}

func TestRegionEnumComesFromCDKRegionFacts(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	regions := analytics.CommercialRegions()
	for _, r := range []string{"us-east-1", "eu-west-1", "il-central-1", "mx-central-1", "ap-southeast-5", "ca-west-1"} {
		if !slices.Contains(regions, r) {
			t.Errorf("region enum lacks %s", r)
		}
	}
	for _, r := range []string{"cn-north-1", "us-gov-west-1", "us-iso-east-1"} {
		if slices.Contains(regions, r) {
			t.Errorf("region enum has %s, outside the commercial partition", r)
		}
	}
	for _, table := range resources(tmpl, "AWS::Glue::Table") {
		params := at(t, props(table), "TableInput", "Parameters").(map[string]any)
		if v, ok := params["projection.region_partition.values"]; ok && v != strings.Join(regions, ",") {
			t.Errorf("table region enum %v differs from CommercialRegions", v)
		}
	}
}

func TestNamedQueriesComeFromEveryPlaybookQueryFile(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	files, err := filepath.Glob(filepath.Join(root, "playbooks", "*", "queries", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	named := resources(tmpl, "AWS::Athena::NamedQuery")
	if len(named) != len(files) {
		t.Errorf("%d named queries for %d query files", len(named), len(files))
	}
	byName := map[string]map[string]any{}
	for _, q := range named {
		byName[props(q)["Name"].(string)] = props(q)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + strings.TrimSuffix(filepath.Base(f), ".sql")
		q, ok := byName[name]
		if !ok {
			t.Errorf("%s is not a named query %s", f, name)
			continue
		}
		sql, _ := os.ReadFile(f)
		if q["QueryString"] != string(sql) {
			t.Errorf("named query %s differs from %s", name, f)
		}
		if !mentions(q["WorkGroup"], "Ref") || !mentions(q["Database"], "Ref") {
			t.Errorf("named query %s is not in the workshop workgroup and database", name)
		}
	}
}
