package simulation

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

const (
	findingsFile = "testdata/guardduty-findings-bitcointool.json"
	eventFile    = "testdata/guardduty-event-bitcointool.json"
)

// moto serves GuardDuty detectors but not findings (ListFindings answers
// 404), and rejects GuardDuty's request signatures when it checks
// credentials, so this emulator does not check them.
func TestGuardDutyFindingsFindsTheDetectorOrSaysGuardDutyIsOff(t *testing.T) {
	t.Parallel()
	s := moto.Start(t, moto.Options{})
	env := moto.WithEnv(s.Env("AKIAIOSFODNN7EXAMPLE", "moto-does-not-check-this-key"), "AWS_MAX_ATTEMPTS=1")

	res := runScript(t, "", env, "get-guardduty-findings.sh", "-t", bitcoinToolType)
	if res.code != 1 || !strings.Contains(res.stderr, "GuardDuty is not enabled in us-east-1") {
		t.Errorf("without a detector: want exit 1 saying GuardDuty is not enabled in us-east-1\n%s", res)
	}

	res = runScript(t, "", env, "get-guardduty-findings.sh", "-t", bitcoinToolType, "-r", "xx-fake-1")
	if res.code != 1 || !strings.Contains(res.stderr, "region xx-fake-1") {
		t.Errorf("unknown region: want exit 1 naming region xx-fake-1\n%s", res)
	}

	var detector struct{ DetectorId string }
	s.MustAWSJSON(t, env, &detector, "guardduty", "create-detector", "--enable")
	res = runScript(t, "", env, "get-guardduty-findings.sh", "-t", bitcoinToolType)
	if !strings.Contains(res.stderr, "GuardDuty detector "+detector.DetectorId+" in us-east-1") {
		t.Errorf("with detector %s: the script did not find it\n%s", detector.DetectorId, res)
	}
	// moto 5.2 has no ListFindings: the script must say so, not print an
	// empty list. An emulator that lists findings has none here.
	var none struct{ Findings []json.RawMessage }
	listed := res.code == 0 && json.Unmarshal([]byte(res.stdout), &none) == nil && len(none.Findings) == 0
	reported := res.code == 1 && strings.Contains(res.stderr, "cannot list GuardDuty findings of type "+bitcoinToolType)
	if !listed && !reported {
		t.Errorf("with detector %s: want no findings, or exit 1 reporting that findings cannot be listed\n%s", detector.DetectorId, res)
	}
}

// The instance-ID extraction reads GuardDuty's documented finding format;
// with -f it makes no AWS call, so the environment holds no AWS settings.
func TestGuardDutyFindingsFromAFile(t *testing.T) {
	t.Parallel()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	garbled := writeFile(t, "garbled.json", `{"Findings": [`)
	notFindings := writeFile(t, "number.json", "42")

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // exact, for -i
		ids      []string
		stderrIn string
	}{
		{name: "InstanceIDsOfTheTypeEachOnce", args: []string{"-t", bitcoinToolType, "-i", "-f", findingsFile},
			stdout: "i-0a1b2c3d4e5f60001\ni-0a1b2c3d4e5f60002\n"},
		{name: "InstanceIDsOfAnotherType", args: []string{"-t", "Trojan:EC2/DNSDataExfiltration", "-i", "-f", findingsFile},
			stdout: "i-0a1b2c3d4e5f60003\n"},
		{name: "NoFindingOfTheTypeIsNoOutput", args: []string{"-t", "Backdoor:EC2/C&CActivity.B!DNS", "-i", "-f", findingsFile},
			stdout: ""},
		{name: "InstanceIDFromAnEventBridgeEvent", args: []string{"-t", bitcoinToolType, "-i", "-f", eventFile},
			stdout: "i-0a1b2c3d4e5f60002\n"},
		{name: "FindingsOfTheTypeAsJSON", args: []string{"-t", bitcoinToolType, "-f", findingsFile},
			ids: []string{"a2c7f1e0b8d94c3e9f6a1b2c3d4e5f60", "b3d8e2f1c9ea5d4f0a7b2c3d4e5f6071", "c4e9f3a2dafb6e5a1b8c3d4e5f607182"}},
		{name: "GarbledFile", args: []string{"-t", bitcoinToolType, "-f", garbled}, code: 1, stderrIn: "is not one JSON document of GuardDuty findings"},
		{name: "NotFindings", args: []string{"-t", bitcoinToolType, "-f", notFindings}, code: 1, stderrIn: "is not a GuardDuty finding document"},
		{name: "MissingFile", args: []string{"-t", bitcoinToolType, "-f", "testdata/missing.json"}, code: 1, stderrIn: "cannot read findings file"},
		{name: "MissingType", args: []string{"-i", "-f", findingsFile}, code: 2, stderrIn: "missing -t FINDING_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, mustAbs(t, "."), env, "get-guardduty-findings.sh", tt.args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.stderrIn) {
				t.Fatalf("want exit %d with %q on stderr\n%s", tt.code, tt.stderrIn, res)
			}
			if tt.code != 0 {
				return
			}
			if tt.ids == nil {
				if res.stdout != tt.stdout {
					t.Errorf("stdout %q, want %q", res.stdout, tt.stdout)
				}
				return
			}
			var out struct{ Findings []struct{ Id, Type string } }
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, res)
			}
			var ids []string
			for _, f := range out.Findings {
				ids = append(ids, f.Id)
				if f.Type != bitcoinToolType {
					t.Errorf("finding %s has type %s", f.Id, f.Type)
				}
			}
			if !sameSet(ids, tt.ids) {
				t.Errorf("findings %v, want %v", ids, tt.ids)
			}
		})
	}
}
