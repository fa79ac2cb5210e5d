package workshop

import (
	"strings"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// RepositoryURL is where the workshop's repository is published, as its Go
// module path says; alerts link to the playbooks there.
const RepositoryURL = "https://github.com/ir-workshop/incident-response-playbooks"

// PlaybookURL is the web address of a file of the repository, path relative
// to its root with '/' (playbook.Trigger.Path).
func PlaybookURL(path string) string {
	return RepositoryURL + "/blob/main/" + path
}

// AlertRoutes makes one alert route of each playbook that lists GuardDuty
// finding types in its "What opens this playbook" section (the template
// lists none): adding such a playbook adds its rule.
func AlertRoutes(triggers []playbook.Trigger) []alerting.Route {
	var routes []alerting.Route
	for _, t := range triggers {
		if len(t.FindingTypes) == 0 {
			continue
		}
		routes = append(routes, alerting.Route{
			Name:         routeName(t.Playbook),
			FindingTypes: t.FindingTypes,
			Playbook:     t.Title,
			PlaybookLink: PlaybookURL(t.Path),
			FirstStep:    t.FirstStep,
		})
	}
	return routes
}

// routeName turns a playbook folder (crypto_mining) into a construct ID
// (CryptoMining).
func routeName(folder string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(folder, func(r rune) bool { return r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
