// Package analytics provides the workshop's security analytics: an Athena
// workgroup with its own encrypted results bucket, a Glue database with one
// table per log source (defined in package logschema) using partition
// projection, so no crawler and no MSCK REPAIR are needed, and the playbooks'
// queries as Athena named queries.
//
// Athena and Glue have no stable L2 constructs in aws-cdk-lib, so the
// workgroup, database, tables and named queries are Cfn resources.
package analytics

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/regioninfo"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// WorkGroupName is the Athena workgroup's fixed name: playbooks, roles and
// users refer to it.
const WorkGroupName = "ir-workshop"

// DefaultEngineVersion is Athena's current engine.
const DefaultEngineVersion = "Athena engine version 3"

// SecurityAnalyticsProps configures a SecurityAnalytics.
type SecurityAnalyticsProps struct {
	// Archive holds the logs the tables read; its access log bucket receives
	// the results bucket's server access logs. Required.
	Archive *logarchive.LogArchive
	// EngineVersion is the workgroup's selected engine version, for example a
	// template parameter's value. Default DefaultEngineVersion.
	EngineVersion *string
	// StartDate is the first day of date_partition, yyyy/MM/dd. Required.
	StartDate *string
	// Accounts is the comma-separated list of accounts whose logs the tables
	// cover (account_partition). Required.
	Accounts *string
	// VpcIds are the VPCs whose DNS query logs the DNS table covers
	// (vpc_partition). Required.
	VpcIds []*string
	// Queries become Athena named queries in the workgroup.
	Queries []NamedQuery
}

// SecurityAnalytics is the workgroup, its results bucket, the catalog and
// the named queries.
type SecurityAnalytics struct {
	constructs.Construct
	ResultsBucket awss3.Bucket
	WorkGroup     awsathena.CfnWorkGroup
	Database      awsglue.CfnDatabase
	// Tables by table name.
	Tables map[string]awsglue.CfnTable
	// NamedQueries by query name.
	NamedQueries map[string]awsathena.CfnNamedQuery
}

// NewSecurityAnalytics creates the analytics resources.
func NewSecurityAnalytics(scope constructs.Construct, id string, props *SecurityAnalyticsProps) *SecurityAnalytics {
	if props == nil || props.Archive == nil || props.StartDate == nil || props.Accounts == nil || len(props.VpcIds) == 0 {
		panic(fmt.Sprintf("analytics %s: Archive, StartDate, Accounts and VpcIds are required", id))
	}
	engine := props.EngineVersion
	if engine == nil {
		engine = jsii.String(DefaultEngineVersion)
	}
	c := constructs.NewConstruct(scope, &id)
	stack := awscdk.Stack_Of(c)
	a := &SecurityAnalytics{Construct: c, Tables: map[string]awsglue.CfnTable{}, NamedQueries: map[string]awsathena.CfnNamedQuery{}}

	resultsProps := logarchive.HardenedBucketProps()
	resultsProps.ServerAccessLogsBucket = props.Archive.AccessLogsBucket
	resultsProps.ServerAccessLogsPrefix = jsii.String("athena-results/")
	a.ResultsBucket = awss3.NewBucket(c, jsii.String("ResultsBucket"), resultsProps)

	a.WorkGroup = awsathena.NewCfnWorkGroup(c, jsii.String("WorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(WorkGroupName),
		Description: jsii.String("Incident response workshop: queries over CloudTrail, VPC Flow and DNS logs"),
		State:       jsii.String("ENABLED"),
		// Deleting the stack deletes the workgroup with its saved queries.
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			EngineVersion:                   &awsathena.CfnWorkGroup_EngineVersionProperty{SelectedEngineVersion: engine},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation:          awscdk.Fn_Sub(jsii.String("s3://${Bucket}/"), &map[string]*string{"Bucket": a.ResultsBucket.BucketName()}),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{EncryptionOption: jsii.String("SSE_S3")},
			},
		},
	})

	a.Database = awsglue.NewCfnDatabase(c, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: stack.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(logschema.Database),
			Description: jsii.String("Incident response workshop: tables over the central log bucket"),
		},
	})

	enums := map[string]*string{
		logschema.RegionPartition:  jsii.String(strings.Join(CommercialRegions(), ",")),
		logschema.AccountPartition: props.Accounts,
		logschema.VPCPartition:     awscdk.Fn_Join(jsii.String(","), &props.VpcIds),
	}
	for _, t := range logschema.Tables() {
		a.Tables[t.Name] = a.newTable(t, props.Archive.Bucket, props.StartDate, enums)
	}

	checkQueries(id, props.Queries)
	for _, q := range props.Queries {
		nq := awsathena.NewCfnNamedQuery(c, jsii.String(q.LogicalID()), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(q.Name),
			Description: jsii.String(q.Description),
			Database:    a.Database.Ref(),
			WorkGroup:   a.WorkGroup.Ref(),
			QueryString: jsii.String(q.SQL),
		})
		// The queries name the tables; create them first.
		for _, t := range a.Tables {
			nq.Node().AddDependency(t)
		}
		a.NamedQueries[q.Name] = nq
	}
	return a
}

