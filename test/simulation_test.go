package test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
	"github.com/ir-workshop/incident-response-playbooks/constructs/simprincipal"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

// secretLeaks lists how the outputs of tmpl can reveal a secret access key:
// directly (GetAtt of an access key's SecretAccessKey, inside any intrinsic),
// or through a reference to a resource that holds one (a secret, a
// parameter...) or to an access key. It returns one line per leak.
func secretLeaks(tmpl map[string]any) []string {
	all, _ := tmpl["Resources"].(map[string]any)
	holds := map[string]bool{} // resources whose properties carry a secret key
	isSource := func(v any) bool {
		ga, ok := v.(map[string]any)["Fn::GetAtt"].([]any)
		if !ok || len(ga) != 2 || ga[1] != "SecretAccessKey" {
			return false
		}
		r, _ := all[ga[0].(string)].(map[string]any)
		return r["Type"] == "AWS::IAM::AccessKey"
	}
	var walk func(v any, visit func(map[string]any))
	walk = func(v any, visit func(map[string]any)) {
		switch x := v.(type) {
		case map[string]any:
			visit(x)
			for _, c := range x {
				walk(c, visit)
			}
		case []any:
			for _, c := range x {
				walk(c, visit)
			}
		}
	}
	for id, r := range all {
		walk(r.(map[string]any)["Properties"], func(m map[string]any) {
			if isSource(m) {
				holds[id] = true
			}
		})
	}
	var leaks []string
	outputs, _ := tmpl["Outputs"].(map[string]any)
	for name, o := range outputs {
		walk(o, func(m map[string]any) {
			target := ""
			if id, ok := m["Ref"].(string); ok {
				target = id
			}
			if ga, ok := m["Fn::GetAtt"].([]any); ok {
				target = ga[0].(string)
			}
			r, _ := all[target].(map[string]any)
			switch {
			case isSource(m):
				leaks = append(leaks, name+": reads a secret access key")
			case holds[target]:
				leaks = append(leaks, name+": refers to "+target+", which holds a secret access key")
			case r["Type"] == "AWS::IAM::AccessKey":
				leaks = append(leaks, name+": refers to access key "+target)
			}
		})
	}
	sort.Strings(leaks)
	return leaks
}

func TestNoOutputCarriesASecretAccessKey(t *testing.T) {
	s := synthApp(t)
	for name, tmpl := range s.json {
		if leaks := secretLeaks(tmpl); len(leaks) > 0 {
			t.Errorf("%s outputs leak secrets:\n%s", name, strings.Join(leaks, "\n"))
		}
	}
	// The check itself finds each kind of leak.
	base := func(outputs map[string]any) map[string]any {
		return roundTrip(map[string]any{
			"Resources": map[string]any{
				"Key":   map[string]any{"Type": "AWS::IAM::AccessKey", "Properties": map[string]any{"UserName": "u"}},
				"Param": map[string]any{"Type": "AWS::SSM::Parameter", "Properties": map[string]any{"Value": getAtt("Key", "SecretAccessKey")}},
			},
			"Outputs": outputs,
		}).(map[string]any)
	}
	leaky := map[string]map[string]any{
		"direct":         {"O": map[string]any{"Value": getAtt("Key", "SecretAccessKey")}},
		"joined":         {"O": map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{"k=", getAtt("Key", "SecretAccessKey")}}}}},
		"through holder": {"O": map[string]any{"Value": getAtt("Param", "Value")}},
		"key reference":  {"O": map[string]any{"Value": ref("Key")}},
	}
	for what, outputs := range leaky {
		if len(secretLeaks(base(outputs))) == 0 {
			t.Errorf("secretLeaks misses a %s leak", what)
		}
	}
}

