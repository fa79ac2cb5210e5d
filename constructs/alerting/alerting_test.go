package alerting_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

var routes = []alerting.Route{
	{
		Name:         "LeakedKey",
		FindingTypes: []string{"Persistence:IAMUser/AnomalousBehavior", "Discovery:IAMUser/AnomalousBehavior"},
		Playbook:     "Leaked key",
		PlaybookLink: "https://example.com/leaked-key",
		FirstStep:    `Whose key is it? Run "aws iam get-access-key-last-used".`,
	},
	{
		Name:         "DataTheft",
		FindingTypes: []string{"Impact:S3/AnomalousBehavior.*", "Exfiltration:S3/MaliciousIPCaller"},
		Playbook:     "Data theft",
	},
}

type built struct {
	// parameterized takes its severity and e-mail from template parameters.
	parameterized *alerting.IncidentAlerts
	severity      awscdk.CfnParameter
	email         awscdk.CfnParameter
	// literal has both fixed, and no e-mail.
	literal *alerting.IncidentAlerts
	// shared encrypts with a key of the app's own.
	shared    *alerting.IncidentAlerts
	sharedKey awskms.Key
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	var b built
	b.severity = awscdk.NewCfnParameter(stack, jsii.String("Severity"), &awscdk.CfnParameterProps{
		AllowedValues: jsii.Strings(alerting.SeverityNames()...), Default: jsii.String("Low"),
	})
	b.email = awscdk.NewCfnParameter(stack, jsii.String("Email"), &awscdk.CfnParameterProps{Default: jsii.String("")})
	b.parameterized = alerting.NewIncidentAlerts(stack, "Alerts", &alerting.IncidentAlertsProps{
		Routes:          routes,
		MinimumSeverity: b.severity.ValueAsString(),
		Email:           b.email.ValueAsString(),
	})
	b.literal = alerting.NewIncidentAlerts(stack, "Fixed", &alerting.IncidentAlertsProps{
		Routes:          routes[:1],
		MinimumSeverity: jsii.String("High"),
		Email:           jsii.String(""),
		TopicName:       "fixed-alerts",
	})
	b.sharedKey = awskms.NewKey(stack, jsii.String("AuditKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	b.shared = alerting.NewIncidentAlerts(stack, "Shared", &alerting.IncidentAlertsProps{
		Routes: routes[1:], Key: b.sharedKey, TopicName: "shared-alerts",
	})
	return b
}}

// pattern returns the event pattern of a rule, decoded.
func pattern(t *testing.T, tmpl assertions.Template, a *alerting.IncidentAlerts, route string) map[string]any {
	t.Helper()
	rule, ok := a.Rules[route]
	if !ok {
		t.Fatalf("no rule for route %s", route)
	}
	res := (*tmpl.ToJSON())["Resources"].(map[string]any)[cdktest.LogicalID(rule)].(map[string]any)
	return res["Properties"].(map[string]any)["EventPattern"].(map[string]any)
}

func TestEachRouteIsARuleOnItsGuardDutyTypesWithFamiliesAsPrefixes(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	want := map[string][]any{
		"LeakedKey": {"Persistence:IAMUser/AnomalousBehavior", "Discovery:IAMUser/AnomalousBehavior"},
		"DataTheft": {map[string]any{"prefix": "Impact:S3/AnomalousBehavior."}, "Exfiltration:S3/MaliciousIPCaller"},
	}
	if got := slices.Sorted(maps.Keys(b.parameterized.Rules)); !slices.Equal(got, []string{"DataTheft", "LeakedKey"}) {
		t.Fatalf("rules %v", got)
	}
	for name, types := range want {
		p := pattern(t, tmpl, b.parameterized, name)
		if !equalJSON(p["source"], []any{"aws.guardduty"}) || !equalJSON(p["detail-type"], []any{"GuardDuty Finding"}) {
			t.Errorf("%s: pattern %v, want GuardDuty findings", name, p)
		}
		if got := p["detail"].(map[string]any)["type"]; !equalJSON(got, types) {
			t.Errorf("%s: detail.type %v, want %v", name, got, types)
		}
	}
	cdktest.Assert(t, "rules send to the topic, enabled", func() {
		tmpl.ResourcePropertiesCountIs(jsii.String("AWS::Events::Rule"), assertions.Match_ObjectLike(&map[string]any{
			"State":   "ENABLED",
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{"Arn": cdktest.Ref(b.parameterized.Topic), "Id": "IncidentAlertTopic"})},
		}), jsii.Number(2))
	})
}

