package samplelogs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// fixtureCalls reads the committed recordings.
func fixtureCalls(t *testing.T) []recording.Call {
	t.Helper()
	var calls []recording.Call
	for _, sim := range recording.Simulations {
		f, err := os.Open(filepath.Join("..", "testdata", "recordings", sim.Name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		cs, err := recording.ReadFixture(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, cs...)
	}
	return calls
}

// generate writes the sample with a seed and returns its files' content
// (gunzipped) by slash-separated key.
func generate(t *testing.T, seed uint64) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Seed: seed, Calls: fixtureCalls(t)}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		content, err := io.ReadAll(zr)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = append(raw[:0:0], content...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGenerateIsDeterministicForASeed(t *testing.T) {
	a, b, c := generate(t, 7), generate(t, 7), generate(t, 8)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d files", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Fatalf("%s differs between two runs with seed 7", k)
		}
	}
	same := len(a) == len(c)
	for k, v := range a {
		same = same && bytes.Equal(v, c[k])
	}
	if same {
		t.Error("seeds 7 and 8 wrote the same sample")
	}
}

// Key layouts, as AWS writes them into the log bucket.
var layouts = map[string]*regexp.Regexp{
	"cloudtrail":      regexp.MustCompile(`^AWSLogs/111122223333/CloudTrail/us-east-1/(\d{4}/\d{2}/\d{2})/111122223333_CloudTrail_us-east-1_(\d{8})T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`),
	"vpcflowlogs":     regexp.MustCompile(`^AWSLogs/111122223333/vpcflowlogs/us-east-1/(\d{4}/\d{2}/\d{2})/111122223333_vpcflowlogs_us-east-1_fl-[0-9a-f]{17}_(\d{8})T\d{4}Z_[0-9a-f]{8}\.log\.gz$`),
	"vpcdnsquerylogs": regexp.MustCompile(`^AWSLogs/111122223333/vpcdnsquerylogs/vpc-1234567890abcdef0/(\d{4}/\d{2}/\d{2})/vpc-1234567890abcdef0_vpcdnsquerylogs_111122223333_(\d{8})T\d{4}Z_[0-9a-f]{8}\.log\.gz$`),
}

func TestFilesAreLaidOutAndFormattedAsAWSDeliversThem(t *testing.T) {
	files := generate(t, 1)
	kinds := map[string]int{}
	header := strings.Join(logschema.VPCFlowLogFields, " ")
	for key, content := range files {
		kind := ""
		var m []string
		for k, re := range layouts {
			if m = re.FindStringSubmatch(key); m != nil {
				kind = k
				break
			}
		}
		if kind == "" {
			t.Errorf("%s is laid out as no AWS log", key)
			continue
		}
		kinds[kind]++
		day := strings.ReplaceAll(m[1], "/", "-")
		switch kind {
		case "cloudtrail":
			var f struct{ Records []map[string]any }
			if err := json.Unmarshal(content, &f); err != nil || len(f.Records) == 0 {
				t.Fatalf("%s: not {\"Records\":[...]}: %v", key, err)
			}
			for _, r := range f.Records {
				if tm, _ := r["eventTime"].(string); !strings.HasPrefix(tm, day) {
					t.Errorf("%s: record of %s in the folder of %s", key, tm, day)
				}
			}
		case "vpcflowlogs":
			lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
			if lines[0] != header {
				t.Fatalf("%s: header %q, want the fields of logschema.VPCFlowLogFields", key, lines[0])
			}
			for _, l := range lines[1:] {
				if n := len(strings.Fields(l)); n != len(logschema.VPCFlowLogFields) {
					t.Fatalf("%s: %d fields in %q", key, n, l)
				}
			}
		case "vpcdnsquerylogs":
			sc := bufio.NewScanner(bytes.NewReader(content))
			for sc.Scan() {
				var q map[string]any
				if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if tm, _ := q["query_timestamp"].(string); !strings.HasPrefix(tm, day) {
					t.Errorf("%s: query of %s in the folder of %s", key, tm, day)
				}
			}
		}
	}
	for kind := range layouts {
		if kinds[kind] == 0 {
			t.Errorf("no %s file", kind)
		}
	}
}

