package analytics_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

type built struct {
	logs, accessLogs awss3.Bucket
	// soc has its own names and a named query; defaults has every default
	// and brings its results bucket.
	soc, defaults  *analytics.SecurityAnalytics
	analyst, admin awsiam.Role
	// key encrypts soc's results.
	key awskms.Key
}

var query = analytics.NamedQuery{Name: "triage/01_new_keys", Description: "Access keys created", SQL: "SELECT 1\n"}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.accessLogs = awss3.NewBucket(stack, jsii.String("AccessLogs"), nil)
	b.logs = awss3.NewBucket(stack, jsii.String("Logs"), nil)
	b.key = awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	b.soc = analytics.NewSecurityAnalytics(stack, "Soc", &analytics.SecurityAnalyticsProps{
		LogBucket:        b.logs,
		ResultsKey:       b.key,
		AccessLogsBucket: b.accessLogs,
		WorkGroupName:    "soc",
		DatabaseName:     "soc_logs",
		EngineVersion:    jsii.String("AUTO"),
		StartDate:        jsii.String("2025/06/01"),
		Accounts:         jsii.String("111122223333,444455556666"),
		VpcIds:           []*string{jsii.String("vpc-1"), jsii.String("vpc-2")},
		Queries:          []analytics.NamedQuery{query},
	})
	b.defaults = analytics.NewSecurityAnalytics(stack, "Defaults", &analytics.SecurityAnalyticsProps{
		LogBucket:     b.logs,
		ResultsBucket: awss3.Bucket_FromBucketName(stack, jsii.String("Results"), jsii.String("team-athena-results")),
		StartDate:     jsii.String("2026/01/01"),
		VpcIds:        []*string{jsii.String("vpc-3")},
	})
	principal := awsiam.NewAccountRootPrincipal()
	b.analyst = awsiam.NewRole(stack, jsii.String("Analyst"), &awsiam.RoleProps{AssumedBy: principal})
	b.soc.GrantQuery(b.analyst)
	b.admin = awsiam.NewRole(stack, jsii.String("Admin"), &awsiam.RoleProps{AssumedBy: principal})
	b.soc.GrantAdminister(b.admin)
	return b
}}

func TestWorkgroupEnforcesEncryptedResultsAndMetrics(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	workgroup := func(name string, engine, bucket any, encryption map[string]any) map[string]any {
		return map[string]any{
			"Name":                  name,
			"State":                 "ENABLED",
			"RecursiveDeleteOption": true,
			"WorkGroupConfiguration": map[string]any{
				"EnforceWorkGroupConfiguration":   true,
				"PublishCloudWatchMetricsEnabled": true,
				"EngineVersion":                   map[string]any{"SelectedEngineVersion": engine},
				"ResultConfiguration": map[string]any{
					"OutputLocation":          map[string]any{"Fn::Sub": []any{"s3://${Bucket}/", map[string]any{"Bucket": bucket}}},
					"EncryptionConfiguration": encryption,
				},
			},
		}
	}
	cdktest.Assert(t, "named workgroup", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"),
			assertions.Match_ObjectLike(workgroupPtr(workgroup("soc", "AUTO", cdktest.Ref(b.soc.ResultsBucket),
				map[string]any{"EncryptionOption": "SSE_KMS", "KmsKey": cdktest.GetAtt(b.key, "Arn")}))))
	})
	cdktest.Assert(t, "default workgroup with a brought results bucket", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"),
			assertions.Match_ObjectLike(workgroupPtr(workgroup(analytics.DefaultWorkGroupName, analytics.DefaultEngineVersion, "team-athena-results",
				map[string]any{"EncryptionOption": "SSE_S3"}))))
		tmpl.ResourceCountIs(jsii.String("AWS::Athena::WorkGroup"), jsii.Number(2))
	})
	cdktest.Assert(t, "results bucket hardened, logging to the access log bucket", func() {
		// Logs, AccessLogs and Soc's results bucket; Defaults brought its own.
		tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(3))
		tmpl.HasResource(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"LoggingConfiguration": map[string]any{
					"DestinationBucketName": cdktest.Ref(b.accessLogs),
					"LogFilePrefix":         analytics.DefaultResultsAccessLogsPrefix,
				},
				"OwnershipControls":       map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cdktest.GetAtt(b.key, "Arn")},
					"BucketKeyEnabled":              true,
				}}},
			}),
		}))
	})
}

