package simulation

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCryptoMining runs simulate-crypto-mining.sh -n 2 with its default
// profile (the pipeline user's key) and a state file in a directory whose
// name has a space and a quote, checks the instances, and returns the run.
func runCryptoMining(t *testing.T, w *workshop) completeRun {
	t.Helper()
	s, env := w.s, w.env
	path := filepath.Join(w.awkwardDir(t), "crypto mining.json")
	res := runScript(t, "", env, "simulate-crypto-mining.sh", "-n", "2", "-s", path)
	mustSucceed(t, res, "simulate-crypto-mining.sh -n 2")
	st := readState(t, path)

	if st.Simulation != "crypto-mining" || st.Status != "complete" || st.VpcID != w.vpcID || st.ImageID != w.ami {
		t.Errorf("state file: simulation %q, status %q, VPC %q, image %q; want crypto-mining, complete, %s, %s",
			st.Simulation, st.Status, st.VpcID, st.ImageID, w.vpcID, w.ami)
	}
	if !strings.HasSuffix(st.ActorArn, ":user/pipeline") {
		t.Errorf("the simulation acted as %s, want the pipeline user", st.ActorArn)
	}
	if len(st.Resources.InstanceIDs) != 2 {
		t.Fatalf("state records instances %v, want 2", st.Resources.InstanceIDs)
	}

	var tagged []string
	for _, in := range describeInstances(t, s, env, "--filters", "Name=tag:"+runTagKey+",Values="+st.RunID) {
		tagged = append(tagged, in.InstanceID)
	}
	if !sameSet(tagged, st.Resources.InstanceIDs) {
		t.Errorf("instances tagged with the run: %v; state records %v", tagged, st.Resources.InstanceIDs)
	}
	for _, id := range st.Resources.InstanceIDs {
		in := describeInstance(t, s, env, id)
		if in.VpcID != w.vpcID || !slices.Contains(w.publicSubnets, in.SubnetID) {
			t.Errorf("instance %s is in VPC %s subnet %s, want the workshop VPC %s, a public subnet of %v",
				id, in.VpcID, in.SubnetID, w.vpcID, w.publicSubnets)
		}
		if in.InstanceType != "t3.micro" || in.ImageID != w.ami || in.State.Name != "running" {
			t.Errorf("instance %s: %s %s %s, want t3.micro %s running", id, in.InstanceType, in.ImageID, in.State.Name, w.ami)
		}
		if in.MetadataOptions.HTTPTokens != "required" {
			t.Errorf("instance %s has HttpTokens %q, want required (IMDSv2)", id, in.MetadataOptions.HTTPTokens)
		}
		if tagValue(in.Tags, runTagKey) != st.RunID || tagValue(in.Tags, simulationTag) != "crypto-mining" {
			t.Errorf("instance %s has tags %v", id, in.Tags)
		}
		if got := userData(t, s, env, id); got != w.userData {
			t.Errorf("instance %s has user data\n%s\nwant scripts/crypto-mining-user-data.sh", id, got)
		}
		var volumes struct {
			Volumes []struct {
				VolumeId string
				Tags     []tag
			}
		}
		s.MustAWSJSON(t, env, &volumes, "ec2", "describe-volumes", "--filters", "Name=attachment.instance-id,Values="+id)
		for _, v := range volumes.Volumes {
			if tagValue(v.Tags, runTagKey) != st.RunID {
				t.Errorf("volume %s of %s has tags %v, want %s=%s", v.VolumeId, id, v.Tags, runTagKey, st.RunID)
			}
		}
	}
	// The second VPC has a subnet tagged Public too: nothing may land there.
	if got := liveInstances(t, s, env, w.other.vpcID); !slices.Equal(got, []string{w.other.instanceID}) {
		t.Errorf("the second VPC %s has instances %v, want only the one made before the simulation, %s", w.other.vpcID, got, w.other.instanceID)
	}
	if !slices.ContainsFunc(appRequests(t, s, st.RunID), func(r recordedRequest) bool { return r.action() == "RunInstances" }) {
		t.Errorf("no recorded RunInstances request carries app/ir-workshop-%s in its User-Agent", st.RunID)
	}
	return completeRun{path: path, undo: printedCommand(res.stdout, "Undo it with:")}
}

