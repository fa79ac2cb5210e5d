package simulation

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// pauseTimeout bounds how long a test waits for a script to reach a call
// that a Hook holds back.
const pauseTimeout = time.Minute

// runStarted finds the run ID that a simulation announces when it starts.
var runStarted = regexp.MustCompile(`run ((?:ce|cm)-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}): acting as`)

// testInterruptions runs simulations that a facilitator interrupts or
// doubles, and checks that undo still leaves nothing of them and that
// nothing else changed:
//   - Ctrl-C just after RunInstances returned, before the script recorded
//     the instances; undo is the command the script printed, pasted as
//     printed (the state file's path has a space and a quote);
//   - two runs started together on one state file: one stops when it would
//     create the file, before its first change, naming the other, having
//     made nothing;
//   - the network going away while the credential exposure simulation waits
//     for its new access key.
func testInterruptions(t *testing.T, w *workshop) {
	t.Run("CryptoMiningInterruptedAtLaunchIsUndoneByTheCommandItPrinted", func(t *testing.T) {
		t.Parallel()
		hook := moto.NewHook(t, w.env)
		hook.InterruptAfter(t, "ec2 run-instances")
		path := filepath.Join(w.awkwardDir(t), "crypto mining.json")
		res := runScript(t, "", hook.Env(w.env), "simulate-crypto-mining.sh", "-s", path)
		if res.code != 130 {
			t.Fatalf("want exit 130 after SIGINT\n%s", res)
		}
		st := readState(t, path)
		var launched []string
		for _, in := range describeInstances(t, w.s, w.env, "--filters", "Name=tag:"+runTagKey+",Values="+st.RunID) {
			launched = append(launched, in.InstanceID)
		}
		if len(launched) != 1 || len(st.Resources.InstanceIDs) != 0 {
			t.Fatalf("instances of the run: %v; the state file records %v: want one instance that the interrupt kept out of the state file",
				launched, st.Resources.InstanceIDs)
		}
		undo := printedCommand(res.stderr, "remove what it created with:")
		mustSucceed(t, paste(t, w.env, undo), "the undo command the interrupted run printed, pasted: "+undo)
		if got := describeInstance(t, w.s, w.env, launched[0]).State.Name; got != "terminated" {
			t.Errorf("instance %s, launched by the interrupted run, is %s after undo", launched[0], got)
		}
		w.expectUndone(t, st.RunID)
	})

	t.Run("SecondRunOnTheSameStateFileStopsHavingMadeNothing", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(w.runDir(t), "crypto-mining.json")
		// Both runs are held at their first AWS call, when each has seen
		// that the state file does not exist yet, and let go together.
		var runs []*running
		var hooks []*moto.Hook
		for range 2 {
			hook := moto.NewHook(t, w.env)
			hook.PauseBefore(t, "sts get-caller-identity")
			runs = append(runs, startScript(t, "", hook.Env(w.env), "simulate-crypto-mining.sh", "-s", path))
			hooks = append(hooks, hook)
		}
		for i, hook := range hooks {
			if err := hook.WaitPaused(pauseTimeout, runs[i].ended); err != nil {
				t.Fatalf("run %d: %v\n%s", i+1, err, runs[i].wait(t))
			}
		}
		for _, hook := range hooks {
			hook.Resume(t)
		}
		results := []result{runs[0].wait(t), runs[1].wait(t)}
		slices.SortFunc(results, func(a, b result) int { return a.code - b.code })
		winner, loser := results[0], results[1]
		if winner.code != 0 || loser.code != 1 {
			t.Fatalf("want one run to complete and the other to stop with exit 1\nfirst:\n%s\nsecond:\n%s", winner, loser)
		}
		st := readState(t, path)
		loserRun := runStarted.FindStringSubmatch(loser.stderr)
		if st.Status != "complete" || loserRun == nil || loserRun[1] == st.RunID {
			t.Fatalf("state file records run %s, %s; want the complete run, not the one that stopped\ncomplete:\n%s\nstopped:\n%s",
				st.RunID, st.Status, winner, loser)
		}
		if !strings.Contains(loser.stderr, "state file "+path) || !strings.Contains(loser.stderr, st.RunID) ||
			!strings.Contains(loser.stderr, "nothing was changed") {
			t.Errorf("the run that stopped does not name the state file and the run %s that holds it:\n%s", st.RunID, loser)
		}
		requireOnlyReads(t, w, loserRun[1], "the run that stopped")
		w.expectUndone(t, loserRun[1])

		var tagged []string
		for _, in := range describeInstances(t, w.s, w.env, "--filters", "Name=tag:"+runTagKey+",Values="+st.RunID) {
			tagged = append(tagged, in.InstanceID)
		}
		if len(tagged) != 1 || !sameSet(tagged, st.Resources.InstanceIDs) {
			t.Errorf("instances of run %s: %v; its state file records %v", st.RunID, tagged, st.Resources.InstanceIDs)
		}
		mustSucceed(t, runScript(t, "", w.env, "undo-crypto-mining.sh", "-s", path), "undo-crypto-mining.sh")
		w.expectUndone(t, st.RunID)
	})

	t.Run("CredentialExposureLosingTheNetworkSaysSoFirst", func(t *testing.T) {
		t.Parallel()
		hook := moto.NewHook(t, w.env)
		// The first call with the new key is iam get-user.
		hook.UnreachableFrom(t, "iam get-user")
		dir := t.TempDir()
		res := runScript(t, dir, hook.Env(w.env), "simulate-credential-exposure.sh")
		if res.code != 1 || !strings.Contains(res.stderr, cannotReach("simulate-credential-exposure.sh")) {
			t.Errorf("want exit 1, saying first that AWS cannot be reached\n%s", res)
		}
		if strings.Contains(res.stderr, "not usable") {
			t.Errorf("the simulation blames the access key for an unreachable endpoint:\n%s", res)
		}
		path := onlyStateFile(t, dir, "credential-exposure-")
		st := readState(t, path)
		mustSucceed(t, runScript(t, "", w.env, "undo-credential-exposure.sh", "-s", path), "undo-credential-exposure.sh")
		w.expectUndone(t, st.RunID)
	})
}
