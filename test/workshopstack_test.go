package test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/audittrail"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/logarchive"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

// TestConsoleUserSeesReadableParameters pins what the CloudFormation console
// shows: every parameter named by us, described, labelled and grouped.
func TestConsoleUserSeesReadableParameters(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	params := at(t, tmpl, "Parameters").(map[string]any)
	want := []string{"AlertEmail", "AlertMinimumSeverity", "AthenaEngineVersion", "BasePrincipal", "BreakGlassRequiresMfa", "InstanceImage", "LogAccountIds", "NatGateways", "ProjectionStartDate"}
	if got := keys(params); !slices.Equal(got, want) {
		t.Errorf("parameters %v, want %v (a generated name means an implicit lookup crept in)", got, want)
	}
	iface := at(t, tmpl, "Metadata", "AWS::CloudFormation::Interface")
	labels := at(t, iface, "ParameterLabels").(map[string]any)
	grouped := map[string]int{}
	for _, g := range at(t, iface, "ParameterGroups").([]any) {
		if at(t, g, "Label", "default") == "" {
			t.Errorf("group without a label: %s", compact(g))
		}
		for _, p := range at(t, g, "Parameters").([]any) {
			grouped[p.(string)]++
		}
	}
	for name, p := range params {
		if d, _ := p.(map[string]any)["Description"].(string); len(d) < 20 {
			t.Errorf("parameter %s has no real description: %q", name, d)
		}
		if _, ok := labels[name]; !ok {
			t.Errorf("parameter %s has no label", name)
		}
		if grouped[name] != 1 {
			t.Errorf("parameter %s is in %d groups, want 1", name, grouped[name])
		}
	}
	template := synthApp(t).assert["WorkshopStack"]
	cdktest.Assert(t, "InstanceImage is the public SSM path of Amazon Linux 2023", func() {
		template.HasParameter(jsii.String("InstanceImage"), assertions.Match_ObjectLike(&map[string]any{
			"Type":    "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
			"Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		}))
	})
	cdktest.Assert(t, "engine default", func() {
		template.HasParameter(jsii.String("AthenaEngineVersion"), assertions.Match_ObjectLike(&map[string]any{"Default": "Athena engine version 3"}))
	})
}

func TestParameterPatternsAcceptGoodAndRejectBadInput(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	cases := map[string]struct{ good, bad []string }{
		"ProjectionStartDate": {
			good: []string{"2026/01/01", "2025/12/31", "2024/02/29"},
			bad:  []string{"2026-01-01", "2026/1/01", "2026/13/01", "2026/00/10", "2026/01/32", "26/01/01", "2026/01/01 ", ""},
		},
		"BasePrincipal": {
			good: []string{"role/WSParticipantRole", "user/alice", "role/team/responders/Analyst", "role/a.b-c_d@e+f=g,h"},
			bad:  []string{"", "WSParticipantRole", "group/admins", "role/", "role/a b", "arn:aws:iam::111122223333:role/x", "role/a/"},
		},
		"LogAccountIds": {
			good: []string{"", "111122223333", "111122223333,444455556666"},
			bad:  []string{"11112222333", "111122223333, 444455556666", "111122223333,", "abc"},
		},
		"AlertEmail": {
			good: []string{"", "oncall@example.com", "first.last+ir@mail.example.org"},
			bad:  []string{"oncall", "oncall@example", "a@b.c, d@e.f", " oncall@example.com", "on call@example.com"},
		},
	}
	for name, c := range cases {
		p := at(t, tmpl, "Parameters", name).(map[string]any)
		pattern := regexp.MustCompile(p["AllowedPattern"].(string))
		if !pattern.MatchString(p["Default"].(string)) {
			t.Errorf("%s: the default %q fails its own pattern", name, p["Default"])
		}
		for _, v := range c.good {
			if !pattern.MatchString(v) {
				t.Errorf("%s rejects %q", name, v)
			}
		}
		for _, v := range c.bad {
			if pattern.MatchString(v) {
				t.Errorf("%s accepts %q", name, v)
			}
		}
		if d, _ := p["ConstraintDescription"].(string); d == "" {
			t.Errorf("%s has no constraint description", name)
		}
	}
}

func TestWorkshopOutputsAreDescribed(t *testing.T) {
	tmpl := synthApp(t).assert["WorkshopStack"]
	want := []string{"SecurityAnalystRoleArn", "SecurityAdminRoleArn", "SecurityBreakGlassRoleArn", "SecurityDeployRoleArn", "SimulationCredentials", "AccessLogsBucketName", "AthenaResultsBucketName", "AthenaWorkGroupName", "GlueDatabaseName", "InstanceId", "LogBucketName", "TrailName", "TrailLogGroupName", "KeyArn", "VpcId", "AlertTopicArn"}
	described := assertions.Match_ObjectLike(&map[string]any{"Description": assertions.Match_StringLikeRegexp(jsii.String(".{20,}"))})
	for _, name := range want {
		cdktest.Assert(t, name, func() { tmpl.HasOutput(jsii.String(name), described) })
	}
	cdktest.Assert(t, "every output described", func() {
		all := len(*tmpl.FindOutputs(jsii.String("*"), nil))
		if got := len(*tmpl.FindOutputs(jsii.String("*"), described)); got != all {
			t.Errorf("%d of %d outputs have a real description", got, all)
		}
	})
}

// TestLogBucketTakesLogsOfTheListedAccountsOnly evaluates the log bucket's
// policy with iamsim for LogAccountIds empty, one, two and several accounts:
// CloudTrail and log delivery of this account and of each listed account
// write under AWSLogs/{that account}/ only, and an unlisted account cannot
// write at all.
func TestLogBucketTakesLogsOfTheListedAccountsOnly(t *testing.T) {
	s := synthApp(t)
	tmpl := s.json["WorkshopStack"]
	logicalID := cdktest.LogicalID(s.app.Workshop.LogArchive.Bucket)
	bucket := "arn:aws:s3:::" + strings.ToLower(logicalID)
	const unlisted = "999988887777"
	sourceArn := map[string]string{
		logarchive.CloudTrailPrincipal:  "arn:aws:cloudtrail:us-east-1:%s:trail/management",
		logarchive.LogDeliveryPrincipal: "arn:aws:logs:us-east-1:%s:*",
	}
	for _, listed := range [][]string{
		nil,
		{"444455556666"},
		{"444455556666", testAccount},
		{"444455556666", "777788889999", "123456789012", "210987654321"},
	} {
		sim, err := iamsim.NewResolver(tmpl, iamsim.Deployment{Account: testAccount, Parameters: map[string]string{"LogAccountIds": strings.Join(listed, ",")}})
		if err != nil {
			t.Fatal(err)
		}
		var policy any
		for _, p := range resources(tmpl, "AWS::S3::BucketPolicy") {
			if equalJSON(props(p)["Bucket"], ref(logicalID)) {
				if policy, err = sim.Resolve(props(p)["PolicyDocument"]); err != nil {
					t.Fatal(err)
				}
			}
		}
		writes := func(principal, source, owner string) bool {
			t.Helper()
			ctx := map[string]string{
				"aws:SourceAccount": source, "aws:SourceArn": fmt.Sprintf(sourceArn[principal], source),
				"aws:SecureTransport": "true", "s3:x-amz-acl": "bucket-owner-full-control",
			}
			acl, err := iamsim.Allows(policy, iamsim.Request{Principal: principal, Action: "s3:GetBucketAcl", Resource: bucket, Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			put, err := iamsim.Allows(policy, iamsim.Request{Principal: principal, Action: "s3:PutObject", Resource: bucket + "/AWSLogs/" + owner + "/f.gz", Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			return acl && put
		}
		for principal := range sourceArn {
			for _, account := range append([]string{testAccount}, listed...) {
				if !writes(principal, account, account) {
					t.Errorf("LogAccountIds=%v: %s of %s cannot deliver under its own prefix", listed, principal, account)
				}
				if writes(principal, account, unlisted) {
					t.Errorf("LogAccountIds=%v: %s of %s can write under %s's prefix", listed, principal, account, unlisted)
				}
			}
			if writes(principal, unlisted, unlisted) {
				t.Errorf("LogAccountIds=%v: %s of unlisted %s can write", listed, principal, unlisted)
			}
			if len(listed) > 0 && listed[0] != testAccount && writes(principal, listed[0], testAccount) {
				t.Errorf("LogAccountIds=%v: %s of %s can write under this account's prefix", listed, principal, listed[0])
			}
		}
	}
}

// TestWorkshopKeyAdmitsItsServicesAndTheRespondersOnly evaluates the
// policy of WorkshopStack's one KMS key with iamsim, for the default
// parameters: CloudTrail for this stack's trail, CloudWatch Logs for the
// trail's log group, log delivery for this account's flow and DNS logs,
// EventBridge for the alert topic, the analyst and the admin through S3 (and
// CloudWatch Logs); no one else, not break glass, not the account's
// administrators by their own policies, who only administer the key.
func TestWorkshopKeyAdmitsItsServicesAndTheRespondersOnly(t *testing.T) {
	s := synthApp(t)
	tmpl := s.json["WorkshopStack"]
	ws := s.app.Workshop
	sim, err := iamsim.NewResolver(tmpl, iamsim.Deployment{Account: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resources(tmpl, "AWS::KMS::Key")); n != 1 {
		t.Errorf("WorkshopStack has %d KMS keys, want the one the log archive owns", n)
	}
	policy, err := sim.Resolve(props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.LogArchive.Key)).(map[string]any))["KeyPolicy"])
	if err != nil {
		t.Fatal(err)
	}
	role := func(name string) string { return "arn:aws:iam::" + testAccount + ":role/" + name }
	via := func(service string) map[string]string {
		return map[string]string{"kms:ViaService": service + "." + testRegion + ".amazonaws.com"}
	}
	trail := "arn:aws:cloudtrail:us-east-1:" + testAccount + ":trail/" + audittrail.DefaultTrailName
	group := "arn:aws:logs:us-east-1:" + testAccount + ":log-group:" + audittrail.DefaultLogGroupName
	topic := "arn:aws:sns:us-east-1:" + testAccount + ":" + alerting.DefaultTopicName
	for _, c := range []struct {
		principal, action string
		context           map[string]string
		want              bool
	}{
		{role(irroles.DefaultAnalystRoleName), "kms:Decrypt", via("s3"), true},
		{role(irroles.DefaultAnalystRoleName), "kms:Decrypt", via("logs"), true},
		{role(irroles.DefaultAnalystRoleName), "kms:GenerateDataKey", via("s3"), true},
		{role(irroles.DefaultAnalystRoleName), "kms:Decrypt", nil, false},
		{role(irroles.DefaultAdminRoleName), "kms:Decrypt", via("s3"), true},
		{role(irroles.DefaultBreakGlassRoleName), "kms:Decrypt", via("s3"), false},
		{role(irroles.DefaultBreakGlassRoleName), "kms:PutKeyPolicy", nil, true},
		{role(irroles.DefaultDeployRoleName), "kms:Decrypt", via("s3"), false},
		{role("WSParticipantRole"), "kms:Decrypt", via("s3"), false},
		{"arn:aws:iam::" + testAccount + ":user/" + workshop.CredentialExposureUser, "kms:Decrypt", via("s3"), false},
		{"arn:aws:iam::444455556666:role/" + irroles.DefaultAnalystRoleName, "kms:Decrypt", via("s3"), false},
		{"cloudtrail.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceArn": trail, "kms:EncryptionContext:aws:cloudtrail:arn": trail}, true},
		{"cloudtrail.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceArn": trail + "-2", "kms:EncryptionContext:aws:cloudtrail:arn": trail + "-2"}, false},
		{"logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:logs:arn": group}, true},
		{"logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:logs:arn": group + "-2"}, false},
		{"delivery.logs.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceAccount": testAccount, "aws:SourceArn": "arn:aws:logs:us-east-1:" + testAccount + ":*"}, true},
		{"delivery.logs.amazonaws.com", "kms:GenerateDataKey", map[string]string{"aws:SourceAccount": "444455556666", "aws:SourceArn": "arn:aws:logs:us-east-1:444455556666:*"}, false},
		{"events.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:sns:topicArn": topic}, true},
		{"events.amazonaws.com", "kms:GenerateDataKey", map[string]string{"kms:EncryptionContext:aws:sns:topicArn": topic + "-2"}, false},
		{"secretsmanager.amazonaws.com", "kms:GenerateDataKey", nil, false},
	} {
		got, err := iamsim.Allows(policy, iamsim.Request{Principal: c.principal, Action: c.action, Resource: "arn:aws:kms:us-east-1:" + testAccount + ":key/k", Context: c.context})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s %s %v: allowed=%v, want %v", c.principal, c.action, c.context, got, c.want)
		}
	}
	// What the key encrypts: the log bucket, the results bucket and the
	// workgroup's results, the trail's files and log group, the alert topic.
	key := getAtt(cdktest.LogicalID(ws.LogArchive.Key), "Arn")
	for what, value := range map[string]any{
		"log bucket":      at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.LogArchive.Bucket)).(map[string]any)), "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "KMSMasterKeyID"),
		"results bucket":  at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.Analytics.ResultsBucket)).(map[string]any)), "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "KMSMasterKeyID"),
		"workgroup":       at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.Analytics.WorkGroup)).(map[string]any)), "WorkGroupConfiguration", "ResultConfiguration", "EncryptionConfiguration", "KmsKey"),
		"trail":           at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.AuditTrail.Trail)).(map[string]any)), "KMSKeyId"),
		"trail log group": at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.AuditTrail.LogGroup)).(map[string]any)), "KmsKeyId"),
		"alert topic":     at(t, props(at(t, tmpl, "Resources", cdktest.LogicalID(ws.Alerts.Topic)).(map[string]any)), "KmsMasterKeyId"),
	} {
		if !equalJSON(value, key) {
			t.Errorf("the %s is encrypted with %s, want the log archive's key", what, compact(value))
		}
	}
}

// TestNoPhysicalNameHoldsTheSynthesizedStackName keeps the committed
// templates deployable under any stack name a console user types, and twice
// in a region where names allow: no resource property but the Name tags
// that CDK derives from construct paths mentions the stack name the template
// was synthesized under. (The names that stay fixed, such as the roles', are
// in the README.)
func TestNoPhysicalNameHoldsTheSynthesizedStackName(t *testing.T) {
	for stack, tmpl := range synthApp(t).json {
		for id, r := range tmpl["Resources"].(map[string]any) {
			p := maps.Clone(props(r.(map[string]any)))
			delete(p, "Tags")
			if mentions(p, stack) {
				t.Errorf("%s: resource %s names %s in its properties: %s", stack, id, stack, compact(p))
			}
		}
	}
}
