package playbook

import (
	"reflect"
	"strings"
	"testing"
)

const triggerReadme = `# Leaked key: someone else's access key

Intro with ` + "`Discovery:IAMUser/AnomalousBehavior`" + ` outside the section: not a trigger.

## Overview

### What opens this playbook

- A GuardDuty finding whose resource is an access key
  (` + "`resource.accessKeyDetails.accessKeyId`" + `), in particular:
  - ` + "`Persistence:IAMUser/AnomalousBehavior`" + `: keeping access;
  - ` + "`Backdoor:EC2/C&CActivity.B!DNS`" + ` and
    ` + "`Impact:S3/AnomalousBehavior.*`" + `, a family.
- ` + "`Persistence:IAMUser/AnomalousBehavior`" + ` again, and an AWS Health event ` + "`AWS_RISK_CREDENTIALS_EXPOSED`" + `.

### Severity

` + "`Policy:IAMUser/RootCredentialUsage`" + ` is out of scope.

## Detect and analyze

### Triage questions

Answer these first.

1. Whose key is it? ` + "`aws iam get-access-key-last-used`" + ` names the *user*
   and its last use.
2. Is the activity the owner's?
`

func TestTriggersReadTheOpeningTypesTitleAndFirstStep(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"playbooks/leaked_key/README.md": triggerReadme,
		"playbooks/template/README.md":   "# Template\n\n### What opens this playbook\n\nList every trigger.\n\n### Triage questions\n\nThe questions.\n",
	})
	got, err := Triggers(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Trigger{
		{
			Playbook:  "leaked_key",
			Title:     "Leaked key: someone else's access key",
			Path:      "playbooks/leaked_key/README.md",
			FirstStep: "Whose key is it? aws iam get-access-key-last-used names the user and its last use.",
			FindingTypes: []string{
				"Persistence:IAMUser/AnomalousBehavior", "Backdoor:EC2/C&CActivity.B!DNS", "Impact:S3/AnomalousBehavior.*",
			},
		},
		{Playbook: "template", Title: "Template", Path: "playbooks/template/README.md"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Triggers =\n%+v\nwant\n%+v", got, want)
	}
}

func TestTriggersRejectASpanThatIsAlmostAFindingType(t *testing.T) {
	for name, span := range map[string]string{
		"space":         "CryptoCurrency:EC2/BitcoinTool B",
		"inner star":    "Impact:S3/*.Delete",
		"space in name": "Recon:IAMUser/Tor IPCaller",
		"comma":         "Recon:IAMUser/TorIPCaller,",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, map[string]string{"playbooks/p/README.md": "# P\n\n### What opens this playbook\n\n- `" + span + "`\n"})
			_, err := Triggers(root)
			if err == nil || !strings.Contains(err.Error(), span) || !strings.Contains(err.Error(), "playbook p") {
				t.Errorf("Triggers with %q: error %v, want one naming the span and the playbook", span, err)
			}
		})
	}
}

func TestTriggersOfTheRepositoryPlaybooks(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	triggers, err := Triggers(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range triggers {
		// The template has no finding types of its own, and hunting is a
		// set of queries for any incident, opened by none.
		if tr.Playbook == "template" || tr.Playbook == "hunting" {
			continue
		}
		if len(tr.FindingTypes) == 0 || tr.FirstStep == "" || tr.Title == "" {
			t.Errorf("playbook %s: %d finding types, first step %q, title %q; want all three", tr.Playbook, len(tr.FindingTypes), tr.FirstStep, tr.Title)
		}
	}
}
