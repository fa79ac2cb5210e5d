package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// repoRoot is the repository, relative to this package.
const repoRoot = "../.."

// sampleFindings are GuardDuty finding events as EventBridge delivers them
// (the finding of GuardDuty's API, in camelCase, under detail), one for
// each kind of resource, by the resource type a finding type names
// (Purpose:Resource/Name). The test sets detail.type, detail.severity and
// detail.id for each case.
var sampleFindings = map[string]string{
	"IAMUser": "testdata/guardduty-event-accesskey.json",
	"IAM":     "testdata/guardduty-event-accesskey.json",
	"EC2":     "testdata/guardduty-event-instance.json",
	"Runtime": "testdata/guardduty-event-instance.json",
	"S3":      "testdata/guardduty-event-s3bucket.json",
}

// alertSeverity is the AlertMinimumSeverity the stack is deployed with, and
// its lowest value.
const (
	alertSeverity      = "High"
	alertSeverityFloor = 7.0
)

// unlistedType is a GuardDuty finding type that no playbook lists.
const unlistedType = "Discovery:S3/MaliciousIPCaller"

// alertCase is one finding sent to the event bus.
type alertCase struct {
	id, findingType string
	severity        float64
	playbook        *playbook.Trigger // nil: must not be routed
}

// TestAlertRulesRouteGuardDutyFindingsToTheirPlaybook deploys WorkshopStack
// with AlertMinimumSeverity=High and sends GuardDuty findings to the
// default event bus: one of every type each playbook lists, one at exactly
// the threshold, one below it, one of a type no playbook lists.
//
// moto 5.2 delivers put_events to SQS, log group, event bus and archive
// targets but not to SNS topics (moto/events/models.py, send_to_targets),
// so the hop from a rule to the alert topic cannot run here. The test
// therefore keeps each deployed rule's pattern and reads its input
// transformer back from the emulator, and points the rule at a queue with
// that same transformer instead of the topic; it then plays EventBridge's
// part in the last hop, publishing a routed message to the deployed topic,
// and reads it from a queue subscribed to the topic. That the rules target
// the topic, with this transformer, and that the topic's key lets
// EventBridge publish, rests on the template:
// test.TestAlertRulesPublishToTheEncryptedTopicAboveTheSeverityParameter.
func TestAlertRulesRouteGuardDutyFindingsToTheirPlaybook(t *testing.T) {
	t.Parallel()
	triggers, err := playbook.Triggers(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	s := moto.Start(t, moto.Options{})
	env := s.Env("AKIAIOSFODNN7EXAMPLE", "moto-does-not-check-this-key")
	params, _ := workshopParameters(t, s, env)
	if params == nil {
		params = map[string]string{}
	}
	params["AlertMinimumSeverity"] = alertSeverity
	outputs := moto.DeployTemplate(t, s, env, "WorkshopStack", workshopTemplate, params)
	topicArn := requireOutputs(t, outputs, "AlertTopicArn")[0]
	var caller struct{ Account string }
	s.MustAWSJSON(t, env, &caller, "sts", "get-caller-identity")

	routed := createQueue(t, s, env, "alerts-routed")
	rules := deployedRules(t, s, env)
	if len(rules) == 0 {
		t.Fatal("WorkshopStack deployed no EventBridge rule")
	}
	for _, rule := range rules {
		var described struct{ EventPattern string }
		s.MustAWSJSON(t, env, &described, "events", "describe-rule", "--name", rule)
		var pattern struct {
			Detail struct{ Severity []struct{ Numeric []any } }
		}
		if err := json.Unmarshal([]byte(described.EventPattern), &pattern); err != nil || len(pattern.Detail.Severity) != 1 {
			t.Fatalf("rule %s: pattern %s (%v), want one severity filter", rule, described.EventPattern, err)
		}
		// The parameter reached the pattern as a number, not "7".
		if got := pattern.Detail.Severity[0].Numeric; len(got) != 2 || got[0] != ">=" || got[1] != alertSeverityFloor {
			t.Errorf("rule %s: severity filter %#v, want [\">=\" %v] (a number)", rule, got, alertSeverityFloor)
		}
		redirect(t, s, env, rule, routed.arn)
	}

	cases := alertCases(t, triggers)
	putFindings(t, s, env, cases)
	messages := map[string]map[string]any{}
	bodies := map[string]string{}
	for _, body := range receiveAll(t, s, env, routed.url) {
		var msg map[string]any
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Fatalf("routed message is not JSON: %v\n%s", err, body)
		}
		link, _ := msg["finding"].(string)
		_, id, _ := strings.Cut(link, "search=id%3D")
		if _, dup := messages[id]; dup {
			t.Errorf("finding %s was routed twice", id)
		}
		messages[id], bodies[id] = msg, body
	}

	for _, c := range cases {
		msg, got := messages[c.id]
		if c.playbook == nil {
			if got {
				t.Errorf("%s of severity %v was routed (to %v); want it dropped", c.findingType, c.severity, msg["playbook"])
			}
			continue
		}
		if !got {
			t.Errorf("%s of severity %v was not routed; want it to open %s", c.findingType, c.severity, c.playbook.Playbook)
			continue
		}
		want := map[string]any{
			"playbook": c.playbook.Title, "firstStep": c.playbook.FirstStep, "findingType": c.findingType,
			"severity": c.severity, "account": caller.Account, "region": moto.Region,
			"finding": "https://console.aws.amazon.com/guardduty/home?region=" + moto.Region + "#/findings?search=id%3D" + c.id,
		}
		// A path the finding lacks: EventBridge leaves the string empty;
		// moto leaves the placeholder. Only present resources are checked.
		switch kind := resourceKind(c.findingType); sampleFindings[kind] {
		case "testdata/guardduty-event-instance.json":
			want["instanceId"], want["resourceType"] = "i-0a1b2c3d4e5f60002", "Instance"
		case "testdata/guardduty-event-accesskey.json":
			want["accessKeyId"], want["userName"], want["resourceType"] = "AKIAIOSFODNN7EXAMPLE", "integration", "AccessKey"
		}
		for k, v := range want {
			if msg[k] != v {
				t.Errorf("%s (%s): message %s = %#v, want %#v", c.findingType, c.id, k, msg[k], v)
			}
		}
		if link, _ := msg["playbookLink"].(string); !strings.HasSuffix(link, "/"+c.playbook.Path) {
			t.Errorf("%s: playbook link %q does not lead to %s", c.findingType, link, c.playbook.Path)
		}
		if alert, _ := msg["alert"].(string); !strings.Contains(alert, c.findingType) || !strings.HasSuffix(alert, "Open the playbook: "+c.playbook.Title) {
			t.Errorf("%s: alert line %q does not name the finding type and the playbook", c.findingType, alert)
		}
	}

	// The last hop: what a rule routes, published to the deployed topic,
	// reaches a queue subscribed to it unchanged.
	inbox := createQueue(t, s, env, "alerts-inbox")
	s.MustAWS(t, env, "sns", "subscribe", "--topic-arn", topicArn, "--protocol", "sqs", "--notification-endpoint", inbox.arn)
	published := map[string]bool{}
	for _, c := range cases {
		if c.playbook != nil && !published[c.playbook.Playbook] && bodies[c.id] != "" {
			published[c.playbook.Playbook] = true
			s.MustAWS(t, env, "sns", "publish", "--topic-arn", topicArn, "--message", bodies[c.id])
			delivered := receiveAll(t, s, env, inbox.url)
			var envelope struct{ Type, TopicArn, Message string }
			if len(delivered) != 1 || json.Unmarshal([]byte(delivered[0]), &envelope) != nil {
				t.Fatalf("queue subscribed to the topic received %d messages, want the one alert: %v", len(delivered), delivered)
			}
			if envelope.Type != "Notification" || envelope.TopicArn != topicArn || envelope.Message != bodies[c.id] {
				t.Errorf("subscribed queue got %+v, want the alert of %s from %s", envelope, c.id, topicArn)
			}
		}
	}
	if len(published) == 0 {
		t.Error("no routed alert to publish")
	}
}

