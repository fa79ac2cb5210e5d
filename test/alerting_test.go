package test

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// publishedTypesFile is GuardDuty's list of finding types as kept in the
// tests; its header says where and when it was taken.
const publishedTypesFile = "testdata/guardduty-finding-types.txt"

func triggers(t *testing.T) []playbook.Trigger {
	t.Helper()
	tr, err := playbook.Triggers(root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// publishedTypes reads publishedTypesFile.
func publishedTypes(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(publishedTypesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	if err := sc.Err(); err != nil || len(out) < 100 {
		t.Fatalf("reading %s: %v, %d types", publishedTypesFile, err, len(out))
	}
	return out
}

// unpublished returns the entries of types that GuardDuty does not publish:
// an exact type missing from published, or a family ('*' at the end) that
// takes in no published type.
func unpublished(types []string, published map[string]bool) []string {
	var out []string
	for _, typ := range types {
		if family, ok := strings.CutSuffix(typ, "*"); ok {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(published)), func(p string) bool { return strings.HasPrefix(p, family) }) {
				out = append(out, typ)
			}
		} else if !published[typ] {
			out = append(out, typ)
		}
	}
	return out
}

func TestUnpublishedNamesMisspelledTypesAndEmptyFamilies(t *testing.T) {
	published := publishedTypes(t)
	got := unpublished([]string{
		"CryptoCurrency:EC2/BitcoinTool.B!DNS", "CryptoCurrency:EC2/BitcoinTool.B!DSN", "Impact:S3/AnomalousBehavior.*",
		"Impact:S3/AnomalousBehaviour.*", "cryptocurrency:EC2/BitcoinTool.B",
	}, published)
	want := []string{"CryptoCurrency:EC2/BitcoinTool.B!DSN", "Impact:S3/AnomalousBehaviour.*", "cryptocurrency:EC2/BitcoinTool.B"}
	if !slices.Equal(got, want) {
		t.Errorf("unpublished = %v, want %v", got, want)
	}
}

// TestPlaybookFindingTypesAreGuardDutysOwn: every type a playbook says
// opens it is one GuardDuty publishes, so a misspelled type fails here
// rather than in an alert that never comes.
func TestPlaybookFindingTypesAreGuardDutysOwn(t *testing.T) {
	published := publishedTypes(t)
	for _, tr := range triggers(t) {
		if bad := unpublished(tr.FindingTypes, published); len(bad) > 0 {
			t.Errorf("%s lists %q under %q: not in GuardDuty's finding types (%s)", tr.Path, bad, playbook.OpensSection, publishedTypesFile)
		}
	}
}

// alertRule is what a deployed rule does, read back from the template.
type alertRule struct {
	id      string
	types   []any // detail.type of the pattern
	pattern map[string]any
	target  map[string]any
	message map[string]any // the InputTemplate rendered with sample values
}

var messagePlaceholder = regexp.MustCompile(`<([A-Za-z0-9]+)>`)

// alertRules reads WorkshopStack's EventBridge rules, keyed by the
// playbook link of their message.
func alertRules(t *testing.T) map[string]alertRule {
	t.Helper()
	out := map[string]alertRule{}
	for id, r := range resources(synthApp(t).json["WorkshopStack"], "AWS::Events::Rule") {
		p := props(r)
		targets, _ := p["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("rule %s has %d targets, want the alert topic only", id, len(targets))
		}
		target := targets[0].(map[string]any)
		tmpl, _ := at(t, target, "InputTransformer", "InputTemplate").(string)
		rendered := messagePlaceholder.ReplaceAllString(tmpl, "1")
		var msg map[string]any
		if err := json.Unmarshal([]byte(rendered), &msg); err != nil {
			t.Fatalf("rule %s: message template is not JSON once filled in: %v\n%s", id, err, rendered)
		}
		link, _ := msg["playbookLink"].(string)
		if _, dup := out[link]; dup {
			t.Errorf("two rules link to %s", link)
		}
		pattern := p["EventPattern"].(map[string]any)
		types, _ := at(t, pattern, "detail", "type").([]any)
		out[link] = alertRule{id: id, types: types, pattern: pattern, target: target, message: msg}
	}
	return out
}

// TestEachPlaybookHasExactlyTheRuleOfItsFindingTypes is the one-source-of-
// truth check: the rules come from the playbooks' "What opens this
// playbook", one per playbook, matching exactly the types it lists (a
// family as a prefix), and no rule matches anything else.
func TestEachPlaybookHasExactlyTheRuleOfItsFindingTypes(t *testing.T) {
	rules := alertRules(t)
	withTypes := 0
	for _, tr := range triggers(t) {
		// Neither the template nor the hunting queries, which serve every
		// incident, may page.
		if tr.Playbook == "template" || tr.Playbook == "hunting" {
			if len(tr.FindingTypes) > 0 {
				t.Errorf("%s lists finding types %v: it would page", tr.Playbook, tr.FindingTypes)
			}
			continue
		}
		if len(tr.FindingTypes) == 0 {
			t.Errorf("%s lists no GuardDuty finding type (as `Purpose:Resource/Name`) under %q: nothing will page its responders", tr.Path, playbook.OpensSection)
			continue
		}
		withTypes++
		link := workshop.PlaybookURL(tr.Path)
		rule, ok := rules[link]
		if !ok {
			t.Errorf("no rule pages %s (no message links to %s)", tr.Playbook, link)
			continue
		}
		var want []any
		for _, typ := range tr.FindingTypes {
			if family, ok := strings.CutSuffix(typ, "*"); ok {
				want = append(want, map[string]any{"prefix": family})
			} else {
				want = append(want, typ)
			}
		}
		if !equalJSON(rule.types, want) {
			t.Errorf("rule %s of %s matches detail.type %v; the playbook lists %v", rule.id, tr.Playbook, compact(rule.types), compact(want))
		}
		for key, value := range map[string]string{"playbook": tr.Title, "firstStep": tr.FirstStep} {
			if rule.message[key] != value {
				t.Errorf("rule %s: message %s = %q, want %q from %s", rule.id, key, rule.message[key], value, tr.Path)
			}
		}
		if _, err := os.Stat(root + "/" + strings.TrimPrefix(link, workshop.RepositoryURL+"/blob/main/")); err != nil {
			t.Errorf("rule %s links to %s, which is no file of the repository: %v", rule.id, link, err)
		}
	}
	if len(rules) != withTypes {
		t.Errorf("%d alert rules for %d playbooks with finding types", len(rules), withTypes)
	}
}

// TestAlertRulesPublishToTheEncryptedTopicAboveTheSeverityParameter covers
// what the emulator cannot: moto delivers no event to an SNS target, so the
// hop from each rule to the topic rests on the template. Each rule targets
// the alert topic with its transformer; the topic is encrypted with the
// key that lets EventBridge use it; the severity bound follows the
// AlertMinimumSeverity parameter.
func TestAlertRulesPublishToTheEncryptedTopicAboveTheSeverityParameter(t *testing.T) {
	s := synthApp(t)
	tmpl := s.json["WorkshopStack"]
	alerts := s.app.Workshop.Alerts
	topic := cdktest.LogicalID(alerts.Topic)
	paths := map[string]any{}
	for k, v := range alerting.MessagePaths {
		paths[k] = *v
	}
	conditions := at(t, tmpl, "Conditions").(map[string]any)
	for link, rule := range alertRules(t) {
		if !equalJSON(rule.target["Arn"], ref(topic)) {
			t.Errorf("rule %s (%s) targets %v, want the alert topic %s", rule.id, link, rule.target["Arn"], topic)
		}
		if got := at(t, rule.target, "InputTransformer", "InputPathsMap"); !equalJSON(got, paths) {
			t.Errorf("rule %s: InputPathsMap %v, want %v", rule.id, compact(got), compact(paths))
		}
		bound := at(t, rule.pattern, "detail", "severity", 0, "numeric", 1)
		raw, _ := json.Marshal(bound)
		for _, id := range regexp.MustCompile(`"Fn::If":\["([A-Za-z0-9]+)"`).FindAllStringSubmatch(string(raw), -1) {
			if !mentions(conditions[id[1]], `{"Ref":"AlertMinimumSeverity"}`) {
				t.Errorf("rule %s: severity condition %s = %v does not test AlertMinimumSeverity", rule.id, id[1], compact(conditions[id[1]]))
			}
		}
		if strings.Contains(string(raw), `"Ref"`) || !strings.Contains(string(raw), `"Fn::If"`) {
			t.Errorf("rule %s: severity bound %s, want Fn::If over number literals", rule.id, raw)
		}
	}
	topicProps := props(at(t, tmpl, "Resources", topic).(map[string]any))
	if !equalJSON(topicProps["KmsMasterKeyId"], getAtt(cdktest.LogicalID(alerts.Key), "Arn")) {
		t.Errorf("alert topic is encrypted with %v, want the alerts key", topicProps["KmsMasterKeyId"])
	}
	key := props(at(t, tmpl, "Resources", cdktest.LogicalID(alerts.Key)).(map[string]any))
	eventsMayUse := false
	for _, st := range statements(t, key["KeyPolicy"]) {
		eventsMayUse = eventsMayUse || (mentions(st["Principal"], "events.amazonaws.com") && slices.Contains(actions(st), "kms:GenerateDataKey"))
	}
	if !eventsMayUse {
		t.Errorf("the alerts key does not let events.amazonaws.com generate data keys: EventBridge could not publish")
	}
}
