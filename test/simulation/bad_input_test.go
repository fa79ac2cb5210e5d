package simulation

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// allScripts are the scripts with the common interface.
var allScripts = []string{
	"simulate-credential-exposure.sh", "undo-credential-exposure.sh",
	"simulate-crypto-mining.sh", "undo-crypto-mining.sh",
	"get-guardduty-findings.sh", "contain-access-key.sh", "isolate-instance.sh",
}

// testBadInput runs every script with bad arguments, state files,
// credentials and regions while the two complete runs exist, and checks
// that each is refused with a clear message and that nothing in the account,
// nor the runs' state files, changed.
func testBadInput(t *testing.T, w *workshop, exposurePath, miningPath string) {
	exposureState, miningState := readFile(t, exposurePath), readFile(t, miningPath)
	before := takeInventory(t, w)

	// State files that must be refused although they name real resources.
	garbled := writeFile(t, "garbled.json", exposureState[:len(exposureState)/2])
	empty := writeFile(t, "empty.json", "")
	missing := filepath.Join(t.TempDir(), "missing.json")
	namingBystanderUser := editState(t, exposureState, func(st map[string]any) {
		st["resources"].(map[string]any)["iam_user"] = w.other.user
	})
	namingBystanderInstance := editState(t, miningState, func(st map[string]any) {
		st["resources"].(map[string]any)["instance_ids"] = []string{w.other.instanceID}
	})

	tests := []struct {
		name   string
		script string
		args   []string
		env    []string // changes to the responder's environment
		code   int
		want   string // in stderr, or in stdout for code 0
	}{
		{name: "UndoCredentialExposureWithoutArguments", script: "undo-credential-exposure.sh", code: 2, want: "missing -s STATE_FILE"},
		{name: "UndoCryptoMiningWithoutArguments", script: "undo-crypto-mining.sh", code: 2, want: "missing -s STATE_FILE"},
		{name: "FindingsWithoutArguments", script: "get-guardduty-findings.sh", code: 2, want: "missing -t FINDING_TYPE"},
		{name: "ContainWithoutArguments", script: "contain-access-key.sh", code: 2, want: "missing -k ACCESS_KEY_ID"},
		{name: "IsolateWithoutArguments", script: "isolate-instance.sh", code: 2, want: "missing -i INSTANCE_ID"},
		{name: "UnknownOption", script: "simulate-credential-exposure.sh", args: []string{"-x"}, code: 2, want: "unknown option -x"},
		{name: "OptionWithoutValue", script: "simulate-crypto-mining.sh", args: []string{"-n"}, code: 2, want: "option -n needs a value"},
		{name: "OptionValueIsTheNextOption", script: "undo-credential-exposure.sh", args: []string{"-s", "-p", "x"}, code: 2, want: "option -s needs a value"},
		{name: "ExtraArgument", script: "simulate-crypto-mining.sh", args: []string{"now"}, code: 2, want: "unexpected argument: now"},
		{name: "TooManyInstances", script: "simulate-crypto-mining.sh", args: []string{"-n", "4"}, code: 2, want: "-n: '4' is not a number of instances from 1 to 3"},
		{name: "NoInstances", script: "simulate-crypto-mining.sh", args: []string{"-n", "0"}, code: 2, want: "-n: '0'"},
		{name: "MalformedVpcID", script: "simulate-crypto-mining.sh", args: []string{"-v", "vpc-xyz"}, code: 2, want: "-v: 'vpc-xyz' is not a VPC ID"},
		{name: "MalformedRegion", script: "simulate-credential-exposure.sh", args: []string{"-r", "US-EAST-1"}, code: 2, want: "region 'US-EAST-1' is not an AWS region name"},
		{name: "MalformedRegionFromEnvironment", script: "simulate-crypto-mining.sh", env: []string{"AWS_REGION=mars"}, code: 2, want: "region 'mars'"},
		{name: "NoRegionAnywhere", script: "simulate-credential-exposure.sh", args: []string{"-p", "revoked"},
			env: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}, code: 2, want: "no region: pass -r REGION"},
		{name: "UnknownRegionForCryptoMining", script: "simulate-crypto-mining.sh", args: []string{"-r", "xx-fake-1"},
			code: 1, want: "cannot list the VPCs in region xx-fake-1"},
		{name: "UnknownRegionForIsolation", script: "isolate-instance.sh", args: []string{"-i", w.other.instanceID, "-r", "xx-fake-1"},
			code: 1, want: "in region xx-fake-1"},
		{name: "RejectedCredentialsForCredentialExposure", script: "simulate-credential-exposure.sh", args: []string{"-p", "revoked", "-r", moto.Region},
			code: 1, want: "the AWS credentials (profile revoked) were rejected"},
		{name: "RejectedCredentialsForCryptoMining", script: "simulate-crypto-mining.sh", args: []string{"-p", "revoked", "-r", moto.Region},
			code: 1, want: "the AWS credentials (profile revoked) were rejected"},
		{name: "RejectedCredentialsForUndo", script: "undo-credential-exposure.sh", args: []string{"-s", exposurePath, "-p", "revoked"},
			code: 1, want: "the AWS credentials (profile revoked) were rejected"},
		{name: "RejectedCredentialsForContainment", script: "contain-access-key.sh", args: []string{"-k", w.other.userKey, "-p", "revoked", "-r", moto.Region},
			code: 1, want: "were rejected"},
		{name: "MissingStateFile", script: "undo-credential-exposure.sh", args: []string{"-s", missing}, code: 1, want: "does not exist; nothing was changed"},
		{name: "EmptyStateFile", script: "undo-crypto-mining.sh", args: []string{"-s", empty}, code: 1, want: "is empty"},
		{name: "GarbledStateFile", script: "undo-credential-exposure.sh", args: []string{"-s", garbled}, code: 1, want: "it is not one JSON object"},
		{name: "CryptoMiningStateFileForCredentialExposureUndo", script: "undo-credential-exposure.sh", args: []string{"-s", miningPath},
			code: 1, want: "records a crypto-mining simulation, not credential-exposure"},
		{name: "CredentialExposureStateFileForCryptoMiningUndo", script: "undo-crypto-mining.sh", args: []string{"-s", exposurePath},
			code: 1, want: "records a credential-exposure simulation, not crypto-mining"},
		{name: "StateFileNamingAnotherUser", script: "undo-credential-exposure.sh", args: []string{"-s", namingBystanderUser},
			code: 1, want: "the one IAM user the run creates"},
		{name: "StateFileNamingAnotherInstance", script: "undo-crypto-mining.sh", args: []string{"-s", namingBystanderInstance},
			code: 1, want: "not this run's instance; nothing was terminated"},
		{name: "UndoInAnotherRegion", script: "undo-crypto-mining.sh", args: []string{"-s", miningPath, "-r", "us-west-2"},
			code: 2, want: "is not the region us-east-1"},
		{name: "StateFileOfAnEarlierRun", script: "simulate-credential-exposure.sh", args: []string{"-s", exposurePath},
			code: 1, want: "already exists"},
		{name: "TemporaryKeyCannotBeDeactivated", script: "contain-access-key.sh", args: []string{"-k", "ASIAIOSFODNN7EXAMPLE"}, code: 2, want: "temporary (STS) key"},
		{name: "MalformedAccessKey", script: "contain-access-key.sh", args: []string{"-k", "not-a-key"}, code: 2, want: "-k: 'not-a-key'"},
		{name: "UnknownAccessKey", script: "contain-access-key.sh", args: []string{"-k", "AKIAIOSFODNN7EXAMPLE"}, code: 1, want: "cannot find access key AKIAIOSFODNN7EXAMPLE"},
		{name: "AccessKeyOfAnotherUser", script: "contain-access-key.sh", args: []string{"-k", w.other.userKey, "-u", "integration"},
			code: 1, want: "is not a key of IAM user integration"},
		{name: "MalformedInstanceID", script: "isolate-instance.sh", args: []string{"-i", "i-xyz"}, code: 2, want: "-i: 'i-xyz'"},
		{name: "UnknownInstance", script: "isolate-instance.sh", args: []string{"-i", "i-0123456789abcdef0"}, code: 1, want: "cannot find instance i-0123456789abcdef0"},
		{name: "MalformedFindingType", script: "get-guardduty-findings.sh", args: []string{"-t", "bitcoin"}, code: 2, want: "-t: 'bitcoin' is not a GuardDuty finding type"},
	}
	for _, script := range allScripts {
		tests = append(tests, struct {
			name   string
			script string
			args   []string
			env    []string
			code   int
			want   string
		}{name: "HelpOf" + strings.TrimSuffix(script, ".sh"), script: script, args: []string{"-h"}, code: 0, want: "Usage: " + script})
	}

	// The endpoint cannot be reached: every script says so first.
	for _, script := range allScripts {
		args := map[string][]string{
			"undo-credential-exposure.sh": {"-s", exposurePath},
			"undo-crypto-mining.sh":       {"-s", miningPath},
			"get-guardduty-findings.sh":   {"-t", bitcoinToolType},
			"contain-access-key.sh":       {"-k", w.other.userKey},
			"isolate-instance.sh":         {"-i", w.other.instanceID},
		}[script]
		tests = append(tests, struct {
			name   string
			script string
			args   []string
			env    []string
			code   int
			want   string
		}{name: "UnreachableEndpointFor" + strings.TrimSuffix(script, ".sh"), script: script, args: args,
			env: moto.UnreachableEnv(), code: 1, want: cannotReach(script)})
	}

	t.Run("Scripts", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				res := runScript(t, dir, moto.WithEnv(w.env, tt.env...), tt.script, tt.args...)
				output := res.stderr
				if tt.code == 0 {
					output = res.stdout
				}
				if res.code != tt.code || !strings.Contains(output, tt.want) {
					t.Errorf("%s %v: want exit %d with %q\n%s", tt.script, tt.args, tt.code, tt.want, res)
				}
				if tt.code == 2 && !strings.Contains(res.stderr, "Usage:") {
					t.Errorf("usage error without the usage on stderr:\n%s", res)
				}
				noStateFiles(t, dir)
			})
		}
	})

	t.Run("DamagedStateFiles", func(t *testing.T) {
		testDamagedStateFiles(t, w.env, "undo-credential-exposure.sh", exposureState)
		testDamagedStateFiles(t, w.env, "undo-crypto-mining.sh", miningState)
	})

	requireSameInventory(t, "the bad-input runs", before, takeInventory(t, w))
	if readFile(t, exposurePath) != exposureState || readFile(t, miningPath) != miningState {
		t.Errorf("a refused run changed the state file of a complete run")
	}
}