// alertCases lists the findings to send, each with a distinct id.
func alertCases(t *testing.T, triggers []playbook.Trigger) []alertCase {
	t.Helper()
	var cases []alertCase
	add := func(typ string, severity float64, tr *playbook.Trigger) {
		cases = append(cases, alertCase{id: fmt.Sprintf("case%02d", len(cases)+1), findingType: typ, severity: severity, playbook: tr})
	}
	for i := range triggers {
		tr := &triggers[i]
		for _, typ := range tr.FindingTypes {
			if family, ok := strings.CutSuffix(typ, "*"); ok {
				typ = family + "Example"
			}
			add(typ, 8, tr)
		}
		if tr.Playbook == "template" && len(tr.FindingTypes) > 0 {
			t.Errorf("the template lists finding types %v", tr.FindingTypes)
		}
		if slices.Contains(tr.FindingTypes, unlistedType) {
			t.Fatalf("%s lists %s, which this test sends as the type no playbook lists", tr.Playbook, unlistedType)
		}
	}
	if len(cases) == 0 {
		t.Fatal("no playbook lists a finding type")
	}
	first := cases[0]
	add(first.findingType, alertSeverityFloor, first.playbook)
	add(first.findingType, alertSeverityFloor-0.1, nil)
	add(unlistedType, 8, nil)
	return cases
}

