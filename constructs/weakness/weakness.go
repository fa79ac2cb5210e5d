// Package weakness marks the deliberate weaknesses of a training
// environment: things built weak on purpose (an open port, an over-privileged
// user) that cdk-nag rightly reports. Each is recorded once, in the construct
// that creates it, as cdk-nag suppressions whose reason starts with Prefix
// and names the weakness, so that a document listing the weaknesses (the
// README's warning box) can be checked against the synthesized templates
// (Names).
//
// Findings suppressed for other reasons (a control that does not apply, a
// cost not worth paying) keep a plain reason: they are not weaknesses a
// participant must be warned about.
package weakness

import (
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
)

// Prefix starts the reason of every suppression that accepts a deliberate
// weakness; the weakness's name follows, up to the first ". ".
const Prefix = "Deliberate weakness: "

// Rule is a cdk-nag rule to suppress, for every finding of it or, with
// AppliesTo, for those findings only (such as "Resource::*").
type Rule struct {
	ID        string
	AppliesTo []string
}

// Suppress records the deliberate weakness called name on scope: it
// suppresses rules on scope (and on its children when children is true)
// with the reason Prefix + name + ". " + why. The name is what the warning
// box says, a short phrase without ". " or line breaks; a malformed name or
// reason stops synthesis with a message that names it.
func Suppress(scope constructs.IConstruct, name, why string, children bool, rules ...Rule) {
	problems := validate.Problems{Props: "weakness.Suppress"}
	if name == "" || strings.Contains(name, ". ") || strings.Contains(name, "\n") {
		problems.Addf("name", "is %q; it must be one line without \". \"", name)
	}
	problems.Require(why == "", "why", "the reason the weakness is there")
	problems.Require(len(rules) == 0, "rules", "the cdk-nag rules the weakness breaks")
	if problems.Stop(scope) {
		return
	}
	reason := Prefix + name + ". " + why
	suppressions := make([]*cdknag.NagPackSuppression, len(rules))
	for i, r := range rules {
		suppressions[i] = &cdknag.NagPackSuppression{Id: jsii.String(r.ID), Reason: jsii.String(reason)}
		if len(r.AppliesTo) > 0 {
			findings := make([]any, len(r.AppliesTo))
			for j, f := range r.AppliesTo {
				findings[j] = f
			}
			suppressions[i].AppliesTo = &findings
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(scope, &suppressions, jsii.Bool(children))
}

// Name returns the weakness that a suppression reason names, and whether the
// reason is that of a deliberate weakness.
func Name(reason string) (string, bool) {
	rest, ok := strings.CutPrefix(reason, Prefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, ". ")
	return name, true
}

// Names returns the deliberate weaknesses whose suppressions a synthesized
// template (decoded JSON) carries in its resources' cdk_nag metadata, sorted,
// each once.
func Names(template map[string]any) []string {
	var names []string
	resources, _ := template["Resources"].(map[string]any)
	for _, r := range resources {
		res, _ := r.(map[string]any)
		metadata, _ := res["Metadata"].(map[string]any)
		nag, _ := metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			m, _ := rule.(map[string]any)
			reason, _ := m["reason"].(string)
			if name, ok := Name(reason); ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}