// The attacker's CloudTrail records are the recorded calls, one for one,
// in the order the runs happen and each run's calls in recorded order, with
// the recorded user agent.
func TestAttackerRecordsReplayTheRecordedCalls(t *testing.T) {
	files := generate(t, 1)
	type rec struct {
		EventTime, EventSource, EventName, SourceIPAddress, UserAgent string
		RequestParameters                                             map[string]any
	}
	var attacker []rec
	for _, k := range slices.Sorted(maps.Keys(files)) {
		if !strings.Contains(k, "/CloudTrail/") {
			continue
		}
		var f struct{ Records []rec }
		if err := json.Unmarshal(files[k], &f); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			if strings.HasPrefix(r.SourceIPAddress, "198.51.100.") {
				attacker = append(attacker, r)
			}
		}
	}
	// The runs in the order they happen; each run's calls in recorded order.
	runs, err := splitSimulations(fixtureCalls(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(runs, func(a, b simRun) int { return a.start.Compare(b.start) })
	var calls []recording.Call
	for _, run := range runs {
		calls = append(calls, run.calls...)
	}
	if len(attacker) != len(calls) {
		t.Fatalf("%d attacker records, %d recorded calls", len(attacker), len(calls))
	}
	for i, c := range calls {
		r := attacker[i]
		if r.EventSource != c.Service+".amazonaws.com" || r.EventName != eventName(c) || r.UserAgent != c.UserAgent {
			t.Errorf("record %d: %s %s %q, call %s %q", i+1, r.EventSource, r.EventName, r.UserAgent, c.Op(), c.UserAgent)
		}
		if r.EventName == "RunInstances" && r.RequestParameters["userData"] != "<sensitiveDataRemoved>" {
			t.Errorf("RunInstances record shows user data %v", r.RequestParameters["userData"])
		}
	}
}

func TestBeaconIsReadFromTheRecordedUserData(t *testing.T) {
	var userData string
	for _, c := range fixtureCalls(t) {
		if c.Op() == "ec2:RunInstances" {
			raw, err := base64.StdEncoding.DecodeString(c.Params["UserData"].(string))
			if err != nil {
				t.Fatal(err)
			}
			userData = string(raw)
		}
	}
	// The sample follows the user data the simulation launches today: a
	// change to the script needs a refreshed recording.
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "crypto-mining-user-data.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if userData != string(script) {
		t.Errorf("the recorded RunInstances user data is not scripts/crypto-mining-user-data.sh; refresh the recording: go test ./playbooks/rehearse/recording -run TestSimulationCallsMatchRecordings -update")
	}
	b, err := parseBeacon(userData)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.pools) == 0 || b.randomCount == 0 || len(b.labels) == 0 || b.suffix == "" || b.rounds == 0 {
		t.Errorf("beacon %+v", b)
	}
	if !slices.Equal(b.ports, []int{3333, 4444, 14444}) {
		t.Errorf("beacon connects on ports %v, want the user data's stratum_ports 3333 4444 14444", b.ports)
	}
	if off, err := parseBeacon(strings.Replace(userData, "connect_to_pools=true", "connect_to_pools=false", 1)); err != nil || len(off.ports) != 0 {
		t.Errorf("with connect_to_pools=false the beacon connects on %v (%v), want no connection", off.ports, err)
	}
	for _, pool := range b.pools {
		if !strings.Contains(userData, "\n  "+pool+"\n") {
			t.Errorf("pool %s is not in the user data's list", pool)
		}
	}
	for name, changed := range map[string]string{
		"NoPools":                 strings.Replace(userData, "pools=(", "names=(", 1),
		"NoRandomNames":           strings.ReplaceAll(userData, "random_label", "label"),
		"NoSchedule":              strings.NewReplacer("* * * * *", "0 * * * *", "OnUnitActiveSec=60", "OnUnitActiveSec=3600").Replace(userData),
		"NoConnectSetting":        strings.Replace(userData, "connect_to_pools=true", "connect=true", 1),
		"ConnectsOtherwise":       strings.Replace(userData, `probe "$address"`, `probe "$host"`, 1),
		"ConnectsWithoutPortList": strings.Replace(userData, "stratum_ports=(", "ports=(", 1),
	} {
		if _, err := parseBeacon(changed); err == nil {
			t.Errorf("%s: parseBeacon accepted a user data it cannot follow", name)
		}
	}
}