// resourceKind is the resource type a finding type names:
// Purpose:Resource/Name.
func resourceKind(findingType string) string {
	_, rest, _ := strings.Cut(findingType, ":")
	kind, _, _ := strings.Cut(rest, "/")
	return kind
}

// putFindings sends each case as a GuardDuty finding event, ten at a time
// (PutEvents takes at most ten entries).
func putFindings(t *testing.T, s *moto.Server, env []string, cases []alertCase) {
	t.Helper()
	var entries []map[string]any
	for _, c := range cases {
		file, ok := sampleFindings[resourceKind(c.findingType)]
		if !ok {
			t.Fatalf("no sample finding for the resource of %s: add one to testdata and sampleFindings", c.findingType)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var event struct {
			Source     string         `json:"source"`
			DetailType string         `json:"detail-type"`
			Detail     map[string]any `json:"detail"`
		}
		if err := json.Unmarshal(raw, &event); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		event.Detail["type"], event.Detail["severity"], event.Detail["id"] = c.findingType, c.severity, c.id
		detail, _ := json.Marshal(event.Detail)
		entries = append(entries, map[string]any{"Source": event.Source, "DetailType": event.DetailType, "Detail": string(detail)})
	}
	for from := 0; from < len(entries); from += 10 {
		batch, _ := json.Marshal(entries[from:min(from+10, len(entries))])
		var out struct{ FailedEntryCount int }
		s.MustAWSJSON(t, env, &out, "events", "put-events", "--entries", string(batch))
		if out.FailedEntryCount != 0 {
			t.Fatalf("put-events: %d entries failed", out.FailedEntryCount)
		}
	}
}

// deployedRules returns the names of WorkshopStack's EventBridge rules.
func deployedRules(t *testing.T, s *moto.Server, env []string) []string {
	t.Helper()
	var listed struct {
		StackResourceSummaries []struct{ ResourceType, PhysicalResourceId string }
	}
	s.MustAWSJSON(t, env, &listed, "cloudformation", "list-stack-resources", "--stack-name", "WorkshopStack")
	var rules []string
	for _, r := range listed.StackResourceSummaries {
		if r.ResourceType == "AWS::Events::Rule" {
			rules = append(rules, r.PhysicalResourceId)
		}
	}
	return rules
}

// redirect replaces the rule's one target (the alert topic) with the queue,
// keeping the input transformer as deployed.
func redirect(t *testing.T, s *moto.Server, env []string, rule, queueArn string) {
	t.Helper()
	var targets struct {
		Targets []struct {
			Id               string
			Arn              string
			InputTransformer json.RawMessage
		}
	}
	s.MustAWSJSON(t, env, &targets, "events", "list-targets-by-rule", "--rule", rule)
	if len(targets.Targets) != 1 || !strings.Contains(targets.Targets[0].Arn, ":sns:") || len(targets.Targets[0].InputTransformer) == 0 {
		t.Fatalf("rule %s: targets %+v, want the alert topic with an input transformer", rule, targets.Targets)
	}
	target := targets.Targets[0]
	s.MustAWS(t, env, "events", "remove-targets", "--rule", rule, "--ids", target.Id)
	put, _ := json.Marshal([]map[string]any{{"Id": target.Id, "Arn": queueArn, "InputTransformer": target.InputTransformer}})
	s.MustAWS(t, env, "events", "put-targets", "--rule", rule, "--targets", string(put))
}

type queue struct{ url, arn string }

// createQueue creates a queue. The AWS CLI v1 does not take SQS's endpoint
// from AWS_ENDPOINT_URL, so the SQS calls name it.
func createQueue(t *testing.T, s *moto.Server, env []string, name string) queue {
	t.Helper()
	var created struct{ QueueUrl string }
	s.MustAWSJSON(t, env, &created, "sqs", "create-queue", "--queue-name", name, "--endpoint-url", s.URL)
	var attrs struct{ Attributes struct{ QueueArn string } }
	s.MustAWSJSON(t, env, &attrs, "sqs", "get-queue-attributes", "--queue-url", created.QueueUrl, "--attribute-names", "QueueArn", "--endpoint-url", s.URL)
	return queue{url: created.QueueUrl, arn: attrs.Attributes.QueueArn}
}

// receiveAll returns the bodies of the messages in the queue. moto delivers
// during the call that sends, so an empty receive means there is no more.
func receiveAll(t *testing.T, s *moto.Server, env []string, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out := s.MustAWS(t, env, "sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10", "--wait-time-seconds", "0", "--endpoint-url", s.URL)
		var got struct{ Messages []struct{ Body string } }
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("receive-message: %v\n%s", err, out)
			}
		}
		if len(got.Messages) == 0 {
			return bodies
		}
		for _, m := range got.Messages {
			bodies = append(bodies, m.Body)
		}
	}
}