// TestSeverityParameterBecomesNumberLiteralsNeverARef pins down how a
// template parameter reaches a numeric match: CloudFormation resolves a Ref
// inside a JSON property to a string, so the bound must be an Fn::If whose
// branches are numbers.
func TestSeverityParameterBecomesNumberLiteralsNeverARef(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	bound := pattern(t, tmpl, b.parameterized, "LeakedKey")["detail"].(map[string]any)["severity"]
	raw, _ := json.Marshal(bound)
	if strings.Contains(string(raw), `"Ref"`) {
		t.Fatalf("severity bound %s refers to a parameter directly", raw)
	}
	// [{"numeric": [">=", {"Fn::If": [Critical, 9, {"Fn::If": [High, 7, {"Fn::If": [Medium, 4, 0]}]}]}]}]
	cur := bound.([]any)[0].(map[string]any)["numeric"].([]any)[1]
	conditions := (*tmpl.ToJSON())["Conditions"].(map[string]any)
	for _, level := range []string{"Critical", "High", "Medium"} {
		branch := cur.(map[string]any)["Fn::If"].([]any)
		floor := map[string]float64{"Critical": 9, "High": 7, "Medium": 4}[level]
		if n, ok := branch[1].(float64); !ok || n != floor {
			t.Errorf("%s branch %v, want the number %v", level, branch[1], floor)
		}
		want := map[string]any{"Fn::Equals": []any{cdktest.Ref(b.severity), level}}
		if got := conditions[branch[0].(string)]; !equalJSON(got, want) {
			t.Errorf("condition %s = %v, want %v", branch[0], got, want)
		}
		cur = branch[2]
	}
	if n, ok := cur.(float64); !ok || n != 0 {
		t.Errorf("Low branch %v, want the number 0", cur)
	}
	fixed := pattern(t, tmpl, b.literal, "LeakedKey")["detail"].(map[string]any)["severity"]
	if want := []any{map[string]any{"numeric": []any{">=", 7.0}}}; !equalJSON(fixed, want) {
		t.Errorf("literal High: severity %v, want %v", fixed, want)
	}
}

func TestTopicIsEncryptedTLSOnlyAndOnlyTheRulesPublish(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "topic", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
			"TopicName":      "ir-workshop-alerts",
			"DisplayName":    "Incident alerts",
			"KmsMasterKeyId": cdktest.GetAtt(b.parameterized.Key, "Arn"),
		})
	})
	var arns []any
	for _, name := range []string{"LeakedKey", "DataTheft"} {
		arns = append(arns, cdktest.GetAtt(b.parameterized.Rules[name], "Arn"))
	}
	cdktest.Assert(t, "topic policy", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"Topics": []any{cdktest.Ref(b.parameterized.Topic)},
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Action": "sns:Publish",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
				map[string]any{
					"Sid": "OnlyTheAlertRulesPublish", "Effect": "Allow", "Action": "sns:Publish",
					"Principal": map[string]any{"Service": "events.amazonaws.com"},
					"Resource":  cdktest.Ref(b.parameterized.Topic),
					"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": arns}},
				},
			})}),
		}))
	})
}

func TestKeyLetsEventBridgeEncryptForTheTopicOnlyRotatesAndGoesWithTheStack(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	statement := func(name string) any {
		return assertions.Match_ObjectLike(&map[string]any{
			"Sid": "EventBridgePublishesIncidentAlerts", "Effect": "Allow",
			"Principal": map[string]any{"Service": "events.amazonaws.com"},
			"Action":    []any{"kms:GenerateDataKey", "kms:Decrypt"},
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:sns:topicArn": map[string]any{
				"Fn::Sub": []any{"arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Name}", map[string]any{"Name": name}},
			}}},
		})
	}
	cdktest.Assert(t, "own key", func() {
		tmpl.HasResource(jsii.String("AWS::KMS::Key"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"EnableKeyRotation":   true,
				"PendingWindowInDays": 7,
				"Description":         assertions.Match_StringLikeRegexp(jsii.String("Owned by the IncidentAlerts construct")),
				"KeyPolicy":           map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{statement("ir-workshop-alerts")})},
			}),
			"DeletionPolicy": "Delete",
		}))
	})
	if b.shared.Key != awskms.IKey(b.sharedKey) {
		t.Errorf("the shared key is not the construct's Key")
	}
	if b.shared.Node().TryFindChild(jsii.String("Key")) != nil {
		t.Errorf("a construct given a key made one of its own")
	}
	cdktest.Assert(t, "shared key gets the statement", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), assertions.Match_ObjectLike(&map[string]any{
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{statement("shared-alerts")})},
		}))
		tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(3))
	})
}

func TestEmailIsSubscribedOnlyWhenTheParameterHasAValue(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "one conditional subscription", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(1))
		tmpl.HasResource(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Properties": map[string]any{"Protocol": "email", "Endpoint": cdktest.Ref(b.email), "TopicArn": cdktest.Ref(b.parameterized.Topic)},
			"Condition":  assertions.Match_StringLikeRegexp(jsii.String("^AlertsHasEmail")),
		})
	})
	conditions := (*tmpl.ToJSON())["Conditions"].(map[string]any)
	var hasEmail any
	for id, c := range conditions {
		if strings.HasPrefix(id, "AlertsHasEmail") {
			hasEmail = c
		}
	}
	if want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{cdktest.Ref(b.email), ""}}}}; !equalJSON(hasEmail, want) {
		t.Errorf("HasEmail = %v, want %v", hasEmail, want)
	}
}