func workgroupPtr(m map[string]any) *map[string]any { return &m }

// TestTablesRenderTheSchemaDefinedInGo pins each Glue table to logschema:
// columns with types in order, partition keys and their projection, SerDe,
// formats and location, in the database the props name.
func TestTablesRenderTheSchemaDefinedInGo(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "database", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Glue::Database"), map[string]any{
			"CatalogId":     map[string]any{"Ref": "AWS::AccountId"},
			"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": "soc_logs"}),
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Glue::Database"), map[string]any{
			"CatalogId":     map[string]any{"Ref": "AWS::AccountId"},
			"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": analytics.DefaultDatabaseName}),
		})
	})
	location := func(path string) map[string]any {
		return map[string]any{"Fn::Join": []any{"", []any{"s3://", cdktest.Ref(b.logs), "/" + path}}}
	}
	columns := func(cols []logschema.Column) []any {
		var out []any
		for _, c := range cols {
			col := map[string]any{"Name": c.Name, "Type": c.Type.Hive()}
			if c.Comment != "" {
				col["Comment"] = c.Comment
			}
			out = append(out, col)
		}
		return out
	}
	for _, table := range logschema.Tables() {
		t.Run(table.Name, func(t *testing.T) {
			params := map[string]any{
				"EXTERNAL":                  "TRUE",
				"projection.enabled":        "true",
				"storage.location.template": location(table.PathTemplate),
			}
			for k, v := range table.Parameters {
				params[k] = v
			}
			var keys []logschema.Column
			for _, k := range table.PartitionKeys {
				keys = append(keys, k.Column)
				prefix := "projection." + k.Name + "."
				switch k.Projection {
				case logschema.ProjectDate:
					params[prefix+"type"] = "date"
					params[prefix+"format"] = "yyyy/MM/dd"
					params[prefix+"range"] = "2025/06/01,NOW"
					params[prefix+"interval"] = "1"
					params[prefix+"interval.unit"] = "DAYS"
				case logschema.ProjectEnum:
					params[prefix+"type"] = "enum"
					params[prefix+"values"] = map[string]string{
						logschema.RegionPartition:  strings.Join(analytics.CommercialRegions(), ","),
						logschema.AccountPartition: "111122223333,444455556666",
						logschema.VPCPartition:     "vpc-1,vpc-2",
					}[k.Name]
				default:
					t.Fatalf("partition key %s has no projection the test knows", k.Name)
				}
			}
			serde := map[string]any{"SerializationLibrary": table.SerDe, "Parameters": map[string]any{}}
			for k, v := range table.SerDeParams {
				serde["Parameters"].(map[string]any)[k] = v
			}
			cdktest.Assert(t, "table", func() {
				tmpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), map[string]any{
					"CatalogId":    map[string]any{"Ref": "AWS::AccountId"},
					"DatabaseName": cdktest.Ref(b.soc.Database),
					"TableInput": map[string]any{
						"Name":          table.Name,
						"Description":   table.Description,
						"TableType":     "EXTERNAL_TABLE",
						"Parameters":    params,
						"PartitionKeys": columns(keys),
						"StorageDescriptor": map[string]any{
							"Columns":      columns(table.Columns),
							"Location":     location(table.LocationPrefix()),
							"InputFormat":  table.InputFormat,
							"OutputFormat": table.OutputFormat,
							"SerdeInfo":    serde,
						},
					},
				})
			})
		})
	}
	cdktest.Assert(t, "default account enum is this account", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), assertions.Match_ObjectLike(&map[string]any{
			"DatabaseName": cdktest.Ref(b.defaults.Database),
			"TableInput": assertions.Match_ObjectLike(&map[string]any{
				"Name": logschema.CloudTrailTable,
				"Parameters": assertions.Match_ObjectLike(&map[string]any{
					"projection." + logschema.AccountPartition + ".values": map[string]any{"Ref": "AWS::AccountId"},
				}),
			}),
		}))
	})
}

