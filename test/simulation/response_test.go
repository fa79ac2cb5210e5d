package simulation

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// testResponse runs the containment helpers that the playbooks call on a
// suspect user and a suspect instance (twice: isolating again changes
// nothing), and checks their effect.
func testResponse(t *testing.T, w *workshop) {
	s, env := w.s, w.env

	t.Run("ContainAccessKeyDeactivatesItAndDeniesItsUserEverything", func(t *testing.T) {
		t.Parallel()
		// The user's name carries the incident, so that inventories tell it
		// from the account's own users.
		const user, incident = "suspect-user-INC-2026-0001", "INC-2026-0001"
		s.MustAWS(t, env, "iam", "create-user", "--user-name", user)
		var key struct{ AccessKey struct{ AccessKeyId string } }
		s.MustAWSJSON(t, env, &key, "iam", "create-access-key", "--user-name", user)
		keyID := key.AccessKey.AccessKeyId

		// The user is looked up from the key.
		res := runScript(t, "", env, "contain-access-key.sh", "-k", keyID, "-n", incident)
		mustSucceed(t, res, "contain-access-key.sh")
		if !strings.Contains(res.stdout, "belongs to IAM user "+user) || !strings.Contains(res.stdout, "deactivated") {
			t.Errorf("contain-access-key.sh does not say what it did:\n%s", res)
		}

		var keys struct {
			AccessKeyMetadata []struct{ AccessKeyId, Status string }
		}
		s.MustAWSJSON(t, env, &keys, "iam", "list-access-keys", "--user-name", user)
		if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != "Inactive" {
			t.Errorf("keys of %s: %+v, want %s Inactive", user, keys.AccessKeyMetadata, keyID)
		}
		var policy struct{ PolicyDocument json.RawMessage }
		s.MustAWSJSON(t, env, &policy, "iam", "get-user-policy", "--user-name", user, "--policy-name", containPolicy)
		if !deniesEverything(t, policy.PolicyDocument) {
			t.Errorf("inline policy %s of %s does not deny every action: %s", containPolicy, user, policy.PolicyDocument)
		}
		var tags struct{ Tags []tag }
		s.MustAWSJSON(t, env, &tags, "iam", "list-user-tags", "--user-name", user)
		if tagValue(tags.Tags, incidentTagKey) != incident || tagValue(tags.Tags, "ir-workshop:contained-access-key") != keyID {
			t.Errorf("user %s has tags %v, want the incident and the key", user, tags.Tags)
		}
	})

	t.Run("IsolateInstanceLeavesOnlyARulelessGroupProtectionAndSnapshots", func(t *testing.T) {
		t.Parallel()
		const incident = "INC-2026-0002"
		// The instance and its volume are tagged with the incident from the
		// start, so that inventories tell them from the account's own.
		var launched struct{ Instances []struct{ InstanceId string } }
		s.MustAWSJSON(t, env, &launched, "ec2", "run-instances", "--image-id", w.ami, "--instance-type", "t3.micro",
			"--subnet-id", w.publicSubnets[0], "--tag-specifications",
			`[{"ResourceType":"instance","Tags":[{"Key":"test-case","Value":"`+incident+`"}]},{"ResourceType":"volume","Tags":[{"Key":"test-case","Value":"`+incident+`"}]}]`)
		id := launched.Instances[0].InstanceId

		// A second run from the same state file finishes nothing more: the
		// group and the snapshots stay the first run's.
		statePath := filepath.Join(w.runDir(t), "isolation.json")
		var groupIDs []string
		for run := 1; run <= 2; run++ {
			res := runScript(t, "", env, "isolate-instance.sh", "-i", id, "-n", incident, "-s", statePath)
			mustSucceed(t, res, "isolate-instance.sh")
			in := describeInstance(t, s, env, id)
			groups := groupsOf(in)
			if len(groups) != 1 || len(in.NetworkInterfaces) == 0 {
				t.Fatalf("run %d: instance %s has security groups %v, want only the isolation group\n%s", run, id, groups, res)
			}
			groupIDs = append(groupIDs, groups[0])
		}
		if groupIDs[0] != groupIDs[1] {
			t.Errorf("the second run used group %s, not the first run's %s", groupIDs[1], groupIDs[0])
		}

		var sg struct {
			SecurityGroups []struct {
				GroupName, VpcId                   string
				IpPermissions, IpPermissionsEgress []json.RawMessage
			}
		}
		s.MustAWSJSON(t, env, &sg, "ec2", "describe-security-groups", "--group-ids", groupIDs[0])
		if g := sg.SecurityGroups[0]; g.GroupName != isolationGroup || g.VpcId != w.vpcID || len(g.IpPermissions) != 0 || len(g.IpPermissionsEgress) != 0 {
			t.Errorf("isolation group %s: %+v, want %s in %s without inbound or outbound rules", groupIDs[0], g, isolationGroup, w.vpcID)
		}
		if !terminationProtected(t, s, env, id) {
			t.Errorf("instance %s has no termination protection", id)
		}
		in := describeInstance(t, s, env, id)
		if tagValue(in.Tags, incidentTagKey) != incident {
			t.Errorf("instance %s has tags %v, want %s=%s", id, in.Tags, incidentTagKey, incident)
		}
		if len(in.BlockDeviceMappings) == 0 {
			t.Fatalf("instance %s has no EBS volume to check", id)
		}
		for _, bd := range in.BlockDeviceMappings {
			var snapshots struct {
				Snapshots []struct {
					SnapshotId, State string
					Tags              []tag
				}
			}
			s.MustAWSJSON(t, env, &snapshots, "ec2", "describe-snapshots", "--owner-ids", "self", "--filters",
				"Name=volume-id,Values="+bd.Ebs.VolumeID)
			if len(snapshots.Snapshots) != 1 {
				t.Errorf("volume %s has %d snapshots after two runs, want 1", bd.Ebs.VolumeID, len(snapshots.Snapshots))
				continue
			}
			snap := snapshots.Snapshots[0]
			if tagValue(snap.Tags, incidentTagKey) != incident || tagValue(snap.Tags, "ir-workshop:source-instance") != id {
				t.Errorf("snapshot %s has tags %v, want the incident and the instance", snap.SnapshotId, snap.Tags)
			}
		}
	})
}

// deniesEverything reports whether an IAM policy document, as the AWS CLI
// prints it (an object, or a URL-encoded string), denies every action on
// every resource.
func deniesEverything(t *testing.T, raw json.RawMessage) bool {
	t.Helper()
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if decoded, err := url.QueryUnescape(text); err == nil {
			text = decoded
		}
		raw = json.RawMessage(text)
	}
	var doc struct {
		Statement []struct{ Effect, Action, Resource string }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("policy document %s: %v", raw, err)
	}
	for _, st := range doc.Statement {
		if st.Effect == "Deny" && st.Action == "*" && st.Resource == "*" {
			return true
		}
	}
	return false
}
