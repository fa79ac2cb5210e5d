// Package analytics provides security analytics over a log bucket: an Athena
// workgroup with its own encrypted results bucket (under a customer managed
// KMS key when given one), a Glue database with one
// table per log source (defined in package logschema) using partition
// projection, so no crawler and no MSCK REPAIR are needed, saved queries as
// Athena named queries, and the grant that lets a responder query them.
//
// Athena and Glue have no stable L2 constructs in aws-cdk-lib, so the
// workgroup, database, tables and named queries are Cfn resources.
package analytics

import (
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/regioninfo"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/flags"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/keypolicy"
	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

// Defaults of SecurityAnalyticsProps: the workshop's names, which its
// playbooks, roles and users refer to.
const (
	DefaultWorkGroupName = "ir-workshop"
	DefaultDatabaseName  = logschema.Database
	// DefaultEngineVersion is Athena's current engine.
	DefaultEngineVersion = "Athena engine version 3"
	// DefaultResultsAccessLogsPrefix is the key prefix of the results
	// bucket's server access logs.
	DefaultResultsAccessLogsPrefix = "athena-results/"
)

// dataCatalog is the Glue Data Catalog as Athena names it.
const dataCatalog = "AwsDataCatalog"

// What Athena and Glue accept as names.
var (
	workGroupName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	databaseName  = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
)

// SecurityAnalyticsProps configures a SecurityAnalytics.
type SecurityAnalyticsProps struct {
	// LogBucket holds the logs the tables read, under AWSLogs/, for example
	// a logarchive.LogArchive's Bucket. Required.
	LogBucket awss3.IBucket
	// ResultsBucket holds query results. Default: a new hardened bucket.
	ResultsBucket awss3.IBucket
	// ResultsKey encrypts query results: the workgroup writes them with
	// SSE-KMS under it, and the results bucket this construct creates uses
	// it (with S3 Bucket Keys) as its default encryption. A customer
	// managed key whose policy the grants may add to, such as a
	// logarchive.LogArchive's Key: results are copies of the evidence.
	// Default: none, SSE-S3.
	ResultsKey awskms.IKey
	// AccessLogsBucket receives the server access logs of the results bucket
	// this construct creates, for example a logarchive.LogArchive's
	// AccessLogsBucket. Default: none (cdk-nag's AwsSolutions-S1 then
	// reports the results bucket).
	AccessLogsBucket awss3.IBucket
	// WorkGroupName names the Athena workgroup. Default DefaultWorkGroupName.
	WorkGroupName string
	// DatabaseName names the Glue database of the tables. Default
	// DefaultDatabaseName.
	DatabaseName string
	// EngineVersion is the workgroup's selected engine version, for example a
	// template parameter's value. Default DefaultEngineVersion.
	EngineVersion *string
	// StartDate is the first day of date_partition, yyyy/MM/dd. Required.
	StartDate *string
	// Accounts is the comma-separated list of accounts whose logs the tables
	// cover (account_partition). Default: this stack's account.
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
	ResultsBucket awss3.IBucket
	// ResultsKey encrypts the query results; nil for SSE-S3.
	ResultsKey awskms.IKey
	WorkGroup  awsathena.CfnWorkGroup
	Database   awsglue.CfnDatabase
	// Tables by table name.
	Tables map[string]awsglue.CfnTable
	// NamedQueries by query name.
	NamedQueries map[string]awsathena.CfnNamedQuery

	workGroupName string
	databaseName  string
}

// NewSecurityAnalytics creates the analytics resources. A missing required
// field or an invalid name stops synthesis with a message that names it.
func NewSecurityAnalytics(scope constructs.Construct, id string, props *SecurityAnalyticsProps) *SecurityAnalytics {
	if props == nil {
		props = &SecurityAnalyticsProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	flags.AccessLogsByBucketPolicy(c)
	a := &SecurityAnalytics{Construct: c, Tables: map[string]awsglue.CfnTable{}, NamedQueries: map[string]awsathena.CfnNamedQuery{},
		workGroupName: orDefault(props.WorkGroupName, DefaultWorkGroupName),
		databaseName:  orDefault(props.DatabaseName, DefaultDatabaseName),
	}
	problems := validate.Problems{Props: "SecurityAnalyticsProps"}
	problems.Require(props.LogBucket == nil, "LogBucket", "the bucket whose logs the tables read")
	problems.Require(props.StartDate == nil, "StartDate", "the first day (yyyy/MM/dd) the tables cover")
	problems.Require(len(props.VpcIds) == 0, "VpcIds", "the VPCs whose DNS query logs the DNS table covers")
	problems.Pattern("WorkGroupName", a.workGroupName, workGroupName, "1 to 128 letters, digits, '.', '-' or '_'")
	problems.Pattern("DatabaseName", a.databaseName, databaseName, "1 to 255 lower-case letters, digits or '_'")
	for _, q := range props.Queries {
		q.check(&problems)
	}
	if problems.Stop(c) {
		return a
	}
	engine := props.EngineVersion
	if engine == nil {
		engine = jsii.String(DefaultEngineVersion)
	}
	accounts := props.Accounts
	if accounts == nil {
		accounts = awscdk.Aws_ACCOUNT_ID()
	}
	stack := awscdk.Stack_Of(c)

	a.ResultsBucket = props.ResultsBucket
	a.ResultsKey = props.ResultsKey
	if a.ResultsBucket == nil {
		resultsProps := logarchive.HardenedBucketProps()
		if props.AccessLogsBucket != nil {
			resultsProps.ServerAccessLogsBucket = props.AccessLogsBucket
			resultsProps.ServerAccessLogsPrefix = jsii.String(DefaultResultsAccessLogsPrefix)
		}
		if a.ResultsKey != nil {
			resultsProps.Encryption = awss3.BucketEncryption_KMS
			resultsProps.EncryptionKey = a.ResultsKey
			resultsProps.BucketKeyEnabled = jsii.Bool(true)
		}
		a.ResultsBucket = logarchive.NewHardenedBucket(c, "ResultsBucket", resultsProps)
	}
	encryption := &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{EncryptionOption: jsii.String("SSE_S3")}
	if a.ResultsKey != nil {
		encryption = &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{EncryptionOption: jsii.String("SSE_KMS"), KmsKey: a.ResultsKey.KeyArn()}
	}

	a.WorkGroup = awsathena.NewCfnWorkGroup(c, jsii.String("WorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(a.workGroupName),
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
				EncryptionConfiguration: encryption,
			},
		},
	})

	a.Database = awsglue.NewCfnDatabase(c, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: stack.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(a.databaseName),
			Description: jsii.String("Incident response workshop: tables over the central log bucket"),
		},
	})

	enums := map[string]*string{
		logschema.RegionPartition:  jsii.String(strings.Join(CommercialRegions(), ",")),
		logschema.AccountPartition: accounts,
		logschema.VPCPartition:     awscdk.Fn_Join(jsii.String(","), &props.VpcIds),
	}
	for _, t := range logschema.Tables() {
		a.Tables[t.Name] = a.newTable(t, props.LogBucket, props.StartDate, enums)
	}

	// Each value read and each call below is a round trip through jsii:
	// read the references once, and add a query's dependencies in one call.
	database, workGroup := a.Database.Ref(), a.WorkGroup.Ref()
	tables := make([]constructs.IDependable, 0, len(a.Tables))
	for _, t := range a.Tables {
		tables = append(tables, t)
	}
	for _, q := range props.Queries {
		nq := awsathena.NewCfnNamedQuery(c, jsii.String(q.LogicalID()), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(q.Name),
			Description: jsii.String(q.Description),
			Database:    database,
			WorkGroup:   workGroup,
			QueryString: jsii.String(q.SQL),
		})
		// The queries name the tables; create them first.
		nq.Node().AddDependency(tables...)
		a.NamedQueries[q.Name] = nq
	}
	return a
}

func orDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}

// arn is an ARN in this stack's partition, region and account; resource is
// the part after the account, such as "workgroup/NAME".
func arn(service, resource string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:"+service+":${AWS::Region}:${AWS::AccountId}:"+resource), nil)
}

// WorkGroupArn is the workgroup's ARN.
func (a *SecurityAnalytics) WorkGroupArn() *string {
	return arn("athena", "workgroup/"+a.workGroupName)
}

// Athena actions on a workgroup that running saved and new queries takes.
var queryActions = []string{
	"athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
	"athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:ListQueryExecutions",
	"athena:BatchGetQueryExecution", "athena:GetWorkGroup",
	"athena:ListNamedQueries", "athena:GetNamedQuery", "athena:BatchGetNamedQuery",
}

// Athena actions on the data catalog that browsing databases and tables
// takes.
var catalogReadActions = []string{
	"athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
	"athena:ListTableMetadata", "athena:GetTableMetadata",
}

// Glue actions that reading a database and its table definitions and
// partitions takes.
var (
	glueDatabaseReadActions = []string{"glue:GetDatabase", "glue:GetDatabases"}
	glueTableReadActions    = []string{
		"glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
	}
)

// GrantQuery lets grantee run queries, saved or new, in the workgroup; browse
// the data catalog; read the database, its tables' definitions and their
// partitions; and read and write query results. Reading the logs the tables
// point at takes read access to the log bucket as well (for example
// logarchive.LogArchive's GrantRead).
//
// A Glue action on a table is authorized on the catalog, the database and
// the table, and one on a database on the catalog and the database, so each
// statement names all of them.
func (a *SecurityAnalytics) GrantQuery(grantee awsiam.IGrantable) awsiam.Grant {
	catalog := arn("glue", "catalog")
	database := arn("glue", "database/"+a.databaseName)
	tables := arn("glue", "table/"+a.databaseName+"/*")
	grant := grantOn(grantee, queryActions, a.WorkGroupArn())
	grant = grant.Combine(grantOn(grantee, catalogReadActions, arn("athena", "datacatalog/"+dataCatalog)))
	grant = grant.Combine(grantOn(grantee, glueDatabaseReadActions, catalog, database))
	grant = grant.Combine(grantOn(grantee, glueTableReadActions, catalog, database, tables))
	return grant.Combine(a.GrantReadWriteResults(grantee))
}