func TestRegionEnumComesFromCDKRegionFacts(t *testing.T) {
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
	if !slices.IsSorted(regions) {
		t.Error("regions are not sorted: the template would change with map order")
	}
}

func TestNamedQueriesLiveInTheWorkgroupAndWaitForTheTables(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	var ids []string
	for _, table := range logschema.Tables() {
		ids = append(ids, cdktest.LogicalID(b.soc.Tables[table.Name]))
	}
	slices.Sort(ids) // CloudFormation's DependsOn, as CDK writes it
	var tables []any
	for _, id := range ids {
		tables = append(tables, id)
	}
	cdktest.Assert(t, "named query", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::Athena::NamedQuery"), jsii.Number(1))
		tmpl.HasResource(jsii.String("AWS::Athena::NamedQuery"), map[string]any{
			"Type": "AWS::Athena::NamedQuery",
			"Properties": map[string]any{
				"Name":        query.Name,
				"Description": query.Description,
				"QueryString": query.SQL,
				"Database":    cdktest.Ref(b.soc.Database),
				"WorkGroup":   cdktest.Ref(b.soc.WorkGroup),
			},
			"DependsOn": assertions.Match_ArrayWith(&tables),
		})
	})
	if id := cdktest.LogicalID(b.soc.NamedQueries[query.Name]); !strings.HasPrefix(id, "Soc"+query.LogicalID()) {
		t.Errorf("named query logical ID %s is not derived from %s", id, query.LogicalID())
	}
}

func arn(format string) map[string]any { return map[string]any{"Fn::Sub": format} }

// TestGrantQueryCoversTheWorkgroupCatalogTablesAndResultsOnly pins the whole
// policy GrantQuery writes: each statement names this construct's own
// workgroup, database, tables and results bucket.
func TestGrantQueryCoversTheWorkgroupCatalogTablesAndResultsOnly(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	glue := "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
	results := cdktest.GetAtt(b.soc.ResultsBucket, "Arn")
	statement := func(actions []any, resource any) map[string]any {
		return map[string]any{"Effect": "Allow", "Action": actions, "Resource": resource}
	}
	cdktest.Assert(t, "analyst policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.analyst)},
			"PolicyDocument": map[string]any{"Statement": []any{
				statement([]any{"athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
					"athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:ListQueryExecutions",
					"athena:BatchGetQueryExecution", "athena:GetWorkGroup",
					"athena:ListNamedQueries", "athena:GetNamedQuery", "athena:BatchGetNamedQuery"},
					arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/soc")),
				statement([]any{"athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase", "athena:ListTableMetadata", "athena:GetTableMetadata"},
					arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:datacatalog/AwsDataCatalog")),
				statement([]any{"glue:GetDatabase", "glue:GetDatabases"},
					[]any{arn(glue + "catalog"), arn(glue + "database/soc_logs")}),
				statement([]any{"glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"},
					[]any{arn(glue + "catalog"), arn(glue + "database/soc_logs"), arn(glue + "table/soc_logs/*")}),
				statement([]any{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, results),
				statement([]any{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
					map[string]any{"Fn::Sub": []any{"${Arn}/*", map[string]any{"Arn": results}}}),
				throughS3([]any{"kms:GenerateDataKey", "kms:Decrypt"}, cdktest.GetAtt(b.key, "Arn")),
			}},
		}))
	})
	// Athena reads and writes results with the caller's permissions: the
	// key's policy must name the caller, since it is what admits a principal.
	cdktest.Assert(t, "key policy names the analyst and the admin", func() {
		for _, role := range []awsiam.Role{b.analyst, b.admin} {
			tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), assertions.Match_ObjectLike(&map[string]any{
				"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
					"Effect": "Allow", "Principal": map[string]any{"AWS": cdktest.GetAtt(role, "Arn")},
					"Action": []any{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": "*",
					"Condition": throughS3(nil, nil)["Condition"],
				}})}),
			}))
		}
	})
}

// throughS3 is an Allow statement of actions on resource when S3 calls KMS.
func throughS3(actions []any, resource any) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": actions, "Resource": resource,
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": []any{map[string]any{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}}}
}

