package recording

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

var update = flag.Bool("update", false, "rewrite ../testdata/recordings/*.jsonl from fresh runs of the simulation scripts")

// FixtureDir holds the committed recordings, relative to this package.
const fixtureDir = "../testdata/recordings"

// refresh is how to refresh the fixtures, for failure messages.
const refresh = "go test ./playbooks/rehearse/recording -run TestSimulationCallsMatchRecordings -update"

// runIDInUserAgent finds the run ID in "app/ir-workshop-RUN_ID".
var runIDInUserAgent = regexp.MustCompile(`app/ir-workshop-([a-z]{2,8}-[0-9]{8}-[0-9]{6}-[0-9a-f]{8})`)

// TestSimulationCallsMatchRecordings runs each simulation script against a
// recording moto_server in which the committed WorkshopStack and
// SimulationStack templates are deployed, and compares the sequence of
// (service, action) of the calls the script makes with the committed
// fixture from which the sample incident's CloudTrail records are derived.
// With -update it rewrites the fixtures instead.
func TestSimulationCallsMatchRecordings(t *testing.T) {
	root := repoRoot(t)
	// AttachUserPolicy of AdministratorAccess needs AWS's managed policies,
	// which moto loads only when asked. moto checks credentials and IAM
	// policies, as in test/simulation: the scripts act with exactly their
	// users' permissions.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	s := moto.Start(t, moto.Options{NoAuthActionCount: moto.AdminSetupCalls, Record: true})
	admin := s.AdminEnv(t)
	params := workshopParameters(t, s, admin, filepath.Join(root, "cdk.out", "WorkshopStack.yaml"))
	moto.DeployTemplate(t, s, admin, "WorkshopStack", filepath.Join(root, "cdk.out", "WorkshopStack.yaml"), params)
	moto.DeployTemplate(t, s, admin, "SimulationStack", filepath.Join(root, "cdk.out", "SimulationStack.yaml"), nil)

	// The profiles the scripts use by default, with keys that moto's IAM
	// issues to the SimulationStack users, in this environment's own AWS
	// CLI files; the environment itself carries no key.
	env := moto.WithEnv(admin, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "IR_WORKSHOP_RETRY_DELAY=0")
	keys := map[string]string{} // simulation → key ID
	var secrets []string
	for _, sim := range Simulations {
		var key struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		s.MustAWSJSON(t, admin, &key, "iam", "create-access-key", "--user-name", sim.User)
		keys[sim.Name] = key.AccessKey.AccessKeyId
		secrets = append(secrets, key.AccessKey.SecretAccessKey)
		writeProfile(t, env, sim.Profile, key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)
	}

	// moto authorizes every request against resource "*", so the pipeline
	// user's ssm:GetParameter, scoped to the public AL2023 parameter, would
	// be denied; as test/simulation does, grant it on "*" in the emulator.
	s.MustAWS(t, admin, "iam", "put-user-policy", "--user-name", "pipeline", "--policy-name", "moto-resource-wildcard",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"*"}]}`)

	// The data bucket of the S3 simulations as the template makes it, with
	// moto's stand-ins (moto.PrepareS3Simulations), filled with the records
	// by an administrator as the README's game day does.
	moto.PrepareS3Simulations(t, s, admin, "SimulationStack", filepath.Join(root, "cdk.out", "SimulationStack.yaml"))
	runScript(t, admin, filepath.Join(root, "scripts", "seed-data-bucket.sh"))

	resolver, err := NewResolver()
	if err != nil {
		t.Fatal(err)
	}
	for _, sim := range Simulations {
		t.Run(sim.Name, func(t *testing.T) {
			script := filepath.Join(root, "scripts", sim.Script)
			if _, err := os.Stat(script); err != nil {
				t.Fatalf("scripts/%s does not exist (%v): the sample incident replays its recorded calls", sim.Script, err)
			}
			recorder(t, s, http.MethodPost, "reset-recording")
			runScript(t, env, script, sim.Args...)
			raw := recorder(t, s, http.MethodGet, "download-recording")
			entries, err := ParseRecording(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var calls []Call
			runID := ""
			for _, e := range entries {
				c, err := resolver.Resolve(e)
				if err != nil {
					t.Fatalf("recorded request of scripts/%s: %v", sim.Script, err)
				}
				if m := runIDInUserAgent.FindStringSubmatch(c.UserAgent); m != nil {
					runID = m[1]
				}
				calls = append(calls, c)
			}
			if runID == "" {
				t.Fatalf("no call of scripts/%s carries app/ir-workshop-RUN_ID in its User-Agent", sim.Script)
			}
			replace := map[string]string{MotoAccount: Account, runID: sim.RunID}
			for _, id := range runKMSKeys(t, s, admin, runID) {
				replace[id] = KMSKeyID
			}
			got := Scrub(calls, ScrubOptions{
				Simulation: sim.Name,
				Keys:       map[string]Principal{keys[sim.Name]: sim.Key},
				Secrets:    secrets,
				Replace:    replace,
				IDs:        resourceOrder(t, s, admin, runID),
			})
			requireNoSecret(t, got, secrets)

			path := filepath.Join(fixtureDir, sim.Name+".jsonl")
			shown := "playbooks/rehearse/testdata/recordings/" + sim.Name + ".jsonl"
			if *update {
				var b bytes.Buffer
				if err := WriteFixture(&b, got); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s: %d calls", shown, len(got))
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("no committed recording of scripts/%s (%v); create it with:\n  %s", sim.Script, err, refresh)
			}
			defer f.Close()
			want, err := ReadFixture(f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := diffOps(ops(want), ops(got)); diff != "" {
				t.Errorf("scripts/%s and the sample incident's recording %s part ways:\n%s\n"+
					"The sample CloudTrail logs are derived from the recording. If the script changed on purpose, refresh it with\n  %s\n"+
					"then review the recording's diff and the playbooks' expected results (go test ./playbooks/rehearse/...).",
					sim.Script, shown, diff, refresh)
			}
		})
	}
}

func ops(calls []Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Op()
	}
	return out
}

// diffOps describes how two sequences of service:action differ, or returns
// "" if they are equal.
func diffOps(want, got []string) string {
	if strings.Join(want, ",") == strings.Join(got, ",") {
		return ""
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return "(end)"
	}
	return fmt.Sprintf("  first difference at call %d: the script calls %s, the recording has %s\n  script (%d calls):    %s\n  recording (%d calls): %s",
		i+1, at(got, i), at(want, i), len(got), strings.Join(got, " "), len(want), strings.Join(want, " "))
}

// requireNoSecret fails the test if a secret survived scrubbing.
func requireNoSecret(t *testing.T, calls []Call, secrets []string) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteFixture(&b, calls); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Fatal("a secret access key survived scrubbing")
		}
	}
	for _, bad := range []string{"Signature=", "Credential=", "X-Amz-Security-Token"} {
		if strings.Contains(text, bad) {
			t.Fatalf("the scrubbed recording contains %q", bad)
		}
	}
}

// resourceOrder lists the resource IDs that take placeholders first, in
// this order: the workshop VPC, its subnets (public first, by zone), then
// the instances that the run launched, by launch order.
func resourceOrder(t *testing.T, s *moto.Server, env []string, runID string) []string {
	t.Helper()
	var vpcs struct{ Vpcs []struct{ VpcId string } }
	s.MustAWSJSON(t, env, &vpcs, "ec2", "describe-vpcs", "--filters", "Name=tag:ir-workshop:network,Values=workshop")
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("want one workshop VPC in the emulator, got %d", len(vpcs.Vpcs))
	}
	vpc := vpcs.Vpcs[0].VpcId
	var subnets struct {
		Subnets []struct {
			SubnetId, AvailabilityZone string
			Tags                       []struct{ Key, Value string }
		}
	}
	s.MustAWSJSON(t, env, &subnets, "ec2", "describe-subnets", "--filters", "Name=vpc-id,Values="+vpc)
	sort.Slice(subnets.Subnets, func(i, j int) bool {
		a, b := subnets.Subnets[i], subnets.Subnets[j]
		pa, pb := subnetType(a.Tags) == "Public", subnetType(b.Tags) == "Public"
		if pa != pb {
			return pa
		}
		return a.AvailabilityZone < b.AvailabilityZone
	})
	ids := []string{vpc}
	for _, sn := range subnets.Subnets {
		ids = append(ids, sn.SubnetId)
	}
	var reservations struct {
		Reservations []struct {
			Instances []struct {
				InstanceId     string
				AmiLaunchIndex int
			}
		}
	}
	s.MustAWSJSON(t, env, &reservations, "ec2", "describe-instances", "--filters", "Name=tag:ir-workshop:simulation-run,Values="+runID)
	for _, r := range reservations.Reservations {
		sort.Slice(r.Instances, func(i, j int) bool { return r.Instances[i].AmiLaunchIndex < r.Instances[j].AmiLaunchIndex })
		for _, in := range r.Instances {
			ids = append(ids, in.InstanceId)
		}
	}
	return ids
}

// runKMSKeys lists the KMS keys that carry the run's tag: the fixture shows
// the documented example key ID in place of each (a run creates at most
// one).
func runKMSKeys(t *testing.T, s *moto.Server, env []string, runID string) []string {
	t.Helper()
	var keys struct{ Keys []struct{ KeyId string } }
	s.MustAWSJSON(t, env, &keys, "kms", "list-keys")
	var ids []string
	for _, k := range keys.Keys {
		var tags struct {
			Tags []struct{ TagKey, TagValue string }
		}
		s.MustAWSJSON(t, env, &tags, "kms", "list-resource-tags", "--key-id", k.KeyId)
		for _, tag := range tags.Tags {
			if tag.TagKey == "ir-workshop:simulation-run" && tag.TagValue == runID {
				ids = append(ids, k.KeyId)
			}
		}
	}
	if len(ids) > 1 {
		t.Fatalf("%d KMS keys carry run %s's tag, want at most one", len(ids), runID)
	}
	return ids
}

func subnetType(tags []struct{ Key, Value string }) string {
	for _, tag := range tags {
		if tag.Key == "aws-cdk:subnet-type" {
			return tag.Value
		}
	}
	return ""
}

// recorder calls moto's recorder API (moto/moto_api/_internal/recorder).
func recorder(t *testing.T, s *moto.Server, method, action string) string {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/moto-api/recorder/"+action, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("moto recorder %s: %v", action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("moto recorder %s: HTTP %d, %v", action, resp.StatusCode, err)
	}
	return string(body)
}

// writeProfile writes an AWS CLI profile into the environment's own
// credentials and config files.
func writeProfile(t *testing.T, env []string, profile, keyID, secret string) {
	t.Helper()
	appendFile := func(path, text string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	appendFile(moto.Getenv(env, "AWS_SHARED_CREDENTIALS_FILE"),
		fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, keyID, secret))
	appendFile(moto.Getenv(env, "AWS_CONFIG_FILE"), fmt.Sprintf("[profile %s]\nregion = %s\n", profile, moto.Region))
}

// runScript runs a simulation script in a directory of its own and fails
// the test, with its output, if it fails.
func runScript(t *testing.T, env []string, path string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = moto.CountScriptCalls(t, env)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, out.String())
	}
}

// workshopParameters makes WorkshopStack's SSM-typed image parameter
// resolvable in the emulator, as test/e2e does: moto resolves the public
// Amazon Linux 2023 parameter itself; if a release does not, an AMI it knows
// goes under a test-owned parameter name.
func workshopParameters(t *testing.T, s *moto.Server, env []string, template string) map[string]string {
	t.Helper()
	tmpl, err := moto.ReadTemplate(template)
	if err != nil {
		t.Fatal(err)
	}
	declared, _ := tmpl["Parameters"].(map[string]any)
	param, _ := declared["InstanceImage"].(map[string]any)
	name, _ := param["Default"].(string)
	if name == "" {
		t.Fatalf("%s: parameter InstanceImage has no default", template)
	}
	if _, err := s.AWS(t, env, "ssm", "get-parameter", "--name", name); err == nil {
		return nil
	} else if !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Fatal(err)
	}
	var images struct{ Images []struct{ ImageId string } }
	s.MustAWSJSON(t, env, &images, "ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023*-x86_64")
	if len(images.Images) == 0 {
		t.Fatalf("moto resolves no %s and knows no Amazon Linux 2023 AMI", name)
	}
	const stand = "/ir-workshop/test/instance-image"
	s.MustAWS(t, env, "ssm", "put-parameter", "--name", stand, "--type", "String", "--value", images.Images[0].ImageId)
	return map[string]string{"InstanceImage": stand}
}

// repoRoot is the repository (playbook.Root).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := playbook.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