func (a *SecurityAnalytics) newTable(t logschema.Table, bucket awss3.IBucket, startDate *string, enums map[string]*string) awsglue.CfnTable {
	params := map[string]*string{
		"EXTERNAL":                  jsii.String("TRUE"),
		"projection.enabled":        jsii.String("true"),
		"storage.location.template": jsii.String("s3://" + *bucket.BucketName() + "/" + t.PathTemplate),
	}
	for k, v := range t.Parameters {
		params[k] = jsii.String(v)
	}
	var keys []*awsglue.CfnTable_ColumnProperty
	for _, p := range t.PartitionKeys {
		keys = append(keys, column(p.Column))
		prefix := "projection." + p.Name + "."
		switch p.Projection {
		case logschema.ProjectDate:
			params[prefix+"type"] = jsii.String("date")
			params[prefix+"format"] = jsii.String(logschema.DateFormat)
			params[prefix+"range"] = jsii.String(*startDate + ",NOW")
			params[prefix+"interval"] = jsii.String("1")
			params[prefix+"interval.unit"] = jsii.String("DAYS")
		case logschema.ProjectEnum:
			params[prefix+"type"] = jsii.String("enum")
			params[prefix+"values"] = enums[p.Name]
		}
	}
	cols := make([]*awsglue.CfnTable_ColumnProperty, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = column(col)
	}
	serdeParams := map[string]*string{}
	for k, v := range t.SerDeParams {
		serdeParams[k] = jsii.String(v)
	}
	table := awsglue.NewCfnTable(a.Construct, jsii.String(pascal(t.Name)+"Table"), &awsglue.CfnTableProps{
		CatalogId:    a.Database.CatalogId(),
		DatabaseName: a.Database.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(t.Name),
			Description:   jsii.String(t.Description),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    &params,
			PartitionKeys: &keys,
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      &cols,
				Location:     jsii.String("s3://" + *bucket.BucketName() + "/" + t.LocationPrefix()),
				InputFormat:  jsii.String(t.InputFormat),
				OutputFormat: jsii.String(t.OutputFormat),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String(t.SerDe),
					Parameters:           &serdeParams,
				},
			},
		},
	})
	return table
}

func column(c logschema.Column) *awsglue.CfnTable_ColumnProperty {
	col := &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type.Hive())}
	if c.Comment != "" {
		col.Comment = jsii.String(c.Comment)
	}
	return col
}

// CommercialRegions lists the regions of the commercial AWS partition ("aws")
// that CDK's region facts know, sorted. It grows with the pinned CDK
// version, so the projection's region enum does not go stale.
func CommercialRegions() []string {
	var out []string
	for _, r := range *regioninfo.RegionInfo_Regions() {
		if p := r.Partition(); p != nil && *p == "aws" {
			out = append(out, *r.Name())
		}
	}
	sort.Strings(out)
	return out
}