// editState returns a copy of a state file, changed by edit, in a new file.
func editState(t *testing.T, content string, edit func(map[string]any)) string {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(content), &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "edited.json", string(b))
}

// testDamagedStateFiles runs the undo script on copies of a complete run's
// state file with each required field removed, and with each given a value
// of the wrong type, and checks that each is refused before any AWS call
// (the caller compares inventories), naming the field, offering to undo by
// the run's tag when the run ID is readable, and leaving the file as it was.
func testDamagedStateFiles(t *testing.T, env []string, script, content string) {
	var st map[string]any
	if err := json.Unmarshal([]byte(content), &st); err != nil {
		t.Fatal(err)
	}
	runID, _ := st["run_id"].(string)
	resources, _ := st["resources"].(map[string]any)
	// wrongType is a value of another type than the field's.
	wrongType := map[string]any{
		"simulation": 42, "state_version": "1", "run_id": 42, "region": []string{"us-east-1"},
		"account_id": 123456789012, "status": nil, "resources": []string{},
	}
	type damage struct {
		name, field string
		edit        func(map[string]any)
	}
	var damages []damage
	for _, field := range slices.Sorted(maps.Keys(wrongType)) {
		damages = append(damages,
			damage{"Without_" + field, field, func(st map[string]any) { delete(st, field) }},
			damage{"WrongType_" + field, field, func(st map[string]any) { st[field] = wrongType[field] }})
	}
	for _, field := range slices.Sorted(maps.Keys(resources)) {
		path := "resources." + field
		res := func(st map[string]any) map[string]any { return st["resources"].(map[string]any) }
		damages = append(damages, damage{"Without_" + path, path, func(st map[string]any) { delete(res(st), field) }})
		switch resources[field].(type) {
		case []any:
			damages = append(damages,
				damage{"WrongType_" + path, path, func(st map[string]any) { res(st)[field] = "i-0123456789abcdef0" }},
				damage{"WrongItemType_" + path, path + "[0]", func(st map[string]any) { res(st)[field] = []any{42} }})
		default:
			damages = append(damages, damage{"WrongType_" + path, path, func(st map[string]any) { res(st)[field] = []any{resources[field]} }})
		}
	}
	for _, d := range damages {
		t.Run(strings.TrimSuffix(script, ".sh")+"/"+d.name, func(t *testing.T) {
			t.Parallel()
			path := editState(t, content, d.edit)
			damaged := readFile(t, path)
			res := runScript(t, "", env, script, "-s", path)
			if res.code != 1 || !strings.Contains(res.stderr, d.field+" is ") || !strings.Contains(res.stderr, "nothing was changed") {
				t.Errorf("want exit 1 saying what %s is, nothing changed\n%s", d.field, res)
			}
			if d.field != "run_id" && !strings.Contains(res.stderr, "-t "+runID) {
				t.Errorf("the refusal does not offer to undo by the run's tag, -t %s:\n%s", runID, res)
			}
			if readFile(t, path) != damaged {
				t.Errorf("the refused undo changed the damaged state file")
			}
		})
	}
}
