// Package alerting provides incident alerts: an encrypted SNS topic that
// pages responders, and EventBridge rules that send it the GuardDuty findings
// of chosen types, above a minimum severity, each as a short message that
// says which response procedure (playbook) to open and what to do first.
//
// The construct knows no playbook: its caller gives one Route per playbook
// (name, finding types, title, link, first step).
package alerting

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
)

// Defaults of IncidentAlertsProps.
const (
	DefaultTopicName   = "ir-workshop-alerts"
	DefaultDisplayName = "Incident alerts"
	DefaultSeverity    = "Low"
)

// EventBridge's service principal and what GuardDuty findings look like on
// the default event bus.
const (
	EventsPrincipal     = "events.amazonaws.com"
	GuardDutySource     = "aws.guardduty"
	GuardDutyDetailType = "GuardDuty Finding"
)

// SeverityLevels are GuardDuty's severity levels, each with the lowest
// severity value it covers ("Severity levels of GuardDuty findings": Low
// 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0). Low is 0 here
// so that it takes in every finding.
var SeverityLevels = []SeverityLevel{
	{"Low", 0}, {"Medium", 4}, {"High", 7}, {"Critical", 9},
}

// SeverityLevel is a GuardDuty severity level and its lowest value.
type SeverityLevel struct {
	Name  string
	Floor float64
}

// SeverityNames lists the names of SeverityLevels, lowest first: the
// allowed values of a template parameter given as MinimumSeverity.
func SeverityNames() []string {
	names := make([]string, len(SeverityLevels))
	for i, l := range SeverityLevels {
		names[i] = l.Name
	}
	return names
}

// Route pages responders with the findings of some GuardDuty finding types
// and points them to one playbook.
type Route struct {
	// Name is the rule's construct ID: letters and digits, starting with
	// an upper-case letter (CredentialExposure). Renaming it replaces the
	// rule. Required.
	Name string
	// FindingTypes are GuardDuty finding types, exactly as GuardDuty spells
	// them. One that ends in '*' names a family: every type that starts
	// with what comes before the '*' (Impact:S3/AnomalousBehavior.*).
	// Required.
	FindingTypes []string
	// Playbook is the title of the procedure the alert opens. Required.
	Playbook string
	// PlaybookLink is where to read it, a URL. Optional.
	PlaybookLink string
	// FirstStep is what the responder does first, in a sentence or two.
	// Optional.
	FirstStep string
}

// IncidentAlertsProps configures IncidentAlerts.
type IncidentAlertsProps struct {
	// Routes are the rules to create, one for each playbook. Required.
	Routes []Route
	// MinimumSeverity is the lowest GuardDuty severity level that pages:
	// a name of SeverityLevels, or a token that resolves to one (a template
	// parameter whose AllowedValues are SeverityNames). Default
	// DefaultSeverity, every finding.
	MinimumSeverity *string
	// Email, when not empty, is subscribed to the topic. A token (a
	// template parameter) subscribes it only when it resolves to a value.
	// The address must confirm the subscription from the message SNS sends
	// it. Default: no subscription.
	Email *string
	// Key encrypts the topic: a customer managed KMS key whose key policy
	// this construct may add to (EventBridge cannot publish to a topic
	// encrypted with the AWS managed key alias/aws/sns). Pass a key the app
	// already has (a log archive's) to use one key; an imported key's
	// policy cannot be changed here, so a warning names the statement to
	// add. Default: a new key that belongs to this construct, rotated
	// yearly and deleted seven days after the stack.
	Key awskms.IKey
	// TopicName is the topic's physical name; the key policy names it.
	// Default DefaultTopicName.
	TopicName string
	// DisplayName is the sender name of the topic's e-mail. Default
	// DefaultDisplayName.
	DisplayName string
}