// GrantReadWriteResults lets grantee list the results bucket and read, write
// and upload query results in it, but not delete them. Under a ResultsKey it
// also lets grantee encrypt and decrypt with the key, in the key's policy,
// when S3 does it for grantee (Athena reads and writes results with the
// caller's permissions).
func (a *SecurityAnalytics) GrantReadWriteResults(grantee awsiam.IGrantable) awsiam.Grant {
	list := grantOn(grantee, []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, a.ResultsBucket.BucketArn())
	objects := awscdk.Fn_Sub(jsii.String("${Arn}/*"), &map[string]*string{"Arn": a.ResultsBucket.BucketArn()})
	grant := list.Combine(grantOn(grantee, []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}, objects))
	if a.ResultsKey != nil {
		grant = grant.Combine(keypolicy.GrantThrough(a.Construct, a.ResultsKey, grantee, []string{"s3"}, "kms:GenerateDataKey", "kms:Decrypt"))
	}
	return grant
}

// GrantAdminister makes grantee an Athena administrator of this account and
// region: it may create, change and delete any workgroup, named query, data
// catalog, Glue database, table and partition, whose names are not known in
// advance, and read and write this construct's query results. Reading the
// logs takes read access to the log bucket as well.
func (a *SecurityAnalytics) GrantAdminister(grantee awsiam.IGrantable) awsiam.Grant {
	grant := grantOn(grantee, append([]string{
		"athena:CreateWorkGroup", "athena:UpdateWorkGroup", "athena:DeleteWorkGroup",
		"athena:CreateNamedQuery", "athena:UpdateNamedQuery", "athena:DeleteNamedQuery",
		"athena:TagResource", "athena:UntagResource", "athena:ListTagsForResource",
	}, queryActions...), arn("athena", "workgroup/*"))
	grant = grant.Combine(grantOn(grantee, append([]string{
		"athena:CreateDataCatalog", "athena:UpdateDataCatalog", "athena:DeleteDataCatalog",
	}, catalogReadActions...), arn("athena", "datacatalog/*")))
	// These list calls take no resource-level permission in IAM.
	grant = grant.Combine(grantOn(grantee, []string{"athena:ListWorkGroups", "athena:ListDataCatalogs", "athena:ListEngineVersions"},
		jsii.String("*")))
	catalog := arn("glue", "catalog")
	grant = grant.Combine(grantOn(grantee, append([]string{
		"glue:CreateDatabase", "glue:UpdateDatabase", "glue:DeleteDatabase",
	}, glueDatabaseReadActions...), catalog, arn("glue", "database/*")))
	grant = grant.Combine(grantOn(grantee, append([]string{
		"glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:BatchDeleteTable",
		"glue:GetTableVersion", "glue:GetTableVersions", "glue:DeleteTableVersion", "glue:BatchDeleteTableVersion",
		"glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition",
		"glue:DeletePartition", "glue:BatchDeletePartition",
	}, glueTableReadActions...), catalog, arn("glue", "database/*"), arn("glue", "table/*/*")))
	return grant.Combine(a.GrantReadWriteResults(grantee))
}

func grantOn(grantee awsiam.IGrantable, actions []string, resources ...*string) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &resources,
	})
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
	// One jsii call for every region's partition fact, rather than a region
	// object and two property reads per region.
	var out []string
	for region, partition := range *regioninfo.RegionInfo_RegionMap(regioninfo.FactName_PARTITION()) {
		if partition != nil && *partition == "aws" {
			out = append(out, region)
		}
	}
	sort.Strings(out)
	return out
}