// TestSimulationUsersAreDeliberateAndDocumentedWeaknesses pins the policies
// SimulationStack gives its four users, broad for the first two and scoped
// to the data bucket for the workload users, and that cdk-nag's findings on
// them are suppressed with reasons that name the weakness each one is.
func TestSimulationUsersAreDeliberateAndDocumentedWeaknesses(t *testing.T) {
	s := synthApp(t)
	sim := s.app.Simulation
	tmpl := s.assert[workshop.SimulationStackName]
	everything := func(action string) map[string]any {
		return map[string]any{"Sid": "SimulationActions", "Effect": "Allow", "Action": action, "Resource": "*"}
	}
	everyResource := func(actions ...any) map[string]any {
		return map[string]any{"Sid": "SimulationActions", "Effect": "Allow", "Action": actions, "Resource": "*"}
	}
	dataBucket := cdktest.GetAtt(sim.Data.Bucket, "Arn")
	records := map[string]any{"Fn::Join": []any{"", []any{dataBucket, "/*"}}}
	cases := []struct {
		user       *simprincipal.SimulationPrincipal
		weakness   string
		statements []any
	}{
		{sim.CredentialExposure, simprincipal.DefaultWeakness, []any{everything("iam:*")}},
		{sim.CryptoMining, simprincipal.DefaultWeakness, []any{everything("ec2:*"), map[string]any{
			"Sid": "ReadAmazonLinuxAmiParameter", "Effect": "Allow", "Action": []any{"ssm:GetParameter", "ssm:GetParameters"},
			"Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}::parameter" + workshop.DefaultInstanceImage},
		}}},
		// The workload users: their job on the data bucket, and what their
		// simulation needs besides, scoped.
		{sim.S3Exfiltration, workshop.WorkloadUsersWeakness, []any{
			everything("s3:ListAllMyBuckets"),
			map[string]any{"Sid": "ManageDataBucketAccess", "Effect": "Allow", "Resource": dataBucket,
				"Action": []any{"s3:GetBucketLogging", "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:PutBucketLogging", "s3:PutBucketPolicy"}},
			map[string]any{"Sid": "StageInOwnBuckets", "Effect": "Allow", "Action": []any{"s3:CreateBucket", "s3:PutBucketTagging", "s3:PutObject"},
				"Resource": []any{
					map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::" + workshop.ExfiltrationBucketPrefix + "*"},
					map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::" + workshop.ExfiltrationBucketPrefix + "*/*"},
				}},
			map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": dataBucket},
			map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": records},
		}},
		{sim.S3Ransomware, workshop.WorkloadUsersWeakness, []any{
			everyResource("kms:CreateKey", "kms:TagResource", "s3:ListAllMyBuckets"),
			map[string]any{"Sid": "CheckDataBucketVersioning", "Effect": "Allow", "Action": "s3:GetBucketVersioning", "Resource": dataBucket},
			map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": dataBucket},
			map[string]any{"Effect": "Allow", "Action": []any{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, "Resource": records},
		}},
	}
	cdktest.Assert(t, "four users", func() { tmpl.ResourceCountIs(jsii.String("AWS::IAM::User"), jsii.Number(len(cases))) })
	for _, c := range cases {
		reason := assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness: " + regexp.QuoteMeta(c.weakness) + "[.] "))
		cdktest.Assert(t, *c.user.Node().Id(), func() {
			tmpl.HasResource(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
				"Properties": assertions.Match_ObjectLike(&map[string]any{
					"Users":          []any{cdktest.Ref(c.user.User)},
					"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": c.statements}),
				}),
				"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"id": "AwsSolutions-IAM5", "reason": reason}),
					assertions.Match_ObjectLike(&map[string]any{"id": "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess", "reason": reason}),
				})}},
			}))
		})
	}
}

// handlerActions are the IAM actions CloudFormation calls to create, read,
// update and delete each resource type SimulationStack uses, from the
// handler permissions of the CloudFormation resource provider schemas, for
// the properties our template sets. A type missing here fails the test: add
// its handler permissions, then the role's.
var handlerActions = map[string][]string{
	"AWS::IAM::User": {"iam:CreateUser", "iam:GetUser", "iam:DeleteUser", "iam:ListUserPolicies",
		"iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:GetLoginProfile", "iam:ListAccessKeys"},
	"AWS::IAM::Policy":            {"iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy"},
	"AWS::IAM::AccessKey":         {"iam:CreateAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey", "iam:DeleteAccessKey"},
	"AWS::SecretsManager::Secret": {"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"},
	"AWS::S3::Bucket":             {"s3:CreateBucket", "s3:GetBucketAcl", "s3:ListBucket", "s3:DeleteBucket"},
	"AWS::S3::BucketPolicy":       {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"},
}

// propertyActions are extra actions a property needs when it is set.
var propertyActions = map[string]map[string][]string{
	"AWS::IAM::User":              {"Tags": {"iam:TagUser", "iam:UntagUser", "iam:ListUserTags"}, "Policies": {"iam:PutUserPolicy", "iam:DeleteUserPolicy"}},
	"AWS::SecretsManager::Secret": {"Tags": {"secretsmanager:TagResource", "secretsmanager:UntagResource"}},
	"AWS::S3::Bucket": {
		"Tags":                           {"s3:PutBucketTagging", "s3:GetBucketTagging"},
		"BucketEncryption":               {"s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"},
		"VersioningConfiguration":        {"s3:PutBucketVersioning", "s3:GetBucketVersioning"},
		"PublicAccessBlockConfiguration": {"s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
		"OwnershipControls":              {"s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"},
		"LoggingConfiguration":           {"s3:PutBucketLogging", "s3:GetBucketLogging"},
	},
}

// TestDeployRoleCanDeploySimulationStackAndLittleElse derives from
// SimulationStack's template the calls deploying it makes, and checks that
// SecurityDeployRole allows each on the resource it names, and allows
// enabling GuardDuty, but not neighbouring actions.
func TestDeployRoleCanDeploySimulationStackAndLittleElse(t *testing.T) {
	s := synthApp(t)
	workshopTmpl := s.json[workshop.WorkshopStackName]
	sim := s.json[workshop.SimulationStackName]
	r := newResolver(t, workshopTmpl)
	_, stmts, _ := rolePolicy(t, workshopTmpl, irroles.DefaultDeployRoleName)

	type need struct {
		action, resource string
		context          map[string]string // the request's condition keys
	}
	guardDutyRole := fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", testAccount)
	guardDuty := map[string]string{"iam:AWSServiceName": "guardduty.amazonaws.com"}
	stackARN := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/0f1e2d3c-0000-4000-8000-000000000000", testRegion, testAccount, workshop.SimulationStackName)
	needs := []need{}
	for _, a := range []string{"CreateStack", "UpdateStack", "DeleteStack", "DescribeStacks", "DescribeStackEvents", "GetTemplate", "CreateChangeSet", "ExecuteChangeSet", "DescribeChangeSet"} {
		needs = append(needs, need{"cloudformation:" + a, stackARN, nil})
	}
	needs = append(needs, need{"cloudformation:ValidateTemplate", "*", nil})

	all := at(t, sim, "Resources").(map[string]any)
	userName := func(v any) string { // Ref to a user in the template -> its name
		id := at(t, v, "Ref").(string)
		return at(t, all[id], "Properties", "UserName").(string)
	}
	userARN := func(name string) string { return fmt.Sprintf("arn:aws:iam::%s:user/%s", testAccount, name) }
	// bucketName is the name of the template's bucket id once deployed: its
	// BucketName resolved, or the name CloudFormation makes up, the stack
	// name and the logical ID in lower case and a random suffix.
	bucketName := func(id string) string {
		if name, ok := props(all[id].(map[string]any))["BucketName"]; ok {
			return newResolver(t, sim).str(t, name)
		}
		return strings.ToLower(workshop.SimulationStackName+"-"+id) + "-1a2b3c4d5e6f"
	}
	for id, res := range all {
		typ := res.(map[string]any)["Type"].(string)
		base, ok := handlerActions[typ]
		if !ok {
			t.Errorf("%s: no known handler permissions for %s; add them to handlerActions and the deploy role", id, typ)
			continue
		}
		p := props(res.(map[string]any))
		acts := append([]string(nil), base...)
		for prop, extra := range propertyActions[typ] {
			if _, set := p[prop]; set {
				acts = append(acts, extra...)
			}
		}
		var targets []string
		switch typ {
		case "AWS::IAM::User":
			targets = []string{userARN(p["UserName"].(string))}
		case "AWS::IAM::AccessKey":
			targets = []string{userARN(userName(p["UserName"]))}
		case "AWS::IAM::Policy":
			for _, u := range at(t, p, "Users").([]any) {
				targets = append(targets, userARN(userName(u)))
			}
		case "AWS::SecretsManager::Secret":
			// Secrets Manager appends six random characters to the name.
			targets = []string{fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbC123", testRegion, testAccount, p["Name"])}
		case "AWS::S3::Bucket":
			targets = []string{"arn:aws:s3:::" + bucketName(id)}
		case "AWS::S3::BucketPolicy":
			targets = []string{"arn:aws:s3:::" + bucketName(at(t, p, "Bucket", "Ref").(string))}
		}
		for _, a := range acts {
			for _, target := range targets {
				needs = append(needs, need{a, target, nil})
			}
		}
	}
	needs = append(needs,
		need{"guardduty:CreateDetector", "*", nil},
		need{"guardduty:ListDetectors", "*", nil},
		need{"guardduty:UpdateDetector", fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/12abc34d567e8fa901bc2d34e56789f0", testRegion, testAccount), nil},
		need{"iam:CreateServiceLinkedRole", guardDutyRole, guardDuty},
	)
	for _, n := range needs {
		if !allows(t, r, stmts, n.action, n.resource, n.context) {
			t.Errorf("deploy role cannot %s on %s", n.action, n.resource)
		}
	}

	denied := []need{
		{"cloudformation:CreateStack", fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/WorkshopStack/x", testRegion, testAccount), nil},
		{"cloudformation:DeleteStack", fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/WorkshopStack/x", testRegion, testAccount), nil},
		{"iam:CreateUser", userARN("someone-else"), nil},
		{"iam:CreateAccessKey", userARN("admin"), nil},
		{"iam:AttachUserPolicy", userARN(workshop.CredentialExposureUser), nil},
		{"iam:PutRolePolicy", fmt.Sprintf("arn:aws:iam::%s:role/SecurityDeployRole", testAccount), nil},
		{"iam:CreateServiceLinkedRole", fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ec2.amazonaws.com/x", testAccount), map[string]string{"iam:AWSServiceName": "ec2.amazonaws.com"}},
		{"iam:CreateServiceLinkedRole", guardDutyRole, map[string]string{"iam:AWSServiceName": "ec2.amazonaws.com"}},
		{"secretsmanager:GetSecretValue", fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s%s-AbC123", testRegion, testAccount, simprincipal.DefaultSecretNamePrefix, workshop.CredentialExposureUser), nil},
		{"secretsmanager:CreateSecret", fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:prod/db-AbC123", testRegion, testAccount), nil},
		{"guardduty:DeleteDetector", fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/12abc34d567e8fa901bc2d34e56789f0", testRegion, testAccount), nil},
		{"ec2:RunInstances", "*", nil},
		{"s3:DeleteBucket", "arn:aws:s3:::cf-templates-abc-us-east-1", nil},
		{"s3:PutBucketPolicy", "arn:aws:s3:::workshopstack-logarchivebucket1a2b3c4d-1a2b3c4d5e6f", nil},
		{"s3:PutBucketLogging", "arn:aws:s3:::ir-workshop-data-444455556666-" + testRegion, nil},
		{"s3:GetObject", fmt.Sprintf("arn:aws:s3:::%s%s-%s/records/customers.csv", workshop.DataBucketPrefix, testAccount, testRegion), nil},
		{"s3:DeleteObjectVersion", fmt.Sprintf("arn:aws:s3:::%s%s-%s/records/customers.csv", workshop.DataBucketPrefix, testAccount, testRegion), nil},
	}
	for _, n := range denied {
		if allows(t, r, stmts, n.action, n.resource, n.context) {
			t.Errorf("deploy role can %s on %s; it should not", n.action, n.resource)
		}
	}
}
