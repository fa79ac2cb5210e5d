package simulation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// Paths relative to this package.
const (
	workshopTemplate   = "../../cdk.out/WorkshopStack.yaml"
	simulationTemplate = "../../cdk.out/SimulationStack.yaml"
	scriptsDir         = "../../scripts"
)

// Facts the scripts build on.
const (
	amiParameter    = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	adminPolicyArn  = "arn:aws:iam::aws:policy/AdministratorAccess"
	runTagKey       = "ir-workshop:simulation-run"
	simulationTag   = "ir-workshop:simulation"
	incidentTagKey  = "ir-workshop:incident-id"
	isolationGroup  = "ir-workshop-isolation"
	containPolicy   = "ir-containment-deny-all"
	bitcoinToolType = "CryptoCurrency:EC2/BitcoinTool.B!DNS"
)

// scriptTimeout bounds one script run; the slowest, a simulation, takes
// seconds against the emulator.
const scriptTimeout = 3 * time.Minute

// result is the outcome of one script run.
type result struct {
	stdout, stderr string
	code           int // -1 when a signal ended the script
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runScript runs scripts/name with env and args in dir (a new temporary
// directory if empty), with TMPDIR set to a directory of its own.
func runScript(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	return startScript(t, dir, env, name, args...).wait(t)
}

// running is a script started by startScript.
type running struct {
	name           string
	cmd            *exec.Cmd
	ctx            context.Context
	cancel         context.CancelFunc
	stdout, stderr bytes.Buffer
	// ended is closed when the script has ended, with waitErr set.
	ended   chan struct{}
	waitErr error
}

// startScript starts scripts/name as runScript does, in a process group of
// its own (so that a Hook's interrupt reaches the script and its AWS CLI
// calls, and nothing else), and returns at once.
func startScript(t *testing.T, dir string, env []string, name string, args ...string) *running {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(scriptsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return startCommand(t, dir, env, name, path, args...)
}

// startCommand is startScript for the program at path, called name in
// messages.
func startCommand(t *testing.T, dir string, env []string, name, path string, args ...string) *running {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	r := &running{name: name, ctx: ctx, cancel: cancel, ended: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, path, args...)
	r.cmd.Env = moto.WithEnv(moto.CountScriptCalls(t, env), "TMPDIR="+t.TempDir())
	r.cmd.Dir = dir
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = &r.stderr
	moto.OwnProcessGroup(r.cmd)
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("running %s: %v", name, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.ended)
	}()
	t.Cleanup(cancel)
	return r
}

// wait waits until the script ends and returns its outcome.
func (r *running) wait(t *testing.T) result {
	t.Helper()
	<-r.ended
	err := r.waitErr
	res := result{stdout: r.stdout.String(), stderr: r.stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running %s: %v", r.name, err)
	}
	if errors.Is(r.ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %s\n%s", r.name, scriptTimeout, res)
	}
	return res
}

// paste runs a command line that a script printed for the user to paste, as
// bash runs what is pasted into it.
func paste(t *testing.T, env []string, line string) result {
	t.Helper()
	if line == "" {
		t.Fatal("no command to paste")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	return startCommand(t, "", env, "the pasted command", bash, "-c", line).wait(t)
}

// printedCommand returns the command that a script printed, for the user to
// paste, on the line after the one that contains intro; "" if there is none.
func printedCommand(text, intro string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if strings.Contains(line, intro) && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}

// awkwardDir returns a new directory, kept until the whole test ends, whose
// path has a space and a quote in it, as a facilitator's might.
func (w *workshop) awkwardDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(w.runDir(t), "it's game day")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustSucceed fails the test unless the script exited 0.
func mustSucceed(t *testing.T, res result, what string) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("%s: %s", what, res)
	}
}

// state is a simulation's state file.
type state struct {
	Simulation string `json:"simulation"`
	Version    int    `json:"state_version"`
	RunID      string `json:"run_id"`
	Region     string `json:"region"`
	AccountID  string `json:"account_id"`
	ActorArn   string `json:"actor_arn"`
	Status     string `json:"status"`
	VpcID      string `json:"vpc_id"`
	SubnetID   string `json:"subnet_id"`
	ImageID    string `json:"image_id"`
	Resources  struct {
		IAMUser            string   `json:"iam_user"`
		AttachedPolicyArns []string `json:"attached_policy_arns"`
		AccessKeyIDs       []string `json:"access_key_ids"`
		S3Bucket           string   `json:"s3_bucket"`
		S3ObjectKeys       []string `json:"s3_object_keys"`
		InstanceIDs        []string `json:"instance_ids"`
	} `json:"resources"`
}

func readState(t *testing.T, path string) state {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the state file: %v", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state file %s is not JSON: %v\n%s", path, err, b)
	}
	return st
}