// IncidentAlerts is the alert topic, its key and one EventBridge rule per
// route.
type IncidentAlerts struct {
	constructs.Construct
	// Topic receives the alerts; subscribe responders (e-mail, chat, a
	// paging service) to it.
	Topic awssns.Topic
	// Key encrypts Topic: IncidentAlertsProps.Key, or the construct's own.
	Key awskms.IKey
	// Rules are the EventBridge rules, by route name. CfnRule, not the L2
	// Rule: the L2's SNS target grants events.amazonaws.com publishing and
	// key use with no condition on which rule publishes.
	Rules map[string]awsevents.CfnRule
}

// routeName is a construct ID that makes a readable logical ID.
var routeName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// NewIncidentAlerts creates the topic, its key (unless given), the optional
// e-mail subscription and the rules. Missing or malformed props stop
// synthesis with messages that name the field.
func NewIncidentAlerts(scope constructs.Construct, id string, props *IncidentAlertsProps) *IncidentAlerts {
	if props == nil {
		props = &IncidentAlertsProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	a := &IncidentAlerts{Construct: c, Rules: map[string]awsevents.CfnRule{}}
	problems := validate.Problems{Props: "IncidentAlertsProps"}
	problems.Require(len(props.Routes) == 0, "Routes", "the finding types that page, and the playbook each opens")
	templates := map[string]string{}
	for i, r := range props.Routes {
		field := fmt.Sprintf("Routes[%d]", i)
		if !routeName.MatchString(r.Name) {
			problems.Addf(field+".Name", "is %q; it must be letters and digits starting with an upper-case letter", r.Name)
		} else if _, dup := templates[r.Name]; dup {
			problems.Addf(field+".Name", "%q is used by another route", r.Name)
		}
		problems.Require(len(r.FindingTypes) == 0, field+".FindingTypes", "the GuardDuty finding types that open "+r.Name)
		for j, t := range r.FindingTypes {
			if strings.TrimSpace(t) != t || t == "" || strings.ContainsAny(t, " \t\n") || strings.Contains(strings.TrimSuffix(t, "*"), "*") || t == "*" {
				problems.Addf(fmt.Sprintf("%s.FindingTypes[%d]", field, j), "is %q; write a finding type without spaces, with '*' only at the end of a family", t)
			}
			if slices.Index(r.FindingTypes, t) != j {
				problems.Addf(fmt.Sprintf("%s.FindingTypes[%d]", field, j), "%q is listed twice", t)
			}
		}
		problems.Require(r.Playbook == "", field+".Playbook", "the title of the playbook the alert opens")
		for name, text := range map[string]string{"Playbook": r.Playbook, "PlaybookLink": r.PlaybookLink, "FirstStep": r.FirstStep} {
			if strings.ContainsAny(text, "<>") || *awscdk.Token_IsUnresolved(jsii.String(text)) {
				problems.Addf(field+"."+name, "is %q; it must be plain text without '<' or '>' (EventBridge reads <name> as a placeholder)", text)
			}
		}
		tmpl := MessageTemplate(r)
		if len(tmpl) > maxTemplate {
			problems.Addf(field, "makes a message template of %d characters; EventBridge takes at most %d: shorten FirstStep", len(tmpl), maxTemplate)
		}
		templates[r.Name] = tmpl
	}
	severity := props.MinimumSeverity
	if severity == nil {
		severity = jsii.String(DefaultSeverity)
	}
	if !*awscdk.Token_IsUnresolved(severity) && !slices.Contains(SeverityNames(), *severity) {
		problems.Addf("MinimumSeverity", "is %q; allowed values: %s", *severity, strings.Join(SeverityNames(), ", "))
	}
	if props.Email != nil && !*awscdk.Token_IsUnresolved(props.Email) && *props.Email != "" && !strings.Contains(*props.Email, "@") {
		problems.Addf("Email", "is %q; it must be an e-mail address, or empty for no subscription", *props.Email)
	}
	if problems.Stop(c) {
		return a
	}

	topicName := props.TopicName
	if topicName == "" {
		topicName = DefaultTopicName
	}
	displayName := props.DisplayName
	if displayName == "" {
		displayName = DefaultDisplayName
	}
	a.Key = props.Key
	if a.Key == nil {
		a.Key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
			Description:       jsii.String("Encrypts the incident alert topic " + topicName + ". Owned by the IncidentAlerts construct (constructs/alerting), which deletes it with the stack; pass IncidentAlertsProps.Key to share a key."),
			EnableKeyRotation: jsii.Bool(true),
			PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
			RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		})
	}
	// The topic ARN is written out rather than referenced: the topic
	// refers to the key, so a reference back would be a cycle.
	topicArn := awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Name}"), &map[string]*string{"Name": jsii.String(topicName)})
	added := a.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgePublishesIncidentAlerts"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(EventsPrincipal), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		// SNS asks KMS for data keys of this topic only; the topic policy
		// below decides which rules may publish.
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:sns:topicArn": topicArn}},
	}), jsii.Bool(true))
	if !*added.StatementAdded {
		awscdk.Annotations_Of(c).AddWarningV2(jsii.String("@ir-workshop/alerting:keyPolicy"), jsii.String("the key's policy is not managed by this app: allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt with the condition kms:EncryptionContext:aws:sns:topicArn = the alert topic's ARN, or EventBridge cannot publish alerts"), nil)
	}

	a.Topic = awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(topicName),
		DisplayName: jsii.String(displayName),
		MasterKey:   a.Key,
		EnforceSSL:  jsii.Bool(true),
	})

	if props.Email != nil && *props.Email != "" {
		sub := awssns.NewSubscription(c, jsii.String("Email"), &awssns.SubscriptionProps{
			Topic:    a.Topic,
			Protocol: awssns.SubscriptionProtocol_EMAIL,
			Endpoint: props.Email,
		})
		if *awscdk.Token_IsUnresolved(props.Email) {
			hasEmail := awscdk.NewCfnCondition(c, jsii.String("HasEmail"), &awscdk.CfnConditionProps{
				Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(props.Email, jsii.String(""))),
			})
			sub.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(hasEmail)
		}
	}

	floor := severityFloor(c, severity)
	var ruleArns []*string
	for _, r := range props.Routes {
		rule := awsevents.NewCfnRule(c, jsii.String(r.Name), &awsevents.CfnRuleProps{
			Description:  jsii.String(truncate("GuardDuty findings that open the playbook "+r.Playbook, maxDescription)),
			State:        jsii.String("ENABLED"),
			EventPattern: EventPattern(r.FindingTypes, floor),
			Targets: &[]any{&awsevents.CfnRule_TargetProperty{
				Id:  jsii.String("IncidentAlertTopic"),
				Arn: a.Topic.TopicArn(),
				InputTransformer: &awsevents.CfnRule_InputTransformerProperty{
					InputPathsMap: &MessagePaths,
					InputTemplate: jsii.String(templates[r.Name]),
				},
			}},
		})
		a.Rules[r.Name] = rule
		ruleArns = append(ruleArns, rule.AttrArn())
	}
	a.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyTheAlertRulesPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(EventsPrincipal), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{a.Topic.TopicArn()},
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ruleArns}},
	}))
	return a
}

