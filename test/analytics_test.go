package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

// TestWorkshopParametersReachTheAnalytics pins WorkshopStack's wiring: the
// workgroup's engine, the tables' first day and account list come from the
// template parameters, the VPC enum from the workshop VPC, and the results
// bucket logs to the archive's access log bucket.
func TestWorkshopParametersReachTheAnalytics(t *testing.T) {
	s := synthApp(t)
	ws := s.app.Workshop
	tmpl := s.assert[workshop.WorkshopStackName]
	cdktest.Assert(t, "workgroup", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"), assertions.Match_ObjectLike(&map[string]any{
			"Name": analytics.DefaultWorkGroupName,
			"WorkGroupConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"EngineVersion": map[string]any{"SelectedEngineVersion": map[string]any{"Ref": "AthenaEngineVersion"}},
			}),
		}))
	})
	cdktest.Assert(t, "database", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Glue::Database"), assertions.Match_ObjectLike(&map[string]any{
			"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": logschema.Database}),
		}))
	})
	projection := func(table string, params map[string]any) {
		cdktest.Assert(t, table, func() {
			tmpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), assertions.Match_ObjectLike(&map[string]any{
				"TableInput": assertions.Match_ObjectLike(&map[string]any{
					"Name":       table,
					"Parameters": assertions.Match_ObjectLike(&params),
				}),
			}))
		})
	}
	dateRange := map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": "ProjectionStartDate"}, ",NOW"}}}
	accounts := map[string]any{"Fn::If": []any{"NoLogAccountIds", map[string]any{"Ref": "AWS::AccountId"}, map[string]any{"Ref": "LogAccountIds"}}}
	projection(logschema.CloudTrailTable, map[string]any{
		"projection.date_partition.range":     dateRange,
		"projection.account_partition.values": accounts,
	})
	projection(logschema.DNSTable, map[string]any{
		"projection.date_partition.range":     dateRange,
		"projection.account_partition.values": accounts,
		"projection.vpc_partition.values":     cdktest.Ref(ws.Network.Vpc),
	})
	cdktest.Assert(t, "results bucket logs to the archive's access log bucket", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"LoggingConfiguration": map[string]any{
				"DestinationBucketName": cdktest.Ref(ws.LogArchive.AccessLogsBucket),
				"LogFilePrefix":         analytics.DefaultResultsAccessLogsPrefix,
			},
		}))
	})
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

func TestNamedQueriesComeFromEveryPlaybookQueryFile(t *testing.T) {
	s := synthApp(t)
	a := s.app.Workshop.Analytics
	tmpl := s.assert[workshop.WorkshopStackName]
	files, err := filepath.Glob(filepath.Join(root, "playbooks", "*", "queries", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no playbook query files")
	}
	cdktest.Assert(t, "one named query per file", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::Athena::NamedQuery"), jsii.Number(len(files)))
	})
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "/" + strings.TrimSuffix(filepath.Base(f), ".sql")
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cdktest.Assert(t, name, func() {
			tmpl.HasResourceProperties(jsii.String("AWS::Athena::NamedQuery"), assertions.Match_ObjectLike(&map[string]any{
				"Name":        name,
				"QueryString": string(sql),
				"WorkGroup":   cdktest.Ref(a.WorkGroup),
				"Database":    cdktest.Ref(a.Database),
			}))
		})
	}
}