// onlyStateFile returns the one file in dir whose name starts with prefix,
// the state file a simulation wrote by default.
func onlyStateFile(t *testing.T, dir, prefix string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 1 {
		t.Fatalf("want one %s*.json state file in the working directory, found %v", prefix, matches)
	}
	return matches[0]
}

// cannotReach is what script says first when it cannot reach AWS at
// moto.UnreachableURL (run with moto.UnreachableEnv).
func cannotReach(script string) string {
	return script + ": cannot reach AWS at " + moto.UnreachableURL
}

// noStateFiles fails the test if dir holds any file: a refused run must not
// leave a state file.
func noStateFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the run left %s in its working directory", e.Name())
	}
}

// secretLike matches a 40-character AWS secret access key standing alone.
var secretLike = regexp.MustCompile(`(^|[^A-Za-z0-9/+=])[A-Za-z0-9/+]{40}([^A-Za-z0-9/+=]|$)`)

// requireNoSecret fails the test if a text shows a secret access key.
func requireNoSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if strings.Contains(text, "SecretAccessKey") || secretLike.MatchString(text) {
			t.Errorf("%s shows what looks like a secret access key:\n%s", what, text)
		}
	}
}

// awsErr runs the AWS CLI and returns its error, nil if it succeeded.
func awsErr(t *testing.T, s *moto.Server, env []string, args ...string) error {
	t.Helper()
	_, err := s.AWS(t, env, args...)
	return err
}

// userExists reports whether IAM user name exists.
func userExists(t *testing.T, s *moto.Server, env []string, name string) bool {
	t.Helper()
	err := awsErr(t, s, env, "iam", "get-user", "--user-name", name)
	if err != nil && !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Fatal(err)
	}
	return err == nil
}

// bucketExists reports whether S3 bucket name exists.
func bucketExists(t *testing.T, s *moto.Server, env []string, name string) bool {
	t.Helper()
	err := awsErr(t, s, env, "s3api", "head-bucket", "--bucket", name)
	if err != nil && !strings.Contains(err.Error(), "404") && !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Fatal(err)
	}
	return err == nil
}

// instance is what the tests read of an EC2 instance.
type instance struct {
	InstanceID      string `json:"InstanceId"`
	InstanceType    string
	ImageID         string `json:"ImageId"`
	VpcID           string `json:"VpcId"`
	SubnetID        string `json:"SubnetId"`
	State           struct{ Name string }
	Tags            []tag
	MetadataOptions struct {
		HTTPTokens string `json:"HttpTokens"`
	}
	NetworkInterfaces []struct {
		NetworkInterfaceID string `json:"NetworkInterfaceId"`
		Groups             []struct {
			GroupID string `json:"GroupId"`
		}
	}
	BlockDeviceMappings []struct {
		Ebs struct {
			VolumeID string `json:"VolumeId"`
		}
	}
}

type tag struct{ Key, Value string }

func tagValue(tags []tag, key string) string {
	for _, tg := range tags {
		if tg.Key == key {
			return tg.Value
		}
	}
	return ""
}