// Limits of EventBridge rules (the CloudFormation schema of AWS::Events::Rule).
const (
	maxTemplate    = 8192
	maxDescription = 512
)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// severityFloor is the lowest severity value of the level named by level.
// A level known at synthesis gives its number. A token gives a chain of
// Fn::If over one condition per level, each branch a number literal:
// inside a JSON property such as an event pattern, CloudFormation resolves a
// Ref to a Number parameter to a string ("the parameter value becomes a
// string"), which a numeric match rejects, while an Fn::If returns its
// literal branch as it is, a number.
func severityFloor(scope constructs.Construct, level *string) any {
	if !*awscdk.Token_IsUnresolved(level) {
		for _, l := range SeverityLevels {
			if l.Name == *level {
				return l.Floor
			}
		}
	}
	var floor any = SeverityLevels[0].Floor
	for _, l := range SeverityLevels[1:] {
		is := awscdk.NewCfnCondition(scope, jsii.String("MinimumSeverity"+l.Name), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionEquals(level, jsii.String(l.Name)),
		})
		floor = awscdk.Fn_ConditionIf(is.LogicalId(), l.Floor, floor)
	}
	return floor
}

// EventPattern matches GuardDuty findings of the given types (a type ending
// in '*' as a prefix) whose severity is at least floor (a number, or a
// token that resolves to one).
func EventPattern(findingTypes []string, floor any) map[string]any {
	types := make([]any, len(findingTypes))
	for i, t := range findingTypes {
		if family, ok := strings.CutSuffix(t, "*"); ok {
			types[i] = map[string]any{"prefix": family}
		} else {
			types[i] = t
		}
	}
	return map[string]any{
		"source":      []any{GuardDutySource},
		"detail-type": []any{GuardDutyDetailType},
		"detail": map[string]any{
			"type":     types,
			"severity": []any{map[string]any{"numeric": []any{">=", floor}}},
		},
	}
}

