package simulation

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// TestS3ExfiltrationRunsAndIsUndoneLeavingNothing deploys both templates into
// an emulator of its own that checks credentials and IAM policies, seeds the
// data bucket, runs the exfiltration cases one after the other (they act on
// the one data bucket), and at the end checks with one inventory (IAM, S3
// with every object version, KMS keys and their states, EC2) that nothing of
// any run is left, and that what was made before and outside the runs, the
// records with every version among it, is as it was.
func TestS3ExfiltrationRunsAndIsUndoneLeavingNothing(t *testing.T) {
	t.Parallel()
	w := newS3Workshop(t)
	testS3Exfiltration(t, w)
	requireRunsUndone(t, w.workshop)
	requireBystandersUntouched(t, w.workshop)
}

// testS3Exfiltration runs the exfiltration simulation four times on the
// data bucket, one run after the other, and undoes each:
//  1. a complete run with the reporting user's key: the burst of reads, the
//     public policy attempt refused, logging off, the copies in the staging
//     bucket; undone with the command it printed, pasted (the state file's
//     path has a space and a quote), then once more: already undone;
//  2. a run interrupted by Ctrl-C just after it turned logging off, undone
//     by its run ID alone (-t), which finds where the logs went on the data
//     bucket's tag;
//  3. a run killed (SIGKILL: no trap runs) after it copied the records into
//     its staging bucket, undone from its state file;
//  4. a run whose public policy Block Public Access does not refuse (a key
//     without the stand-in): the run puts the previous policy back at once
//     and stops; undone from its state file.
func testS3Exfiltration(t *testing.T, w *s3Workshop) {
	s, env := w.s, w.env

	t.Run("CompleteRunReadsEverythingIsRefusedPublicAccessAndIsUndone", func(t *testing.T) {
		path := filepath.Join(w.awkwardDir(t), "s3 exfiltration.json")
		res := runScript(t, "", env, "simulate-s3-exfiltration.sh", "-s", path)
		mustSucceed(t, res, "simulate-s3-exfiltration.sh")
		requireNoSecret(t, "the simulation's output or state file", res.stdout, res.stderr, readFile(t, path))
		st := readS3State(t, path)
		if st.Simulation != "s3-exfiltration" || st.Status != "complete" || !strings.HasSuffix(st.ActorArn, ":user/reporting") {
			t.Errorf("state file: simulation %q, status %q, actor %s; want s3-exfiltration, complete, user reporting", st.Simulation, st.Status, st.ActorArn)
		}
		staging := st.Resources.S3Bucket
		if st.Resources.DataBucket != w.bucket || st.Resources.AccessLogging != w.logsTo || staging != "ir-exfil-"+accountOf(st.ActorArn)+"-"+st.RunID {
			t.Fatalf("state records data bucket %q, logging %q, staging bucket %q; want %s, %s, ir-exfil-ACCOUNT-%s",
				st.Resources.DataBucket, st.Resources.AccessLogging, staging, w.bucket, w.logsTo, st.RunID)
		}

		// Every record read in the burst, and copied.
		if got := len(s3Requests(t, w, st.RunID, "GET", "/"+w.bucket+"/records/")); got != len(w.records) {
			t.Errorf("the run made %d GetObject requests for records, want one for each of the %d", got, len(w.records))
		}
		var copies struct{ Contents []struct{ Key string } }
		s.MustAWSJSON(t, env, &copies, "s3api", "list-objects-v2", "--bucket", staging)
		if len(copies.Contents) != len(w.records) {
			t.Errorf("staging bucket %s holds %d objects, want the %d records", staging, len(copies.Contents), len(w.records))
		}
		var tagging struct{ TagSet []tag }
		s.MustAWSJSON(t, env, &tagging, "s3api", "get-bucket-tagging", "--bucket", staging)
		if tagValue(tagging.TagSet, runTagKey) != st.RunID || tagValue(tagging.TagSet, simulationTag) != "s3-exfiltration" {
			t.Errorf("staging bucket %s has tags %v, want the run's", staging, tagging.TagSet)
		}

		// The public policy was tried, refused, and changed nothing.
		puts := s3Requests(t, w, st.RunID, "PUT", "/"+w.bucket+"?policy")
		if len(puts) != 1 || !strings.Contains(puts[0].Body, `"Principal":"*"`) || !strings.Contains(puts[0].Body, "IrWorkshopPublicRead") {
			t.Errorf("the run made %d PutBucketPolicy requests on the data bucket, want one adding a statement for Principal *: %+v", len(puts), puts)
		}
		if !strings.Contains(res.stderr, "making the records public was refused") || !strings.Contains(res.stderr, "AccessDenied") {
			t.Errorf("the run does not report the refusal:\n%s", res)
		}
		if got := dataBucketPolicy(t, w); got != w.policy {
			t.Errorf("the data bucket's policy changed:\n%s", got)
		}
		if got := dataBucketLogging(t, w); got != "" {
			t.Errorf("the data bucket still logs to %s after the run", got)
		}

		undo := printedCommand(res.stdout, "Undo it with:")
		mustSucceed(t, paste(t, env, undo), "the undo command the simulation printed, pasted: "+undo)
		if bucketExists(t, s, env, staging) {
			t.Errorf("staging bucket %s remains after undo", staging)
		}
		requireDataBucketAsDeployed(t, w, "after undo")
		again := runScript(t, "", env, "undo-s3-exfiltration.sh", "-s", path)
		mustSucceed(t, again, "undo-s3-exfiltration.sh, twice")
		if !strings.Contains(again.stdout, "already gone") || !strings.Contains(again.stdout, "logging is on") {
			t.Errorf("undo after undo does not say everything is already undone:\n%s", again)
		}
		if got := readS3State(t, path).Status; got != "undone" {
			t.Errorf("state file status %q after undo, want undone", got)
		}
		w.expectUndone(t, st.RunID)
	})

	t.Run("InterruptedAfterLoggingOffIsUndoneByRunID", func(t *testing.T) {
		hook := moto.NewHook(t, env)
		hook.InterruptAfter(t, "s3api put-bucket-logging")
		dir := t.TempDir()
		res := runScript(t, dir, hook.Env(env), "simulate-s3-exfiltration.sh")
		if res.code != 130 {
			t.Fatalf("want exit 130 after SIGINT\n%s", res)
		}
		st := readS3State(t, onlyStateFile(t, dir, "s3-exfiltration-"))
		if st.Status != "failed" || st.Resources.AccessLogging != w.logsTo || st.Resources.S3Bucket != "" {
			t.Errorf("state after Ctrl-C: %s, logging %q, staging %q; want failed, the logging recorded, no bucket", st.Status, st.Resources.AccessLogging, st.Resources.S3Bucket)
		}
		if got := dataBucketLogging(t, w); got != "" {
			t.Fatalf("the data bucket logs to %q after the interrupted run, want nowhere", got)
		}
		res = runScript(t, "", env, "undo-s3-exfiltration.sh", "-t", st.RunID)
		mustSucceed(t, res, "undo-s3-exfiltration.sh -t RUN_ID")
		if !strings.Contains(res.stdout, "turned server access logging back on, to "+w.logsTo) {
			t.Errorf("undo by run ID does not say it turned logging back on from the bucket's tag:\n%s", res)
		}
		requireDataBucketAsDeployed(t, w, "after undo by run ID")
		w.expectUndone(t, st.RunID)
	})

	t.Run("CrashedAfterTheCopiesIsUndoneFromItsStateFile", func(t *testing.T) {
		dir := t.TempDir()
		res := runScript(t, dir, moto.WithEnv(env, "IR_WORKSHOP_TEST_CRASH_AFTER=copies"), "simulate-s3-exfiltration.sh")
		if res.code != -1 || !strings.Contains(res.stderr, "crashing after step copies") {
			t.Fatalf("want the script killed after step copies\n%s", res)
		}
		path := onlyStateFile(t, dir, "s3-exfiltration-")
		st := readS3State(t, path)
		if st.Status != "running" || st.Resources.AccessLogging != w.logsTo || st.Resources.S3Bucket == "" {
			t.Fatalf("state after a crash: %s, %+v; want running (no trap runs on SIGKILL), the logging and the staging bucket recorded", st.Status, st.Resources)
		}
		var copies struct{ Contents []struct{ Key string } }
		s.MustAWSJSON(t, env, &copies, "s3api", "list-objects-v2", "--bucket", st.Resources.S3Bucket)
		if len(copies.Contents) != len(w.records) {
			t.Fatalf("staging bucket %s holds %d objects after the crash, want the %d records", st.Resources.S3Bucket, len(copies.Contents), len(w.records))
		}
		mustSucceed(t, runScript(t, "", env, "undo-s3-exfiltration.sh", "-s", path), "undo-s3-exfiltration.sh -s STATE_FILE after a crash")
		if bucketExists(t, s, env, st.Resources.S3Bucket) {
			t.Errorf("staging bucket %s remains after undo", st.Resources.S3Bucket)
		}
		requireDataBucketAsDeployed(t, w, "after undo of the crashed run")
		w.expectUndone(t, st.RunID)
	})

	t.Run("PublicPolicyAcceptedIsPutBackAtOnce", func(t *testing.T) {
		// A key of the reporting user's permissions, without the stand-in
		// for Block Public Access: S3 accepts the public policy.
		profile := "reporting-without-block-public-access"
		var policy struct{ PolicyDocument any }
		var names struct{ PolicyNames []string }
		s.MustAWSJSON(t, env, &names, "iam", "list-user-policies", "--user-name", "reporting")
		s.MustAWS(t, env, "iam", "create-user", "--user-name", profile)
		for _, name := range names.PolicyNames {
			if name == moto.BlockPublicAccessStandIn {
				continue
			}
			s.MustAWSJSON(t, env, &policy, "iam", "get-user-policy", "--user-name", "reporting", "--policy-name", name)
			s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", profile, "--policy-name", name, "--policy-document", jsonText(t, policy.PolicyDocument))
		}
		var key struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		s.MustAWSJSON(t, env, &key, "iam", "create-access-key", "--user-name", profile)
		// The simulation's default profile, with this key, in files of its
		// own: the shared ones are being read by the cases beside this one.
		credentials := writeFile(t, "credentials", "[s3_exfiltration]\naws_access_key_id = "+key.AccessKey.AccessKeyId+
			"\naws_secret_access_key = "+key.AccessKey.SecretAccessKey+"\n")
		own := moto.WithEnv(env, "AWS_SHARED_CREDENTIALS_FILE="+credentials, "AWS_CONFIG_FILE="+writeFile(t, "config", ""))
		before := takeInventory(t, w.workshop)

		dir := t.TempDir()
		res := runScript(t, dir, own, "simulate-s3-exfiltration.sh")
		if res.code != 1 || !strings.Contains(res.stderr, "S3 accepted a policy that makes the records") || !strings.Contains(res.stderr, "the previous policy is back") {
			t.Fatalf("want exit 1, the previous policy put back at once\n%s", res)
		}
		st := readS3State(t, onlyStateFile(t, dir, "s3-exfiltration-"))
		puts := s3Requests(t, w, st.RunID, "PUT", "/"+w.bucket+"?policy")
		if len(puts) != 2 || !sameJSON(t, puts[1].Body, w.policy) {
			t.Errorf("want the public policy, then the previous one put back: %+v", puts)
		}
		if got := dataBucketPolicy(t, w); !sameJSON(t, got, w.policy) {
			t.Errorf("the data bucket's policy after the run:\n%s\nwant\n%s", got, w.policy)
		}
		if st.Status != "failed" || st.Resources.AccessLogging != "" || dataBucketLogging(t, w) != w.logsTo {
			t.Errorf("the run went on after the public policy was accepted: state %+v", st)
		}
		mustSucceed(t, runScript(t, "", env, "undo-s3-exfiltration.sh", "-s", onlyStateFile(t, dir, "s3-exfiltration-")), "undo-s3-exfiltration.sh")
		requireSameInventory(t, "the run whose public policy was accepted, undone,", before, takeInventory(t, w.workshop))
		w.expectUndone(t, st.RunID)
		s.MustAWS(t, env, "iam", "delete-access-key", "--user-name", profile, "--access-key-id", key.AccessKey.AccessKeyId)
		for _, name := range names.PolicyNames {
			if name != moto.BlockPublicAccessStandIn {
				s.MustAWS(t, env, "iam", "delete-user-policy", "--user-name", profile, "--policy-name", name)
			}
		}
		s.MustAWS(t, env, "iam", "delete-user", "--user-name", profile)
	})
}

// jsonText encodes v as JSON.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether two texts are the same JSON value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// accountOf returns the account of an IAM ARN.
func accountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}