// describeInstances returns the instances that match the describe-instances
// arguments.
func describeInstances(t *testing.T, s *moto.Server, env []string, args ...string) []instance {
	t.Helper()
	var out struct {
		Reservations []struct{ Instances []instance }
	}
	s.MustAWSJSON(t, env, &out, append([]string{"ec2", "describe-instances"}, args...)...)
	var all []instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func describeInstance(t *testing.T, s *moto.Server, env []string, id string) instance {
	t.Helper()
	found := describeInstances(t, s, env, "--instance-ids", id)
	if len(found) != 1 {
		t.Fatalf("instance %s: found %d", id, len(found))
	}
	return found[0]
}

// liveInstances returns the instances in VPC vpcID that are not terminated.
func liveInstances(t *testing.T, s *moto.Server, env []string, vpcID string) []string {
	t.Helper()
	var ids []string
	for _, in := range describeInstances(t, s, env, "--filters", "Name=vpc-id,Values="+vpcID) {
		if in.State.Name != "terminated" && in.State.Name != "shutting-down" {
			ids = append(ids, in.InstanceID)
		}
	}
	slices.Sort(ids)
	return ids
}

// userData returns the decoded user data of an instance.
func userData(t *testing.T, s *moto.Server, env []string, id string) string {
	t.Helper()
	var out struct{ UserData struct{ Value string } }
	s.MustAWSJSON(t, env, &out, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "userData")
	b, err := base64.StdEncoding.DecodeString(out.UserData.Value)
	if err != nil {
		t.Fatalf("user data of %s is not base64: %v", id, err)
	}
	return string(b)
}

// terminationProtected reports whether an instance has termination
// protection on.
func terminationProtected(t *testing.T, s *moto.Server, env []string, id string) bool {
	t.Helper()
	var out struct {
		DisableAPITermination struct{ Value bool } `json:"DisableApiTermination"`
	}
	s.MustAWSJSON(t, env, &out, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "disableApiTermination")
	return out.DisableAPITermination.Value
}

// recordedRequest is one request in moto's recording.
type recordedRequest struct {
	Headers     map[string]string `json:"headers"`
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Body        string            `json:"body"`
	BodyEncoded bool              `json:"body_encoded"`
}

// action returns the API action of a query-protocol request (IAM, EC2, STS),
// or the X-Amz-Target of a JSON one.
func (r recordedRequest) action() string {
	if target := r.Headers["X-Amz-Target"]; target != "" {
		return target
	}
	body := r.Body
	if r.BodyEncoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return ""
		}
		body = string(b)
	}
	values, err := url.ParseQuery(body)
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

// accessKey returns the access key ID that signed the request.
func (r recordedRequest) accessKey() string {
	_, after, ok := strings.Cut(r.Headers["Authorization"], "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(after, "/")
	return key
}

// recording returns every request moto recorded so far, one JSON object a
// line. A line that does not parse is skipped: moto may be writing the last
// one, and its threads can interleave the writes of two large requests (the
// templates that CreateStack sends); the scripts' requests are small.
func recording(t *testing.T, s *moto.Server) []recordedRequest {
	t.Helper()
	data, err := os.ReadFile(s.RecordingFile)
	if err != nil {
		t.Fatalf("reading moto's recording: %v", err)
	}
	var all []recordedRequest
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r recordedRequest
		if len(line) > 0 && json.Unmarshal(line, &r) == nil {
			all = append(all, r)
		}
	}
	return all
}

// appRequests returns the recorded requests whose User-Agent carries the
// app ID that a script sets for run runID.
func appRequests(t *testing.T, s *moto.Server, runID string) []recordedRequest {
	t.Helper()
	var out []recordedRequest
	for _, r := range recording(t, s) {
		if hasAppID(r, runID) {
			out = append(out, r)
		}
	}
	return out
}

// readOnly matches the API actions that change nothing.
var readOnly = regexp.MustCompile(`^(Get|Describe|List|Head)`)

// requireOnlyReads fails the test unless every request that carried the
// app ID of appID (a run ID, or RUN_ID-undo) only read: what a script that
// must change nothing may send.
func requireOnlyReads(t *testing.T, w *workshop, appID, what string) {
	t.Helper()
	sent := appRequests(t, w.s, appID)
	if len(sent) == 0 {
		t.Errorf("%s: moto recorded no request with app ID %s", what, appID)
	}
	for _, r := range sent {
		// S3's REST requests name no action: GET and HEAD read.
		rest := r.action() == "" && (r.Method == "GET" || r.Method == "HEAD")
		// A JSON protocol's target is SERVICE.Action.
		action := r.action()[strings.LastIndex(r.action(), ".")+1:]
		if !rest && !readOnly.MatchString(action) {
			t.Errorf("%s sent %s %s (%s); want only requests that read", what, r.Method, r.URL, r.action())
		}
	}
}

func hasAppID(r recordedRequest, runID string) bool {
	return strings.Contains(" "+r.Headers["User-Agent"]+" ", " app/ir-workshop-"+runID+" ")
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