// MessagePaths are the parts of a GuardDuty finding event that an alert
// quotes, by placeholder name. The affected resource sits at a different
// path for each resource type; the paths that a finding lacks stay empty.
var MessagePaths = map[string]*string{
	"severity":     jsii.String("$.detail.severity"),
	"type":         jsii.String("$.detail.type"),
	"id":           jsii.String("$.detail.id"),
	"account":      jsii.String("$.account"),
	"region":       jsii.String("$.region"),
	"resourceType": jsii.String("$.detail.resource.resourceType"),
	"accessKeyId":  jsii.String("$.detail.resource.accessKeyDetails.accessKeyId"),
	"userName":     jsii.String("$.detail.resource.accessKeyDetails.userName"),
	"instanceId":   jsii.String("$.detail.resource.instanceDetails.instanceId"),
	"bucket":       jsii.String("$.detail.resource.s3BucketDetails[0].name"),
}

// ConsoleLink is the GuardDuty console's page of one finding, as GuardDuty's
// own EventBridge notification example writes it.
const ConsoleLink = "https://console.aws.amazon.com/guardduty/home?region=<region>#/findings?search=id%3D<id>"

// MessageTemplate is the InputTemplate of a route's rule: a JSON object
// whose first member is a sentence that reads well in an e-mail preview,
// followed by one member per fact. Every placeholder but the severity (a
// number) sits inside a string, so a path that a finding lacks leaves an
// empty string and the message stays valid JSON. Only identifiers and
// types are quoted from the finding: EventBridge does not escape what it
// substitutes, and free text (a description) could break the JSON.
func MessageTemplate(r Route) string {
	members := []struct {
		key   string
		value string // JSON text
	}{
		{"alert", `"GuardDuty finding <type> of severity <severity> in account <account>, <region>. Open the playbook: ` + jsonText(r.Playbook) + `"`},
		{"severity", `<severity>`},
		{"findingType", `"<type>"`},
		{"account", `"<account>"`},
		{"region", `"<region>"`},
		{"resourceType", `"<resourceType>"`},
		{"accessKeyId", `"<accessKeyId>"`},
		{"userName", `"<userName>"`},
		{"instanceId", `"<instanceId>"`},
		{"bucket", `"<bucket>"`},
		{"finding", `"` + ConsoleLink + `"`},
		{"playbook", `"` + jsonText(r.Playbook) + `"`},
		{"playbookLink", `"` + jsonText(r.PlaybookLink) + `"`},
		{"firstStep", `"` + jsonText(r.FirstStep) + `"`},
	}
	var b strings.Builder
	b.WriteString("{")
	for i, m := range members {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", m.key, m.value)
	}
	b.WriteString("}")
	return b.String()
}

// jsonText is s escaped for the inside of a JSON string, with '<', '>' and
// '&' left as they are (they read as \u003c in an e-mail otherwise).
func jsonText(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
