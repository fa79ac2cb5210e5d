package simulation

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest/iamsim"
	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// lockdownSid is the statement of the lockdown policy
// (playbooks/credential_exposure/policies/lockdown-bucket-policy.json).
const lockdownSid = "IncidentContainmentDenyAllButBreakGlass"

// TestLockBucketAndRestoreItsPolicy runs lock-bucket.sh and
// restore-bucket-policy.sh in an emulated workshop account, on buckets made
// as an intruder's staging bucket would be: bad input first, which must
// change nothing; then, side by side, a bucket without a policy and a bucket
// with one are locked down and restored, and a lockdown whose policy
// someone changed since is not overwritten.
//
// moto stores and returns bucket policies (PutBucketPolicy,
// GetBucketPolicy, DeleteBucketPolicy) but does not enforce them: a request
// of another principal to the locked bucket still succeeds there. What the
// lockdown denies is therefore checked on the policy that the bucket
// holds, with the IAM evaluator of constructs/cdktest/iamsim: every S3
// action of any other principal, or of a service, is explicitly denied; the
// caller's are not.
func TestLockBucketAndRestoreItsPolicy(t *testing.T) {
	w := newWorkshop(t)
	var caller struct{ Account, Arn string }
	w.s.MustAWSJSON(t, w.env, &caller, "sts", "get-caller-identity")

	if !t.Run("BadInputIsRefusedAndChangesNothing", func(t *testing.T) { testLockdownBadInput(t, w, caller.Account) }) {
		t.FailNow()
	}
	t.Run("Lockdown", func(t *testing.T) {
		t.Run("BucketWithoutPolicyAndBack", func(t *testing.T) {
			t.Parallel()
			testLockdownAndBack(t, w, caller.Arn, "ir-staged-inc-2026-0301", "")
		})
		t.Run("BucketWithPolicyAndBackExactly", func(t *testing.T) {
			t.Parallel()
			const bucket = "ir-staged-inc-2026-0302"
			// Odd spacing and a newline: restore must give back this text.
			policy := `{"Version": "2012-10-17",
  "Statement": [{"Sid": "AuditorsRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + caller.Account + `:root"},
    "Action": "s3:GetObject",   "Resource": "arn:aws:s3:::` + bucket + `/*"}]}`
			testLockdownAndBack(t, w, caller.Arn, bucket, policy)
		})
		t.Run("PolicyChangedSinceTheLockdownIsNotOverwritten", func(t *testing.T) {
			t.Parallel()
			testLockdownChangedSince(t, w)
		})
	})
	requireBystandersUntouched(t, w)
}

// bucketPolicy returns the bucket's policy text, "" if it has none.
func bucketPolicy(t *testing.T, w *workshop, bucket string) string {
	t.Helper()
	out, err := w.s.AWS(t, w.env, "s3api", "get-bucket-policy", "--bucket", bucket)
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchBucketPolicy") {
			return ""
		}
		t.Fatalf("get-bucket-policy %s: %v", bucket, err)
	}
	var got struct{ Policy string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("get-bucket-policy %s: %v", bucket, err)
	}
	return got.Policy
}

// lockdownState is what the tests read of a lockdown's state file.
type lockdownState struct {
	Response       string `json:"response"`
	RunID          string `json:"run_id"`
	IncidentID     string `json:"incident_id"`
	Status         string `json:"status"`
	Bucket         string `json:"bucket"`
	PrincipalARN   string `json:"principal_arn"`
	LockdownPolicy string `json:"lockdown_policy"`
	Before         struct {
		Policy *string `json:"policy"`
	} `json:"before"`
}

func readLockdownState(t *testing.T, path string) lockdownState {
	t.Helper()
	var st lockdownState
	if err := json.Unmarshal([]byte(readFile(t, path)), &st); err != nil {
		t.Fatalf("state file %s: %v", path, err)
	}
	return st
}

// requireLockedDown checks the policy on the bucket: the lockdown statement
// only, which explicitly denies every S3 action on the bucket and its
// objects to every principal but keep, and nothing to keep.
func requireLockedDown(t *testing.T, w *workshop, bucket, keep string) {
	t.Helper()
	text := bucketPolicy(t, w, bucket)
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("bucket %s has policy %q: %v", bucket, text, err)
	}
	if sts, _ := doc["Statement"].([]any); len(sts) != 1 || sts[0].(map[string]any)["Sid"] != lockdownSid {
		t.Errorf("bucket %s has policy %s, want the one statement %s", bucket, text, lockdownSid)
	}
	account := strings.Split(keep, ":")[4]
	bucketArn, objectArn := "arn:aws:s3:::"+bucket, "arn:aws:s3:::"+bucket+"/evidence/recon.json"
	for _, c := range []struct {
		principal, action, resource string
		want                        iamsim.Decision
	}{
		{"arn:aws:iam::" + account + ":role/SecurityAnalystRole", "s3:GetObject", objectArn, iamsim.ExplicitDeny},
		{"arn:aws:iam::" + account + ":user/ir-persistence", "s3:PutBucketPolicy", bucketArn, iamsim.ExplicitDeny},
		{"arn:aws:iam::444455556666:root", "s3:ListBucket", bucketArn, iamsim.ExplicitDeny},
		{"cloudtrail.amazonaws.com", "s3:PutObject", objectArn, iamsim.ExplicitDeny},
		{keep, "s3:GetObject", objectArn, iamsim.ImplicitDeny},
		{keep, "s3:PutBucketPolicy", bucketArn, iamsim.ImplicitDeny},
		{keep, "s3:DeleteBucketPolicy", bucketArn, iamsim.ImplicitDeny},
	} {
		got, err := iamsim.Evaluate(doc, iamsim.Request{Principal: c.principal, Action: c.action, Resource: c.resource})
		if err != nil || got != c.want {
			t.Errorf("lockdown of %s: %s %s on %s is %v (%v), want %v", bucket, c.principal, c.action, c.resource, got, err, c.want)
		}
	}
}

// testLockdownAndBack locks down a bucket that has the policy before ("" for
// none), checks the lockdown and its state file, refuses a second lockdown,
// restores with the command lock-bucket.sh printed, and checks that the
// bucket has exactly the policy it had; restoring again changes nothing.
func testLockdownAndBack(t *testing.T, w *workshop, caller, bucket, before string) {
	const incident = "INC-2026-0301"
	w.s.MustAWS(t, w.env, "s3api", "create-bucket", "--bucket", bucket)
	w.s.MustAWS(t, w.env, "s3api", "put-object", "--bucket", bucket, "--key", "evidence/recon.json",
		"--body", writeFile(t, "recon.json", `{"what":"the intruder's recon"}`))
	if before != "" {
		w.s.MustAWS(t, w.env, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", before)
	}
	if got := bucketPolicy(t, w, bucket); got != before {
		t.Fatalf("the fixture is not what the test needs: bucket %s has policy %q, want %q", bucket, got, before)
	}

	statePath := filepath.Join(w.runDir(t), "lockdown.json")
	res := runScript(t, "", w.env, "lock-bucket.sh", "-b", bucket, "-n", incident, "-s", statePath)
	mustSucceed(t, res, "lock-bucket.sh")
	requireLockedDown(t, w, bucket, caller)
	st := readLockdownState(t, statePath)
	if st.Response != "bucket-lockdown" || st.Status != "complete" || st.Bucket != bucket || st.IncidentID != incident || st.PrincipalARN != caller {
		t.Errorf("state file: %+v; want a complete bucket-lockdown of %s for %s keeping %s", st, bucket, incident, caller)
	}
	switch {
	case before == "" && st.Before.Policy != nil:
		t.Errorf("state file keeps policy %q of a bucket that had none; want null", *st.Before.Policy)
	case before != "" && (st.Before.Policy == nil || *st.Before.Policy != before):
		t.Errorf("state file keeps policy %v, want exactly %q", st.Before.Policy, before)
	}
	if st.LockdownPolicy != bucketPolicy(t, w, bucket) {
		t.Errorf("state file records lockdown %s; the bucket has %s", st.LockdownPolicy, bucketPolicy(t, w, bucket))
	}

	// A second lockdown is refused: it would keep the lockdown as "before".
	dir := t.TempDir()
	again := runScript(t, dir, w.env, "lock-bucket.sh", "-b", bucket)
	if again.code != 1 || !strings.Contains(again.stderr, "is locked down already") {
		t.Errorf("locking a locked bucket: want exit 1, locked down already\n%s", again)
	}
	noStateFiles(t, dir)

	restored := paste(t, w.env, printedCommand(res.stdout, "put back the policy it had with:"))
	mustSucceed(t, restored, "the restore command lock-bucket.sh printed")
	if got := bucketPolicy(t, w, bucket); got != before {
		t.Errorf("after the restore bucket %s has policy %q, want exactly %q", bucket, got, before)
	}
	if st := readLockdownState(t, statePath); st.Status != "undone" {
		t.Errorf("after the restore the state file has status %q, want undone", st.Status)
	}
	twice := runScript(t, "", w.env, "restore-bucket-policy.sh", "-s", statePath)
	if twice.code != 0 || !strings.Contains(twice.stdout, "nothing to do") {
		t.Errorf("restoring twice: want exit 0, nothing to do\n%s", twice)
	}
	if got := bucketPolicy(t, w, bucket); got != before {
		t.Errorf("after restoring twice bucket %s has policy %q, want %q", bucket, got, before)
	}
}

// testLockdownChangedSince locks a bucket down, changes its policy as a
// colleague might, and checks that the restore refuses and leaves that
// policy in place.
func testLockdownChangedSince(t *testing.T, w *workshop) {
	const bucket = "ir-staged-inc-2026-0303"
	w.s.MustAWS(t, w.env, "s3api", "create-bucket", "--bucket", bucket)
	statePath := filepath.Join(w.runDir(t), "lockdown.json")
	mustSucceed(t, runScript(t, "", w.env, "lock-bucket.sh", "-b", bucket, "-n", "INC-2026-0303", "-s", statePath), "lock-bucket.sh")
	newer := `{"Version":"2012-10-17","Statement":[{"Sid":"Newer","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
	w.s.MustAWS(t, w.env, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", newer)

	res := runScript(t, "", w.env, "restore-bucket-policy.sh", "-s", statePath)
	if res.code != 1 || !strings.Contains(res.stderr, "someone changed it since the lockdown; nothing was changed") {
		t.Errorf("restoring over a changed policy: want exit 1, someone changed it\n%s", res)
	}
	if got := bucketPolicy(t, w, bucket); got != newer {
		t.Errorf("bucket %s has policy %s after the refused restore, want the newer %s", bucket, got, newer)
	}
	if st := readLockdownState(t, statePath); st.Status != "complete" {
		t.Errorf("the refused restore set status %q, want complete", st.Status)
	}
}

// testLockdownBadInput runs both scripts with bad arguments and state files
// while a bucket with a policy exists, and checks that each is refused with
// a clear message, leaves no state file, changes neither the account nor
// the bucket's policy, and sends only requests that read.
func testLockdownBadInput(t *testing.T, w *workshop, account string) {
	const bucket = "ir-staged-inc-2026-0300"
	w.s.MustAWS(t, w.env, "s3api", "create-bucket", "--bucket", bucket)
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"Kept","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::` + bucket + `"}]}`
	w.s.MustAWS(t, w.env, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", policy)
	inventoryBefore := takeInventory(t, w)

	lockdown := readFile(t, filepath.Join(scriptsDir, "..", "playbooks", "credential_exposure", "policies", "lockdown-bucket-policy.json"))
	valid := map[string]any{
		"response": "bucket-lockdown", "state_version": 1, "run_id": "lock-20260101-120000-0123abcd",
		"incident_id": "INC-2026-0300", "region": moto.Region, "account_id": account, "status": "complete",
		"bucket": bucket, "principal_arn": "arn:aws:iam::" + account + ":role/SecurityBreakGlassRole",
		"lockdown_policy": lockdown, "before": map[string]any{"policy": nil}, "resources": map[string]any{},
	}
	b, err := json.Marshal(valid)
	if err != nil {
		t.Fatal(err)
	}
	damaged := editState(t, string(b), func(st map[string]any) { st["lockdown_policy"] = "{not json" })
	noBefore := editState(t, string(b), func(st map[string]any) { delete(st, "before") })
	badBefore := editState(t, string(b), func(st map[string]any) { st["before"] = map[string]any{"policy": "[1]"} })
	isolation := writeFile(t, "isolation.json", `{"response":"instance-isolation","state_version":1}`)
	garbled := writeFile(t, "garbled.json", `{"response": "bucket-lock`)
	existing := writeFile(t, "existing.json", string(b))
	missing := filepath.Join(t.TempDir(), "missing.json")

	tests := []struct {
		name, script string
		args, env    []string
		code         int
		want         string // in stderr, or in stdout for code 0
	}{
		{name: "LockHelp", script: "lock-bucket.sh", args: []string{"-h"}, want: "Usage: lock-bucket.sh"},
		{name: "RestoreHelp", script: "restore-bucket-policy.sh", args: []string{"-h"}, want: "Usage: restore-bucket-policy.sh"},
		{name: "LockWithoutBucket", script: "lock-bucket.sh", code: 2, want: "missing -b BUCKET"},
		{name: "MalformedBucket", script: "lock-bucket.sh", args: []string{"-b", "Staged_Bucket"}, code: 2, want: "-b: 'Staged_Bucket' is not an S3 bucket name"},
		{name: "UnknownOption", script: "lock-bucket.sh", args: []string{"-b", bucket, "-x"}, code: 2, want: "unknown option -x"},
		{name: "UnknownBucket", script: "lock-bucket.sh", args: []string{"-b", "ir-no-such-bucket-inc-2026-0300"}, code: 1,
			want: "bucket ir-no-such-bucket-inc-2026-0300 does not exist; nothing was changed"},
		{name: "ExistingStateFile", script: "lock-bucket.sh", args: []string{"-b", bucket, "-s", existing}, code: 1, want: "already exists"},
		{name: "UnreachableEndpointForLock", script: "lock-bucket.sh", args: []string{"-b", bucket},
			env: moto.UnreachableEnv(), code: 1, want: cannotReach("lock-bucket.sh")},
		{name: "RestoreWithoutStateFile", script: "restore-bucket-policy.sh", code: 2, want: "missing -s STATE_FILE"},
		{name: "RestoreMissingStateFile", script: "restore-bucket-policy.sh", args: []string{"-s", missing}, code: 1, want: "does not exist; nothing was changed"},
		{name: "RestoreGarbledStateFile", script: "restore-bucket-policy.sh", args: []string{"-s", garbled}, code: 1, want: "it is not one JSON object"},
		{name: "RestoreDamagedStateFile", script: "restore-bucket-policy.sh", args: []string{"-s", damaged}, code: 1, want: "lockdown_policy is '{not json'"},
		{name: "RestoreStateFileWithAnArrayForPolicy", script: "restore-bucket-policy.sh", args: []string{"-s", badBefore}, code: 1, want: "before.policy is '[1]'"},
		{name: "RestoreStateFileWithoutBefore", script: "restore-bucket-policy.sh", args: []string{"-s", noBefore}, code: 1, want: "before is missing"},
		{name: "RestoreIsolationStateFile", script: "restore-bucket-policy.sh", args: []string{"-s", isolation}, code: 1,
			want: "records an instance isolation, not bucket-lockdown: use restore-instance.sh for it"},
		{name: "RestoreInOtherRegion", script: "restore-bucket-policy.sh", args: []string{"-s", existing, "-r", "eu-west-1"}, code: 2,
			want: "region eu-west-1 (-r) is not the region " + moto.Region},
		// The state file records the lockdown of a bucket that has another
		// policy: refused, the policy is kept.
		{name: "RestoreOverAnotherPolicy", script: "restore-bucket-policy.sh", args: []string{"-s", existing}, code: 1,
			want: "neither the lockdown nor the one it had before"},
		{name: "UnreachableEndpointForRestore", script: "restore-bucket-policy.sh", args: []string{"-s", existing},
			env: moto.UnreachableEnv(), code: 1, want: cannotReach("restore-bucket-policy.sh")},
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

	requireSameInventory(t, "the refused lockdown and restore runs", inventoryBefore, takeInventory(t, w))
	if got := bucketPolicy(t, w, bucket); got != policy {
		t.Errorf("bucket %s has policy %s after the refused runs, want %s", bucket, got, policy)
	}
	if readFile(t, existing) != string(b) {
		t.Errorf("a refused run changed state file %s", existing)
	}
	key := ""
	for _, kv := range w.env {
		if k, ok := strings.CutPrefix(kv, "AWS_ACCESS_KEY_ID="); ok {
			key = k
		}
	}
	var sent int
	for _, r := range recording(t, w.s) {
		if !strings.Contains(r.Headers["User-Agent"], "app/ir-workshop-lock-") || r.accessKey() != key {
			continue
		}
		sent++
		// S3's REST requests name no action: only GET and HEAD read.
		if r.action() != "" || (r.Method != "GET" && r.Method != "HEAD") {
			if a := r.action(); a == "" || !readOnly.MatchString(a[strings.LastIndex(a, ".")+1:]) {
				t.Errorf("a refused run sent %s %s (%s); want only requests that read", r.Method, r.URL, r.action())
			}
		}
	}
	if sent == 0 {
		t.Error("moto recorded no request of a lockdown or restore run")
	}
}