var placeholder = regexp.MustCompile(`<([^<>]+)>`)

// TestMessageIsJSONWithEveryPlaceholderMapped renders a message the way
// EventBridge does for a finding on an instance, with the access key and
// bucket paths absent (empty), and reads it back.
func TestMessageIsJSONWithEveryPlaceholderMapped(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	res := (*tmpl.ToJSON())["Resources"].(map[string]any)[cdktest.LogicalID(b.parameterized.Rules["LeakedKey"])].(map[string]any)
	transformer := res["Properties"].(map[string]any)["Targets"].([]any)[0].(map[string]any)["InputTransformer"].(map[string]any)
	template := transformer["InputTemplate"].(string)
	paths := transformer["InputPathsMap"].(map[string]any)

	values := map[string]string{"severity": "8", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "id": "b3d8e2f1", "account": "111122223333",
		"region": "us-east-1", "resourceType": "Instance", "instanceId": "i-0a1b2c3d4e5f60002"}
	used := map[string]bool{}
	rendered := placeholder.ReplaceAllStringFunc(template, func(m string) string {
		name := m[1 : len(m)-1]
		used[name] = true
		return values[name]
	})
	if got, want := slices.Sorted(maps.Keys(used)), slices.Sorted(maps.Keys(paths)); !slices.Equal(got, want) {
		t.Errorf("placeholders %v, paths %v: each path must be used and each placeholder mapped", got, want)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(rendered), &msg); err != nil {
		t.Fatalf("rendered message is not JSON: %v\n%s", err, rendered)
	}
	want := map[string]any{
		"alert":    "GuardDuty finding CryptoCurrency:EC2/BitcoinTool.B!DNS of severity 8 in account 111122223333, us-east-1. Open the playbook: Leaked key",
		"severity": 8.0, "instanceId": "i-0a1b2c3d4e5f60002", "accessKeyId": "", "bucket": "",
		"finding":  "https://console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?search=id%3Db3d8e2f1",
		"playbook": "Leaked key", "playbookLink": "https://example.com/leaked-key",
		"firstStep": `Whose key is it? Run "aws iam get-access-key-last-used".`,
	}
	for k, v := range want {
		if !equalJSON(msg[k], v) {
			t.Errorf("message %s = %v, want %v", k, msg[k], v)
		}
	}
}

func TestBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	alerting.NewIncidentAlerts(stack, "None", nil)
	alerting.NewIncidentAlerts(stack, "Wrong", &alerting.IncidentAlertsProps{
		Routes: []alerting.Route{
			{Name: "lower", FindingTypes: []string{"Impact:S3/*.Delete", "Recon:EC2/Portscan", "Recon:EC2/Portscan"}, Playbook: "P", FirstStep: "Check <instance>"},
			{Name: "Empty"},
		},
		MinimumSeverity: jsii.String("Severe"),
		Email:           jsii.String("nobody"),
	})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/None] IncidentAlertsProps.Routes is required",
		`Routes[0].Name is "lower"`,
		`Routes[0].FindingTypes[0] is "Impact:S3/*.Delete"`,
		`Routes[0].FindingTypes[2] "Recon:EC2/Portscan" is listed twice`,
		"Routes[0].FirstStep is",
		"Routes[1].FindingTypes is required",
		"Routes[1].Playbook is required",
		`MinimumSeverity is "Severe"; allowed values: Low, Medium, High, Critical`,
		`Email is "nobody"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}

func equalJSON(a, b any) bool {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ra, &va)
	_ = json.Unmarshal(rb, &vb)
	return fmt.Sprint(va) == fmt.Sprint(vb)
}

// ExampleNewIncidentAlerts pages the on-call address with High and Critical
// findings of two types, pointing to the team's runbook.
func ExampleNewIncidentAlerts() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Alerts"), nil)
	alerting.NewIncidentAlerts(stack, "Alerts", &alerting.IncidentAlertsProps{
		Routes: []alerting.Route{{
			Name:         "CryptoMining",
			FindingTypes: []string{"CryptoCurrency:EC2/BitcoinTool.B!DNS", "CryptoCurrency:EC2/BitcoinTool.B"},
			Playbook:     "Crypto mining",
			PlaybookLink: "https://wiki.example.com/runbooks/crypto-mining",
			FirstStep:    "Find every instance the findings name, in every Region.",
		}},
		MinimumSeverity: jsii.String("High"),
		Email:           jsii.String("oncall@example.com"),
		TopicName:       "soc-alerts",
	})

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::KMS::Key", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription", "AWS::Events::Rule"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	// Output:
	// AWS::KMS::Key 1
	// AWS::SNS::Topic 1
	// AWS::SNS::TopicPolicy 1
	// AWS::SNS::Subscription 1
	// AWS::Events::Rule 1
}