// undoCryptoMining undoes a complete run twice: with the command the
// simulation printed, pasted as printed (the state file's path has a space
// and a quote), then by the run's tag (-t RUN_ID), which finds nothing left
// to do.
func undoCryptoMining(t *testing.T, w *workshop, run completeRun) {
	t.Helper()
	st := readState(t, run.path)
	res := paste(t, w.env, run.undo)
	mustSucceed(t, res, "the undo command the simulation printed, pasted")
	for _, id := range st.Resources.InstanceIDs {
		if got := describeInstance(t, w.s, w.env, id).State.Name; got != "terminated" {
			t.Errorf("instance %s is %s after undo, want terminated", id, got)
		}
	}
	w.expectUndone(t, st.RunID)
	if got := readState(t, run.path).Status; got != "undone" {
		t.Errorf("state file status %q after undo, want undone", got)
	}
	again := runScript(t, "", w.env, "undo-crypto-mining.sh", "-t", st.RunID)
	mustSucceed(t, again, "undo-crypto-mining.sh -t RUN_ID, after undo")
	if !strings.Contains(again.stdout, "already terminated") {
		t.Errorf("undo by tag after undo does not say the instances are already terminated:\n%s", again)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestUserDataActsOnlyWhereCloudInitRunsIt runs the instances' user data
// as someone might by mistake, from the project folder, as root here: with
// no argument, with -h, with another argument. Each time it must say what
// it is and stop before it runs any command or writes any file: at an
// instance's first boot it installs a beacon and its persistence, which
// must never land on a workstation. Every command it may run is a stub on
// PATH that records its call. (Its first-boot path, when cloud-init runs
// it from /var/lib/cloud/, cannot run here without installing the beacon
// on this machine.)
func TestUserDataActsOnlyWhereCloudInitRunsIt(t *testing.T) {
	t.Parallel()
	stubs, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
	for _, name := range []string{"install", "dnf", "systemctl", "logger", "getent", "timeout", "chmod", "od", "tr", "sleep", "awk", "cat", "crond"} {
		stub := "#!/bin/sh\necho " + name + " >>'" + calls + "'\n"
		if err := os.WriteFile(filepath.Join(stubs, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// What the script writes with the shell's own redirections, which no
	// stub can stand in for.
	written := []string{"/usr/local/bin/ir-workshop-dns-beacon", "/etc/cron.d/ir-workshop-dns-beacon",
		"/etc/systemd/system/ir-workshop-dns-beacon.service", "/etc/systemd/system/ir-workshop-dns-beacon.timer"}
	for _, path := range written {
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s exists before the test; remove it, it is the simulated miner's", path)
		}
		t.Cleanup(func() { os.Remove(path) })
	}
	env := []string{"PATH=" + stubs + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 2, "", "crypto-mining-user-data.sh: not run by cloud-init at an instance's first boot;\nnothing was installed."},
		{[]string{"-h"}, 0, "Usage: none: the user data of the instances that simulate-crypto-mining.sh", ""},
		{[]string{"now"}, 2, "", "nothing was installed"},
	} {
		res := runScript(t, "", env, "crypto-mining-user-data.sh", tt.args...)
		if res.code != tt.code || !strings.Contains(res.stdout, tt.stdout) || !strings.Contains(res.stderr, tt.stderr) ||
			(tt.stdout == "" && res.stdout != "") || (tt.stderr == "" && res.stderr != "") {
			t.Errorf("crypto-mining-user-data.sh %v: want exit %d, stdout with %q, stderr with %q\n%s", tt.args, tt.code, tt.stdout, tt.stderr, res)
		}
		if b, err := os.ReadFile(calls); err == nil {
			t.Errorf("crypto-mining-user-data.sh %v ran commands:\n%s", tt.args, b)
			os.Remove(calls)
		}
		for _, path := range written {
			if _, err := os.Stat(path); err == nil {
				t.Errorf("crypto-mining-user-data.sh %v wrote %s", tt.args, path)
				os.Remove(path)
			}
		}
	}
}
