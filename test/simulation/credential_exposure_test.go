package simulation

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completeRun is a simulation run that ended well: its state file and the
// undo command it printed.
type completeRun struct {
	path, undo string
}

// runCredentialExposure runs simulate-credential-exposure.sh with its
// default profile (the integration user's key) and a state file in a
// directory whose name has a space and a quote, checks what it created, and
// returns the run.
func runCredentialExposure(t *testing.T, w *workshop) completeRun {
	t.Helper()
	s, env := w.s, w.env
	path := filepath.Join(w.awkwardDir(t), "credential exposure.json")
	res := runScript(t, "", env, "simulate-credential-exposure.sh", "-s", path)
	mustSucceed(t, res, "simulate-credential-exposure.sh")
	st := readState(t, path)
	requireNoSecret(t, "the simulation's output or state file", res.stdout, res.stderr, readFile(t, path))

	if st.Simulation != "credential-exposure" || st.Status != "complete" || st.Region != "us-east-1" || st.Version != 1 {
		t.Errorf("state file: simulation %q, status %q, region %q, version %d; want credential-exposure, complete, us-east-1, 1",
			st.Simulation, st.Status, st.Region, st.Version)
	}
	if !strings.HasSuffix(st.ActorArn, ":user/integration") {
		t.Errorf("the simulation acted as %s, want the leaked key's user integration", st.ActorArn)
	}

	user := st.Resources.IAMUser
	if user != "ir-persistence-"+st.RunID || !userExists(t, s, env, user) {
		t.Fatalf("persistence user %q: want existing user ir-persistence-%s", user, st.RunID)
	}
	var tags struct{ Tags []tag }
	s.MustAWSJSON(t, env, &tags, "iam", "list-user-tags", "--user-name", user)
	if tagValue(tags.Tags, runTagKey) != st.RunID || tagValue(tags.Tags, simulationTag) != "credential-exposure" {
		t.Errorf("user %s has tags %v, want %s=%s and %s=credential-exposure", user, tags.Tags, runTagKey, st.RunID, simulationTag)
	}
	var attached struct{ AttachedPolicies []struct{ PolicyArn string } }
	s.MustAWSJSON(t, env, &attached, "iam", "list-attached-user-policies", "--user-name", user)
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyArn != adminPolicyArn {
		t.Errorf("user %s has policies %+v, want %s", user, attached.AttachedPolicies, adminPolicyArn)
	}
	if !slices.Equal(st.Resources.AttachedPolicyArns, []string{adminPolicyArn}) {
		t.Errorf("state records attachments %v, want [%s]", st.Resources.AttachedPolicyArns, adminPolicyArn)
	}
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId, Status string }
	}
	s.MustAWSJSON(t, env, &keys, "iam", "list-access-keys", "--user-name", user)
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != "Active" ||
		!slices.Equal(st.Resources.AccessKeyIDs, []string{keys.AccessKeyMetadata[0].AccessKeyId}) {
		t.Fatalf("user %s has keys %+v; state records %v; want one active key, recorded", user, keys.AccessKeyMetadata, st.Resources.AccessKeyIDs)
	}

	bucket := st.Resources.S3Bucket
	if !strings.HasSuffix(bucket, "-"+st.RunID) || !bucketExists(t, s, env, bucket) {
		t.Fatalf("recon bucket %q: want an existing bucket named with run ID %s", bucket, st.RunID)
	}
	var tagging struct{ TagSet []tag }
	s.MustAWSJSON(t, env, &tagging, "s3api", "get-bucket-tagging", "--bucket", bucket)
	if tagValue(tagging.TagSet, runTagKey) != st.RunID {
		t.Errorf("bucket %s has tags %v, want %s=%s", bucket, tagging.TagSet, runTagKey, st.RunID)
	}
	if len(st.Resources.S3ObjectKeys) != 1 {
		t.Fatalf("state records objects %v, want one", st.Resources.S3ObjectKeys)
	}
	reconPath := filepath.Join(t.TempDir(), "recon.json")
	s.MustAWS(t, env, "s3api", "get-object", "--bucket", bucket, "--key", st.Resources.S3ObjectKeys[0], reconPath)
	var recon struct {
		RunID       string `json:"run_id"`
		CollectedBy string `json:"collected_by"`
		Calls       []struct {
			Call string `json:"call"`
			OK   bool   `json:"ok"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(readFile(t, reconPath)), &recon); err != nil {
		t.Fatalf("recon object is not JSON: %v", err)
	}
	if recon.RunID != st.RunID || recon.CollectedBy != user {
		t.Errorf("recon object: run %q collected by %q, want %s by %s", recon.RunID, recon.CollectedBy, st.RunID, user)
	}
	services := map[string]bool{}
	succeeded := 0
	for _, c := range recon.Calls {
		services[strings.Fields(c.Call)[0]] = true
		if c.OK {
			succeeded++
		}
	}
	for _, svc := range []string{"iam", "lambda", "kms", "logs", "s3api", "ec2", "secretsmanager", "sqs"} {
		if !services[svc] {
			t.Errorf("reconnaissance made no %s call; calls: %+v", svc, recon.Calls)
		}
	}
	// moto rejects Lambda's signature when it checks credentials; the
	// simulation notes the failure and goes on.
	if succeeded < len(recon.Calls)-1 {
		t.Errorf("only %d of %d reconnaissance calls succeeded: %+v", succeeded, len(recon.Calls), recon.Calls)
	}

	// The run ID reaches the User-Agent, from the leaked key's first call to
	// the persistence key's last.
	newKey := st.Resources.AccessKeyIDs[0]
	tagged := appRequests(t, s, st.RunID)
	if !slices.ContainsFunc(tagged, func(r recordedRequest) bool { return r.action() == "CreateUser" }) {
		t.Errorf("no recorded CreateUser request carries app/ir-workshop-%s in its User-Agent", st.RunID)
	}
	signedByNewKey := 0
	for _, r := range recording(t, s) {
		if r.accessKey() == newKey {
			signedByNewKey++
			if !hasAppID(r, st.RunID) {
				t.Errorf("request %s %s signed by the persistence key lacks the app ID: User-Agent %q", r.Method, r.action(), r.Headers["User-Agent"])
			}
		}
	}
	if signedByNewKey < len(recon.Calls) {
		t.Errorf("moto recorded %d requests signed by the persistence key, want at least the %d reconnaissance calls", signedByNewKey, len(recon.Calls))
	}
	return completeRun{path: path, undo: printedCommand(res.stdout, "Undo it with:")}
}

// undoCredentialExposure undoes a complete run three times, as a responder
// might:
//  1. with a profile allowed IAM but no S3 action: refused before anything
//     is deleted, with the missing permission named, and the bucket not
//     blamed on another account;
//  2. by the run's tag (-t RUN_ID), without the state file: everything goes;
//  3. with the command the simulation printed, pasted as printed (the state
//     file's path has a space and a quote): everything is already gone, and
//     the state file is marked undone.
func undoCredentialExposure(t *testing.T, w *workshop, run completeRun) {
	t.Helper()
	s, env := w.s, w.env
	st := readState(t, run.path)

	denied := runScript(t, "", env, "undo-credential-exposure.sh", "-s", run.path, "-p", "no-s3")
	if denied.code != 1 || !strings.Contains(denied.stderr, "s3:ListBucket") || !strings.Contains(denied.stderr, "AccessDenied") ||
		!strings.Contains(denied.stderr, "nothing was changed") {
		t.Errorf("undo with a profile lacking S3 permissions: want exit 1 naming s3:ListBucket and AccessDenied, nothing changed\n%s", denied)
	}
	if strings.Contains(denied.stderr, "account's") || strings.Contains(denied.stderr, "another account") {
		t.Errorf("undo with a profile lacking S3 permissions blames the bucket's owner:\n%s", denied)
	}
	requireOnlyReads(t, w, st.RunID+"-undo", "undo with a profile lacking S3 permissions")
	if got := readState(t, run.path).Status; got != "complete" {
		t.Errorf("state file status %q after a refused undo, want complete", got)
	}

	res := runScript(t, "", env, "undo-credential-exposure.sh", "-t", st.RunID)
	mustSucceed(t, res, "undo-credential-exposure.sh -t RUN_ID")
	if userExists(t, s, env, st.Resources.IAMUser) {
		t.Errorf("persistence user %s remains", st.Resources.IAMUser)
	}
	if bucketExists(t, s, env, st.Resources.S3Bucket) {
		t.Errorf("recon bucket %s remains", st.Resources.S3Bucket)
	}
	w.expectUndone(t, st.RunID)

	again := paste(t, env, run.undo)
	mustSucceed(t, again, "the undo command the simulation printed, pasted")
	if !strings.Contains(again.stdout, "already gone") {
		t.Errorf("undo after undo by tag does not say the resources are already gone:\n%s", again)
	}
	if got := readState(t, run.path).Status; got != "undone" {
		t.Errorf("state file status %q after undo, want undone", got)
	}
}
