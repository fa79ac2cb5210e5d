package irroles_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/telemetry"
)

// TestConstructsComposeInAnAppWithoutTheWorkshop builds what a platform team
// would: its own VPC and access log bucket, the log archive, trail,
// telemetry, analytics and responder roles under its own names, in a fresh
// app that knows nothing of the workshop.
func TestConstructsComposeInAnAppWithoutTheWorkshop(t *testing.T) {
	stack := cdktest.NewStack("SocStack")
	vpc := awsec2.NewVpc(stack, jsii.String("WorkloadVpc"), &awsec2.VpcProps{
		MaxAzs:              jsii.Number(1),
		NatGateways:         jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("Isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
	accessLogs := awss3.NewBucket(stack, jsii.String("OrgAccessLogs"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})

	archive := logarchive.NewLogArchive(stack, "Archive", &logarchive.LogArchiveProps{
		AccessLogsBucket: accessLogs,
		AccessLogsPrefix: "soc-archive/",
	})
	trail := audittrail.NewAuditTrail(stack, "Trail", &audittrail.AuditTrailProps{
		Bucket:            archive.Bucket,
		ExcludeDataEvents: []awss3.IBucket{accessLogs},
		TrailName:         "soc-trail",
		LogGroupName:      "/soc/cloudtrail",
	})
	telemetry.NewNetworkTelemetry(stack, "Telemetry", &telemetry.NetworkTelemetryProps{
		Vpc: vpc, Bucket: archive.Bucket, QueryLoggingName: "soc-dns",
	})
	queries := analytics.NewSecurityAnalytics(stack, "Analytics", &analytics.SecurityAnalyticsProps{
		LogBucket:        archive.Bucket,
		AccessLogsBucket: accessLogs,
		WorkGroupName:    "soc",
		DatabaseName:     "soc_logs",
		StartDate:        jsii.String("2025/01/01"),
		VpcIds:           []*string{vpc.VpcId()},
	})
	roles := irroles.NewIncidentResponseRoles(stack, "Roles", &irroles.IncidentResponseRolesProps{
		BasePrincipal:      jsii.String("role/SocLead"),
		Logs:               archive,
		Analytics:          queries,
		AnalystRoleName:    "SocAnalyst",
		AdminRoleName:      "SocAdmin",
		BreakGlassRoleName: "SocBreakGlass",
		DeployRoleName:     "SocDeployer",
		Deploy:             &irroles.DeployScope{StackNames: []string{"SocWorkloads"}},
	})

	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Assert(t, "names", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"), assertions.Match_ObjectLike(&map[string]any{"Name": "soc"}))
		tmpl.HasResourceProperties(jsii.String("AWS::Glue::Database"), assertions.Match_ObjectLike(&map[string]any{
			"DatabaseInput": assertions.Match_ObjectLike(&map[string]any{"Name": "soc_logs"}),
		}))
		for _, name := range []string{"SocAnalyst", "SocAdmin", "SocBreakGlass", "SocDeployer"} {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{"RoleName": name}))
		}
		tmpl.HasResourceProperties(jsii.String("AWS::Route53Resolver::ResolverQueryLoggingConfig"), assertions.Match_ObjectLike(&map[string]any{"Name": "soc-dns"}))
	})
	cdktest.Assert(t, "wiring", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"LoggingConfiguration": map[string]any{"DestinationBucketName": cdktest.Ref(accessLogs), "LogFilePrefix": "soc-archive/"},
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::CloudTrail::Trail"), assertions.Match_ObjectLike(&map[string]any{
			"S3BucketName": cdktest.Ref(archive.Bucket),
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), assertions.Match_ObjectLike(&map[string]any{
			"ResourceId": cdktest.Ref(vpc), "LogDestination": cdktest.GetAtt(archive.Bucket, "Arn"),
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Roles": []any{cdktest.Ref(roles.Analyst)},
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/soc"},
				}),
			})}),
		}))
	})
	if trail.Trail == nil {
		t.Error("the trail was not built")
	}

	// None of the workshop's names leaks into the app.
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	for _, workshopName := range []string{analytics.DefaultWorkGroupName, analytics.DefaultDatabaseName, audittrail.DefaultTrailName, audittrail.DefaultLogGroupName,
		irroles.DefaultAnalystRoleName, irroles.DefaultAdminRoleName, irroles.DefaultBreakGlassRoleName, irroles.DefaultDeployRoleName, "SimulationStack"} {
		if strings.Contains(string(raw), `"`+workshopName) {
			t.Errorf("the template names %s, a workshop default", workshopName)
		}
	}

	// And the test itself builds without the workshop: nothing it imports,
	// directly or through the constructs, is package workshop.
	out, err := exec.Command("go", "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasSuffix(dep, "/constructs/workshop") {
			t.Errorf("the constructs' tests depend on %s", dep)
		}
	}
}
