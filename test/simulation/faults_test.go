package simulation

import (
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// testFaults interrupts simulation runs part-way and checks that the state
// file names what exists and that undo then leaves nothing of the run:
//   - a crash between steps: the IR_WORKSHOP_TEST_CRASH_AFTER hook kills the
//     script with SIGKILL, so no trap runs; after the access key (whose
//     secret dies with the process), after the bucket (before its object),
//     after the instances (before they run);
//   - a call the principal's policy denies: the access key, after the user
//     and its administrator policy.
//
// It also runs the crypto mining simulation with a VPC override.
func testFaults(t *testing.T, w *workshop) {
	s, env := w.s, w.env

	crashes := []struct {
		step  string
		check func(t *testing.T, st state)
	}{
		{"access-key", func(t *testing.T, st state) {
			if len(st.Resources.AccessKeyIDs) != 1 || st.Resources.S3Bucket != "" {
				t.Errorf("after step access-key: state %+v, want one key and no bucket", st.Resources)
			}
		}},
		{"bucket", func(t *testing.T, st state) {
			if !bucketExists(t, s, env, st.Resources.S3Bucket) || len(st.Resources.S3ObjectKeys) != 0 {
				t.Errorf("after step bucket: state %+v, want the existing bucket and no object", st.Resources)
			}
		}},
	}
	for _, c := range crashes {
		t.Run("CredentialExposureCrashAfterStep_"+c.step+"_IsUndone", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			res := runScript(t, dir, moto.WithEnv(env, "IR_WORKSHOP_TEST_CRASH_AFTER="+c.step), "simulate-credential-exposure.sh")
			if res.code != -1 || !strings.Contains(res.stderr, "crashing after step "+c.step) {
				t.Fatalf("want the script killed after step %s\n%s", c.step, res)
			}
			st := readState(t, onlyStateFile(t, dir, "credential-exposure-"))
			if st.Status != "running" {
				t.Errorf("state status %q after a crash, want running (no trap runs on SIGKILL)", st.Status)
			}
			c.check(t, st)
			undo := runScript(t, "", env, "undo-credential-exposure.sh", "-s", onlyStateFile(t, dir, "credential-exposure-"))
			mustSucceed(t, undo, "undo after a crash")
			w.expectUndone(t, st.RunID)
		})
	}

	t.Run("CredentialExposureDeniedAccessKeyStepIsUndone", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		// The keyless profile may create and empower a user, but not give it
		// an access key: step 3 is denied.
		res := runScript(t, dir, env, "simulate-credential-exposure.sh", "-p", "keyless")
		if res.code != 1 || !strings.Contains(res.stderr, "step 3: cannot create an access key") ||
			!strings.Contains(res.stderr, "AccessDenied") || !strings.Contains(res.stderr, "undo-credential-exposure.sh -s") {
			t.Fatalf("want step 3 denied, with how to undo\n%s", res)
		}
		path := onlyStateFile(t, dir, "credential-exposure-")
		st := readState(t, path)
		if st.Status != "failed" || !userExists(t, s, env, st.Resources.IAMUser) || len(st.Resources.AttachedPolicyArns) != 1 {
			t.Errorf("state %+v (status %s): want a failed run that records its user and the policy attachment", st.Resources, st.Status)
		}
		mustSucceed(t, runScript(t, "", env, "undo-credential-exposure.sh", "-s", path), "undo after a denied step")
		w.expectUndone(t, st.RunID)
	})

	t.Run("CryptoMiningCrashAfterLaunchIsUndone", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		res := runScript(t, dir, moto.WithEnv(env, "IR_WORKSHOP_TEST_CRASH_AFTER=instances"), "simulate-crypto-mining.sh")
		if res.code != -1 {
			t.Fatalf("want the script killed after step instances\n%s", res)
		}
		path := onlyStateFile(t, dir, "crypto-mining-")
		st := readState(t, path)
		if len(st.Resources.InstanceIDs) != 1 {
			t.Fatalf("state records instances %v, want the one launched before the crash", st.Resources.InstanceIDs)
		}
		if got := describeInstance(t, s, env, st.Resources.InstanceIDs[0]).State.Name; got == "terminated" {
			t.Fatalf("instance %s is %s before undo", st.Resources.InstanceIDs[0], got)
		}
		mustSucceed(t, runScript(t, "", env, "undo-crypto-mining.sh", "-s", path), "undo after a crash")
		w.expectUndone(t, st.RunID)
	})

	t.Run("CryptoMiningVpcOverrideLaunchesInTheNamedVpc", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		res := runScript(t, dir, env, "simulate-crypto-mining.sh", "-v", w.other.vpcID)
		mustSucceed(t, res, "simulate-crypto-mining.sh -v")
		if !strings.Contains(res.stderr, "lacks the tag ir-workshop:network=workshop") {
			t.Errorf("no warning that VPC %s is not the workshop VPC:\n%s", w.other.vpcID, res)
		}
		path := onlyStateFile(t, dir, "crypto-mining-")
		st := readState(t, path)
		for _, id := range st.Resources.InstanceIDs {
			if in := describeInstance(t, s, env, id); in.VpcID != w.other.vpcID || in.SubnetID != w.other.subnetID {
				t.Errorf("instance %s is in %s/%s, want %s/%s", id, in.VpcID, in.SubnetID, w.other.vpcID, w.other.subnetID)
			}
		}
		mustSucceed(t, runScript(t, "", env, "undo-crypto-mining.sh", "-s", path), "undo-crypto-mining.sh")
		w.expectUndone(t, st.RunID)
	})
}