func TestGrantAdministerManagesAthenaAndGlueInThisAccountAndRegion(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	resources := assertions.NewCapture(nil)
	cdktest.Assert(t, "admin policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(b.admin)},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Action":   assertions.Match_ArrayWith(&[]any{"athena:CreateWorkGroup", "athena:DeleteWorkGroup", "athena:StartQueryExecution"}),
					"Resource": arn("arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/*"),
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Action":   []any{"athena:ListWorkGroups", "athena:ListDataCatalogs", "athena:ListEngineVersions"},
					"Resource": "*",
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Action":   assertions.Match_ArrayWith(&[]any{"glue:CreateTable", "glue:BatchCreatePartition", "glue:GetTable"}),
					"Resource": resources,
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Action": []any{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
				}),
			})},
		}))
	})
	if t.Failed() {
		return
	}
	glue := "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:"
	got := fmt.Sprint(*resources.AsArray())
	want := fmt.Sprint([]any{arn(glue + "catalog"), arn(glue + "database/*"), arn(glue + "table/*/*")})
	if got != want {
		t.Errorf("Glue table administration on %s, want %s", got, want)
	}
}

func TestMissingOrBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	analytics.NewSecurityAnalytics(stack, "Nil", nil)
	analytics.NewSecurityAnalytics(stack, "BadNames", &analytics.SecurityAnalyticsProps{
		LogBucket: awss3.NewBucket(stack, jsii.String("Logs"), nil), StartDate: jsii.String("2026/01/01"), VpcIds: []*string{jsii.String("vpc-1")},
		WorkGroupName: "soc workgroup", DatabaseName: "SOC-Logs",
	})
	ok := analytics.NamedQuery{Name: "a/01_ok", Description: strings.Repeat("d", analytics.MaxDescriptionBytes), SQL: strings.Repeat("x", analytics.MaxQueryBytes)}
	analytics.NewSecurityAnalytics(stack, "BadQueries", &analytics.SecurityAnalyticsProps{
		LogBucket: awss3.NewBucket(stack, jsii.String("Logs2"), nil), StartDate: jsii.String("2026/01/01"), VpcIds: []*string{jsii.String("vpc-1")},
		Queries: []analytics.NamedQuery{
			ok,
			{Name: "a/02_long", Description: strings.Repeat("d", analytics.MaxDescriptionBytes+1), SQL: "SELECT 1"},
			{Name: "a/03_big", SQL: strings.Repeat("x", analytics.MaxQueryBytes+1)},
			{Name: "a/04_empty", SQL: " \n"},
		},
	})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/Nil] SecurityAnalyticsProps.LogBucket is required",
		"[Bad/Nil] SecurityAnalyticsProps.StartDate is required",
		"[Bad/Nil] SecurityAnalyticsProps.VpcIds is required",
		`[Bad/BadNames] SecurityAnalyticsProps.WorkGroupName is "soc workgroup"`,
		`[Bad/BadNames] SecurityAnalyticsProps.DatabaseName is "SOC-Logs"`,
		"[Bad/BadQueries] SecurityAnalyticsProps.Queries has query a/02_long with a Description of 1025 bytes; Athena takes at most 1024",
		"[Bad/BadQueries] SecurityAnalyticsProps.Queries has query a/03_big with SQL of 262145 bytes; Athena takes at most 262144",
		"[Bad/BadQueries] SecurityAnalyticsProps.Queries has query a/04_empty with empty SQL",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
	if strings.Contains(msg, "a/01_ok") {
		t.Error("a query within Athena's limits is reported")
	}
}

// ExampleNewSecurityAnalytics makes a bucket of logs queryable in Athena and
// lets a role run queries.
func ExampleNewSecurityAnalytics() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Analytics"), nil)
	logs := awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	a := analytics.NewSecurityAnalytics(stack, "Analytics", &analytics.SecurityAnalyticsProps{
		LogBucket: logs,
		StartDate: jsii.String("2026/01/01"),
		VpcIds:    []*string{jsii.String("vpc-0123456789abcdef0")},
	})
	analyst := awsiam.NewRole(stack, jsii.String("Analyst"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	a.GrantQuery(analyst)

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::Athena::WorkGroup", "AWS::Glue::Database", "AWS::Glue::Table"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::Athena::WorkGroup 1
	// AWS::Glue::Database 1
	// AWS::Glue::Table 3
}
