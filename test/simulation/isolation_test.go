package simulation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// What isolate-instance.sh and restore-instance.sh name.
const (
	quarantineACL = "ir-workshop-quarantine"
	isolationTag  = "ir-workshop:isolation-run"
)

// TestIsolateAndRestoreInstances runs isolate-instance.sh and
// restore-instance.sh in an emulated workshop account, on instances in VPCs
// made for them: first bad input, which must change nothing (the account's
// inventory is the same, and every request of any isolation or restore run
// only read), then, side by side in two VPCs, the isolation and restoration
// of an instance alone in its subnet (with an instance profile, a target
// group and a Classic Load Balancer) and of an instance of an Auto Scaling
// group with a target group, in a shared subnet. Each compares the instance
// before isolation with the instance after restoration; at the end, what
// the account had before is untouched.
//
// What moto cannot show, and is not tested: that traffic stops (it has no
// data plane: no tracked connection to cut, no DNS), and that the session
// revocation policy denies anything (it does not evaluate
// ec2:SourceInstanceARN or aws:TokenIssueTime); the tests check the policy
// document. Its console output is a fixed text, and its snapshots are
// completed at once, so the wait for them is not exercised either. moto
// does apply the rest: Auto Scaling detaches and attaches (with the desired
// capacity), target groups and Classic Load Balancers deregister and
// register, network ACL associations are replaced, instance profiles are
// disassociated and associated, and the instance attributes change.
// moto reports an instance's launch security groups on every network
// interface whatever the interface's own groups are, so the instances here
// are launched without one and given their groups on the interface. moto
// does not deregister an instance detached from its Auto Scaling group from
// the group's target groups, as AWS does; the script deregisters it itself,
// which the test checks.
func TestIsolateAndRestoreInstances(t *testing.T) {
	w := newWorkshop(t)
	e := &isoEnv{w: w, s: w.s, env: w.env, ami: w.ami}
	var caller struct{ Account string }
	e.aws(t, &caller, "sts", "get-caller-identity")
	e.account = caller.Account

	if !t.Run("BadInputIsRefusedAndChangesNothing", func(t *testing.T) { testIsolationBadInput(t, e) }) {
		t.FailNow()
	}
	t.Run("Isolate", func(t *testing.T) {
		t.Run("InstanceAloneInItsSubnetAndBack", func(t *testing.T) {
			t.Parallel()
			testIsolateAloneInSubnet(t, e)
		})
		t.Run("InstanceOfAnAutoScalingGroupAndBack", func(t *testing.T) {
			t.Parallel()
			testIsolateInAutoScalingGroup(t, e)
		})
	})
	requireBystandersUntouched(t, w)
}

// isoEnv is the emulated account of the isolation tests and a responder's
// environment in it.
type isoEnv struct {
	w       *workshop
	s       *moto.Server
	env     []string
	ami     string
	account string
}

func (e *isoEnv) aws(t *testing.T, v any, args ...string) {
	t.Helper()
	if v == nil {
		e.s.MustAWS(t, e.env, args...)
		return
	}
	e.s.MustAWSJSON(t, e.env, v, args...)
}

// network makes a VPC with one subnet per CIDR, all in one zone.
func (e *isoEnv) network(t *testing.T, cidr string, subnetCIDRs ...string) (string, []string) {
	t.Helper()
	var vpc struct{ Vpc struct{ VpcId string } }
	e.aws(t, &vpc, "ec2", "create-vpc", "--cidr-block", cidr)
	var subnets []string
	for _, c := range subnetCIDRs {
		var sn struct{ Subnet struct{ SubnetId string } }
		e.aws(t, &sn, "ec2", "create-subnet", "--vpc-id", vpc.Vpc.VpcId, "--cidr-block", c, "--availability-zone", moto.Region+"a")
		subnets = append(subnets, sn.Subnet.SubnetId)
	}
	return vpc.Vpc.VpcId, subnets
}

// launch starts an instance in subnet, without a security group of its own
// (see TestIsolateAndRestoreInstances), and gives its network interface
// the groups.
func (e *isoEnv) launch(t *testing.T, subnet string, groups []string, args ...string) string {
	t.Helper()
	var launched struct {
		Instances []struct {
			InstanceId        string
			NetworkInterfaces []struct{ NetworkInterfaceId string }
		}
	}
	e.aws(t, &launched, append([]string{"ec2", "run-instances", "--image-id", e.ami, "--instance-type", "t3.micro",
		"--subnet-id", subnet}, args...)...)
	in := launched.Instances[0]
	if len(groups) > 0 {
		e.aws(t, nil, append([]string{"ec2", "modify-network-interface-attribute", "--network-interface-id",
			in.NetworkInterfaces[0].NetworkInterfaceId, "--groups"}, groups...)...)
	}
	return in.InstanceId
}

// isoView is what isolation changes and restoration must put back.
type isoView struct {
	Groups     map[string][]string // network interface → its security groups, sorted
	ACLs       map[string]string   // each subnet of the instance → its network ACL
	Shutdown   string              // instance-initiated shutdown behaviour
	Protected  bool                // termination protection
	Profile    string              // instance profile ARN
	ASG, State string              // Auto Scaling group and lifecycle state
	Targets    []string            // "TARGET-GROUP-ARN ID:PORT", registered and not draining
	Balancers  []string            // Classic Load Balancers it is registered with
	Tags       map[string]string   // the isolation's tags
}

// view reads the instance as isolation and restoration see it, with its
// registrations in the given target groups.
func (e *isoEnv) view(t *testing.T, id string, targetGroups ...string) isoView {
	t.Helper()
	var desc struct {
		Reservations []struct {
			Instances []struct {
				VpcId              string
				IamInstanceProfile struct{ Arn string }
				Tags               []tag
				NetworkInterfaces  []struct {
					NetworkInterfaceId, SubnetId string
					Groups                       []struct{ GroupId string }
				}
			}
		}
	}
	e.aws(t, &desc, "ec2", "describe-instances", "--instance-ids", id)
	in := desc.Reservations[0].Instances[0]
	v := isoView{Groups: map[string][]string{}, ACLs: map[string]string{}, Profile: in.IamInstanceProfile.Arn, Tags: map[string]string{}}
	for _, key := range []string{incidentTagKey, isolationTag} {
		if value := tagValue(in.Tags, key); value != "" {
			v.Tags[key] = value
		}
	}
	var acls struct {
		NetworkAcls []struct {
			NetworkAclId string
			Associations []struct{ SubnetId string }
		}
	}
	e.aws(t, &acls, "ec2", "describe-network-acls", "--filters", "Name=vpc-id,Values="+in.VpcId)
	for _, eni := range in.NetworkInterfaces {
		var groups []string
		for _, g := range eni.Groups {
			groups = append(groups, g.GroupId)
		}
		slices.Sort(groups)
		v.Groups[eni.NetworkInterfaceId] = groups
		for _, acl := range acls.NetworkAcls {
			for _, a := range acl.Associations {
				if a.SubnetId == eni.SubnetId {
					v.ACLs[eni.SubnetId] = acl.NetworkAclId
				}
			}
		}
	}
	var shutdown struct{ InstanceInitiatedShutdownBehavior struct{ Value string } }
	e.aws(t, &shutdown, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "instanceInitiatedShutdownBehavior")
	v.Shutdown = shutdown.InstanceInitiatedShutdownBehavior.Value
	v.Protected = terminationProtected(t, e.s, e.env, id)
	var asg struct {
		AutoScalingInstances []struct{ AutoScalingGroupName, LifecycleState string }
	}
	e.aws(t, &asg, "autoscaling", "describe-auto-scaling-instances", "--instance-ids", id)
	if len(asg.AutoScalingInstances) > 0 {
		v.ASG, v.State = asg.AutoScalingInstances[0].AutoScalingGroupName, asg.AutoScalingInstances[0].LifecycleState
	}
	for _, arn := range targetGroups {
		var health struct {
			TargetHealthDescriptions []struct {
				Target struct {
					Id   string
					Port int
				}
				TargetHealth struct{ State string }
			}
		}
		e.aws(t, &health, "elbv2", "describe-target-health", "--target-group-arn", arn)
		for _, d := range health.TargetHealthDescriptions {
			if d.Target.Id == id && d.TargetHealth.State != "draining" && d.TargetHealth.State != "unused" {
				v.Targets = append(v.Targets, fmt.Sprintf("%s %s:%d", arn, d.Target.Id, d.Target.Port))
			}
		}
	}
	var clbs struct {
		LoadBalancerDescriptions []struct {
			LoadBalancerName string
			Instances        []struct{ InstanceId string }
		}
	}
	e.aws(t, &clbs, "elb", "describe-load-balancers")
	for _, lb := range clbs.LoadBalancerDescriptions {
		for _, i := range lb.Instances {
			if i.InstanceId == id {
				v.Balancers = append(v.Balancers, lb.LoadBalancerName)
			}
		}
	}
	return v
}

// requireSameView fails the test if the instance differs from want.
func requireSameView(t *testing.T, what string, want, got isoView) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: the instance is\n  %+v\nwant\n  %+v", what, got, want)
	}
}

// isolationState is what the tests read of an isolation's state file.
type isolationState struct {
	Response      string `json:"response"`
	RunID         string `json:"run_id"`
	IncidentID    string `json:"incident_id"`
	Status        string `json:"status"`
	InstanceID    string `json:"instance_id"`
	VpcID         string `json:"vpc_id"`
	Steps         []string
	RevokedBefore string `json:"revoked_before"`
	Before        struct {
		NetworkInterfaces []struct {
			ID     string   `json:"id"`
			Groups []string `json:"groups"`
		} `json:"network_interfaces"`
		Subnets []struct {
			SubnetID        string   `json:"subnet_id"`
			NetworkACLID    string   `json:"network_acl_id"`
			OtherInterfaces []string `json:"other_interfaces"`
		} `json:"subnets"`
		TerminationProtection bool   `json:"termination_protection"`
		ShutdownBehavior      string `json:"shutdown_behavior"`
		AutoScalingGroup      *struct {
			Name    string `json:"name"`
			Desired int    `json:"desired"`
		} `json:"auto_scaling_group"`
		TargetGroups []struct {
			ARN  string `json:"arn"`
			ID   string `json:"id"`
			Port int    `json:"port"`
		} `json:"target_groups"`
		LoadBalancers      []string `json:"load_balancers"`
		InstanceProfileARN string   `json:"instance_profile_arn"`
		Roles              []string `json:"roles"`
	}
	Resources struct {
		IsolationGroup     string   `json:"isolation_group"`
		QuarantineACL      string   `json:"quarantine_acl"`
		QuarantinedSubnets []string `json:"quarantined_subnets"`
		SnapshotIDs        []string `json:"snapshot_ids"`
		RevokedRoles       []string `json:"revoked_roles"`
		EvidenceFiles      []string `json:"evidence_files"`
	}
}

func readIsolationState(t *testing.T, path string) isolationState {
	t.Helper()
	var st isolationState
	if err := json.Unmarshal([]byte(readFile(t, path)), &st); err != nil {
		t.Fatalf("state file %s: %v", path, err)
	}
	return st
}

// requireIsolated checks what every isolation leaves: a complete state file
// of the instance; the isolation group, without rules, as the only group of
// each network interface; termination protection on, shutdown behaviour
// stop, no instance profile, no registration, the tags; one completed,
// tagged snapshot per volume; and the evidence files with their checksums.
func requireIsolated(t *testing.T, e *isoEnv, st isolationState, statePath string, v isoView) {
	t.Helper()
	if st.Response != "instance-isolation" || st.Status != "complete" {
		t.Errorf("state file: response %q, status %q; want instance-isolation, complete", st.Response, st.Status)
	}
	for eni, groups := range v.Groups {
		if !slices.Equal(groups, []string{st.Resources.IsolationGroup}) {
			t.Errorf("network interface %s has groups %v, want only the isolation group %s", eni, groups, st.Resources.IsolationGroup)
		}
	}
	var sg struct {
		SecurityGroups []struct {
			GroupName, VpcId                   string
			IpPermissions, IpPermissionsEgress []json.RawMessage
		}
	}
	e.aws(t, &sg, "ec2", "describe-security-groups", "--group-ids", st.Resources.IsolationGroup)
	if g := sg.SecurityGroups[0]; g.GroupName != isolationGroup || g.VpcId != st.VpcID || len(g.IpPermissions)+len(g.IpPermissionsEgress) != 0 {
		t.Errorf("isolation group %s: %+v, want %s in %s without rules", st.Resources.IsolationGroup, g, isolationGroup, st.VpcID)
	}
	if !v.Protected || v.Shutdown != "stop" || v.Profile != "" || v.ASG != "" || len(v.Targets)+len(v.Balancers) != 0 {
		t.Errorf("isolated instance: %+v; want termination protection, shutdown behaviour stop, no instance profile, Auto Scaling group or registration", v)
	}
	if v.Tags[incidentTagKey] != st.IncidentID || v.Tags[isolationTag] != st.RunID {
		t.Errorf("isolated instance has tags %v, want %s=%s and %s=%s", v.Tags, incidentTagKey, st.IncidentID, isolationTag, st.RunID)
	}

	var volumes struct {
		Volumes []struct{ VolumeId string }
	}
	e.aws(t, &volumes, "ec2", "describe-volumes", "--filters", "Name=attachment.instance-id,Values="+st.InstanceID)
	var snapshots struct {
		Snapshots []struct {
			SnapshotId, VolumeId, State string
			Tags                        []tag
		}
	}
	e.aws(t, &snapshots, "ec2", "describe-snapshots", "--owner-ids", "self", "--filters", "Name=tag:"+incidentTagKey+",Values="+st.IncidentID)
	var snapped, ids []string
	for _, snap := range snapshots.Snapshots {
		snapped, ids = append(snapped, snap.VolumeId), append(ids, snap.SnapshotId)
		if snap.State != "completed" || tagValue(snap.Tags, "ir-workshop:source-instance") != st.InstanceID || tagValue(snap.Tags, isolationTag) != st.RunID {
			t.Errorf("snapshot %s: state %s, tags %v; want completed, tagged with the instance and the run", snap.SnapshotId, snap.State, snap.Tags)
		}
	}
	var want []string
	for _, vol := range volumes.Volumes {
		want = append(want, vol.VolumeId)
	}
	if len(want) == 0 || !sameSet(snapped, want) || !sameSet(ids, st.Resources.SnapshotIDs) {
		t.Errorf("snapshots %v of volumes %v, state records %v; want one of each volume %v", ids, snapped, st.Resources.SnapshotIDs, want)
	}

	// The evidence: next to the state file, with checksums that hold.
	dir := filepath.Dir(statePath)
	prefix := st.RunID + "."
	wantFiles := []string{prefix + "describe-instances.json", prefix + "console-output.txt", prefix + "user-data.json", prefix + "sha256"}
	if !slices.Equal(st.Resources.EvidenceFiles, wantFiles) {
		t.Errorf("state records evidence files %v, want %v", st.Resources.EvidenceFiles, wantFiles)
	}
	var described struct {
		Reservations []struct{ Instances []struct{ InstanceId string } }
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, prefix+"describe-instances.json"))), &described); err != nil ||
		len(described.Reservations) != 1 || described.Reservations[0].Instances[0].InstanceId != st.InstanceID {
		t.Errorf("the saved description is not describe-instances of %s (%v)", st.InstanceID, err)
	}
	if strings.TrimSpace(readFile(t, filepath.Join(dir, prefix+"console-output.txt"))) == "" {
		t.Errorf("the saved console output is empty")
	}
	sums, err := os.Open(filepath.Join(dir, prefix+"sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	var checked []string
	lines := bufio.NewScanner(sums)
	for lines.Scan() {
		sum, name, ok := strings.Cut(lines.Text(), "  ")
		b, err := os.ReadFile(filepath.Join(dir, name))
		got := sha256.Sum256(b)
		if !ok || err != nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("checksum line %q does not hold (%v)", lines.Text(), err)
		}
		checked = append(checked, name)
	}
	if !slices.Equal(checked, wantFiles[:3]) {
		t.Errorf("%ssha256 has checksums of %v, want %v", prefix, checked, wantFiles[:3])
	}
}

// testIsolateAloneInSubnet isolates an instance alone in its subnet, with an
// instance profile, shutdown behaviour terminate, a target group
// registration and a Classic Load Balancer, into a directory whose name has
// a space and a quote; isolates it again from the same state file (nothing
// changes), refuses to isolate it without it, restores it with the command
// the isolation printed, and restores it again.
func testIsolateAloneInSubnet(t *testing.T, e *isoEnv) {
	const incident = "INC-2026-0201"
	vpc, subnets := e.network(t, "10.30.0.0/16", "10.30.1.0/24", "10.30.2.0/24")
	var sg struct{ GroupId string }
	e.aws(t, &sg, "ec2", "create-security-group", "--vpc-id", vpc, "--group-name", "web", "--description", "web")
	e.aws(t, nil, "iam", "create-role", "--role-name", "iso-app-role", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	var profile struct{ InstanceProfile struct{ Arn string } }
	e.aws(t, &profile, "iam", "create-instance-profile", "--instance-profile-name", "iso-app-profile")
	e.aws(t, nil, "iam", "add-role-to-instance-profile", "--instance-profile-name", "iso-app-profile", "--role-name", "iso-app-role")
	id := e.launch(t, subnets[0], []string{sg.GroupId}, "--iam-instance-profile", "Name=iso-app-profile",
		"--instance-initiated-shutdown-behavior", "terminate")
	var tg struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	e.aws(t, &tg, "elbv2", "create-target-group", "--name", "iso-alone", "--protocol", "HTTP", "--port", "80", "--vpc-id", vpc)
	tgArn := tg.TargetGroups[0].TargetGroupArn
	e.aws(t, nil, "elbv2", "register-targets", "--target-group-arn", tgArn, "--targets", "Id="+id+",Port=8080")
	e.aws(t, nil, "elb", "create-load-balancer", "--load-balancer-name", "iso-alone", "--subnets", subnets[1],
		"--listeners", "Protocol=HTTP,LoadBalancerPort=80,InstancePort=8080")
	e.aws(t, nil, "elb", "register-instances-with-load-balancer", "--load-balancer-name", "iso-alone",
		"--instances", `[{"InstanceId":"`+id+`"}]`)

	before := e.view(t, id, tgArn)
	if len(before.Targets) != 1 || len(before.Balancers) != 1 || before.Profile != profile.InstanceProfile.Arn || before.Shutdown != "terminate" {
		t.Fatalf("the fixture is not what the test needs: %+v", before)
	}
	dir := filepath.Join(t.TempDir(), "it's evidence")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(dir, "isolation.json")
	res := runLong(t, "", e.env, "isolate-instance.sh", "-i", id, "-n", incident, "-s", statePath, "-v", vpc)
	mustSucceed(t, res, "isolate-instance.sh")
	st := readIsolationState(t, statePath)
	isolated := e.view(t, id, tgArn)
	requireIsolated(t, e, st, statePath, isolated)

	// What the state file recorded is the instance as it was.
	b := st.Before
	if b.TerminationProtection || b.ShutdownBehavior != "terminate" || b.InstanceProfileARN != before.Profile ||
		!slices.Equal(b.Roles, []string{"iso-app-role"}) || !slices.Equal(b.LoadBalancers, []string{"iso-alone"}) ||
		len(b.TargetGroups) != 1 || b.TargetGroups[0].Port != 8080 || b.AutoScalingGroup != nil ||
		len(b.Subnets) != 1 || len(b.Subnets[0].OtherInterfaces) != 0 || b.Subnets[0].NetworkACLID != before.ACLs[subnets[0]] {
		t.Errorf("state file records the instance as %+v; it was %+v", b, before)
	}
	// Alone in its subnet: behind the quarantine network ACL, which allows
	// nothing.
	if got := isolated.ACLs[subnets[0]]; got != st.Resources.QuarantineACL || !slices.Equal(st.Resources.QuarantinedSubnets, subnets[:1]) {
		t.Errorf("subnet %s is behind %s; state records quarantine ACL %s for %v", subnets[0], got, st.Resources.QuarantineACL, st.Resources.QuarantinedSubnets)
	}
	var acl struct {
		NetworkAcls []struct {
			Tags    []tag
			Entries []struct{ RuleAction string }
		}
	}
	e.aws(t, &acl, "ec2", "describe-network-acls", "--network-acl-ids", st.Resources.QuarantineACL)
	if tagValue(acl.NetworkAcls[0].Tags, "Name") != quarantineACL ||
		slices.ContainsFunc(acl.NetworkAcls[0].Entries, func(en struct{ RuleAction string }) bool { return en.RuleAction == "allow" }) {
		t.Errorf("quarantine ACL %s: %+v, want %s with no allowing rule", st.Resources.QuarantineACL, acl.NetworkAcls[0], quarantineACL)
	}
	// The instance's own sessions issued before the isolation are denied.
	var policy struct{ PolicyDocument json.RawMessage }
	e.aws(t, &policy, "iam", "get-role-policy", "--role-name", "iso-app-role", "--policy-name", "ir-revoke-sessions-"+id)
	var doc struct {
		Statement []struct {
			Effect, Action, Resource string
			Condition                map[string]map[string]string
		}
	}
	if err := json.Unmarshal(policyJSON(t, policy.PolicyDocument), &doc); err != nil || len(doc.Statement) != 1 {
		t.Fatalf("revocation policy %s: %v", policy.PolicyDocument, err)
	}
	instanceArn := "arn:aws:ec2:" + moto.Region + ":" + e.account + ":instance/" + id
	if stmt := doc.Statement[0]; stmt.Effect != "Deny" || stmt.Action != "*" || stmt.Resource != "*" ||
		stmt.Condition["ArnEquals"]["ec2:SourceInstanceARN"] != instanceArn ||
		stmt.Condition["DateLessThan"]["aws:TokenIssueTime"] != st.RevokedBefore || st.RevokedBefore == "" {
		t.Errorf("revocation policy %+v; want a deny of everything to sessions of %s issued before %s", stmt, instanceArn, st.RevokedBefore)
	}
	if !slices.Equal(st.Resources.RevokedRoles, []string{"iso-app-role"}) {
		t.Errorf("state records revoked roles %v, want iso-app-role", st.Resources.RevokedRoles)
	}

	// Again from the same state file: nothing to do, nothing changes.
	again := runLong(t, "", e.env, "isolate-instance.sh", "-i", id, "-s", statePath)
	mustSucceed(t, again, "isolate-instance.sh again with the same state file")
	if !strings.Contains(again.stdout, "done earlier") {
		t.Errorf("the second run does not say the steps were done:\n%s", again)
	}
	requireSameView(t, "after isolating again from the same state file", isolated, e.view(t, id, tgArn))
	requireIsolated(t, e, readIsolationState(t, statePath), statePath, isolated)

	// Without the state file: refused, as the instance is under isolation.
	elsewhere := t.TempDir()
	refused := runScript(t, elsewhere, e.env, "isolate-instance.sh", "-i", id, "-n", incident)
	if refused.code != 1 || !strings.Contains(refused.stderr, "already isolated, by run "+st.RunID) {
		t.Errorf("isolating an isolated instance without its state file: want exit 1 naming run %s\n%s", st.RunID, refused)
	}
	noStateFiles(t, elsewhere)

	// Restore with the command the isolation printed, then again.
	restored := runLong(t, "", e.env, "bash", "-c", printedCommand(res.stdout, "put it back as it was with:"))
	mustSucceed(t, restored, "the restore command isolate-instance.sh printed")
	after := e.view(t, id, tgArn)
	// The incident tag stays, as a record.
	before.Tags[incidentTagKey] = incident
	requireSameView(t, "after restore-instance.sh", before, after)
	if st := readIsolationState(t, statePath); st.Status != "undone" {
		t.Errorf("after the restore the state file has status %q, want undone", st.Status)
	}
	if !strings.Contains(restored.stdout, "aws iam delete-role-policy --role-name iso-app-role --policy-name ir-revoke-sessions-"+id) {
		t.Errorf("the restore does not say how to remove the revocation policy it keeps:\n%s", restored)
	}
	twice := runLong(t, "", e.env, "restore-instance.sh", "-s", statePath)
	if twice.code != 0 || !strings.Contains(twice.stdout, "nothing to do") {
		t.Errorf("restoring twice: want exit 0, nothing to do\n%s", twice)
	}
	requireSameView(t, "after restoring twice", before, e.view(t, id, tgArn))
}

// testIsolateInAutoScalingGroup isolates one of the two instances of an Auto
// Scaling group with a target group, in a subnet they share: the group lets
// it go without launching a replacement, the shared subnet keeps its
// network ACL, and restoring puts the instance back in the group.
func testIsolateInAutoScalingGroup(t *testing.T, e *isoEnv) {
	const incident = "INC-2026-0202"
	vpc, subnets := e.network(t, "10.31.0.0/16", "10.31.1.0/24")
	var tg struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	e.aws(t, &tg, "elbv2", "create-target-group", "--name", "iso-asg", "--protocol", "HTTP", "--port", "80", "--vpc-id", vpc)
	tgArn := tg.TargetGroups[0].TargetGroupArn
	e.aws(t, nil, "ec2", "create-launch-template", "--launch-template-name", "iso-asg",
		"--launch-template-data", `{"ImageId":"`+e.ami+`","InstanceType":"t3.micro"}`)
	e.aws(t, nil, "autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "iso-asg",
		"--launch-template", "LaunchTemplateName=iso-asg", "--min-size", "1", "--max-size", "3", "--desired-capacity", "2",
		"--vpc-zone-identifier", subnets[0], "--target-group-arns", tgArn)
	members := func() (int, []string) {
		var groups struct {
			AutoScalingGroups []struct {
				DesiredCapacity int
				Instances       []struct{ InstanceId string }
			}
		}
		e.aws(t, &groups, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "iso-asg")
		var ids []string
		for _, in := range groups.AutoScalingGroups[0].Instances {
			ids = append(ids, in.InstanceId)
		}
		slices.Sort(ids)
		return groups.AutoScalingGroups[0].DesiredCapacity, ids
	}
	desired, ids := members()
	if desired != 2 || len(ids) != 2 {
		t.Fatalf("Auto Scaling group iso-asg: desired %d, instances %v; want 2 and 2", desired, ids)
	}
	id, other := ids[0], ids[1]
	before := e.view(t, id, tgArn)
	if before.ASG != "iso-asg" || before.State != "InService" || len(before.Targets) != 1 {
		t.Fatalf("the fixture is not what the test needs: %+v", before)
	}

	statePath := filepath.Join(t.TempDir(), "isolation.json")
	res := runLong(t, "", e.env, "isolate-instance.sh", "-i", id, "-n", incident, "-s", statePath)
	mustSucceed(t, res, "isolate-instance.sh")
	st := readIsolationState(t, statePath)
	isolated := e.view(t, id, tgArn)
	requireIsolated(t, e, st, statePath, isolated)
	if a := st.Before.AutoScalingGroup; a == nil || a.Name != "iso-asg" || a.Desired != 2 {
		t.Errorf("state records Auto Scaling group %+v, want iso-asg with desired capacity 2", a)
	}
	if desired, ids := members(); desired != 1 || !slices.Equal(ids, []string{other}) {
		t.Errorf("after isolation the group has desired capacity %d and instances %v; want 1 and only %s (no replacement)", desired, ids, other)
	}
	// The subnet is shared with the other instance: not quarantined.
	if isolated.ACLs[subnets[0]] != before.ACLs[subnets[0]] || len(st.Resources.QuarantinedSubnets) != 0 || st.Resources.QuarantineACL != "" {
		t.Errorf("shared subnet %s: ACL %s (was %s), state quarantined %v with %q; want it left alone",
			subnets[0], isolated.ACLs[subnets[0]], before.ACLs[subnets[0]], st.Resources.QuarantinedSubnets, st.Resources.QuarantineACL)
	}
	if !strings.Contains(res.stderr, "is shared with network interfaces") {
		t.Errorf("isolation in a shared subnet does not warn that tracked connections may go on:\n%s", res)
	}

	mustSucceed(t, runLong(t, "", e.env, "restore-instance.sh", "-s", statePath), "restore-instance.sh")
	before.Tags[incidentTagKey] = incident
	requireSameView(t, "after restore-instance.sh", before, e.view(t, id, tgArn))
	if desired, ids := members(); desired != 2 || !sameSet(ids, []string{id, other}) {
		t.Errorf("after the restore the group has desired capacity %d and instances %v; want 2: %s and %s", desired, ids, id, other)
	}
}

// testIsolationBadInput feeds both scripts bad input while the instances
// they name exist, and checks that each is refused with a clear message
// before any change: the instances are as they were, no state file is left,
// and every request either script sent only read.
func testIsolationBadInput(t *testing.T, e *isoEnv) {
	vpc, subnets := e.network(t, "10.32.0.0/16", "10.32.1.0/24")
	otherVpc, _ := e.network(t, "10.33.0.0/16")
	id := e.launch(t, subnets[0], nil)
	e.aws(t, nil, "ec2", "create-launch-template", "--launch-template-name", "iso-min",
		"--launch-template-data", `{"ImageId":"`+e.ami+`","InstanceType":"t3.micro"}`)
	e.aws(t, nil, "autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "iso-min",
		"--launch-template", "LaunchTemplateName=iso-min", "--min-size", "1", "--max-size", "1", "--desired-capacity", "1",
		"--vpc-zone-identifier", subnets[0])
	var group struct {
		AutoScalingGroups []struct{ Instances []struct{ InstanceId string } }
	}
	e.aws(t, &group, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "iso-min")
	atMinimum := group.AutoScalingGroups[0].Instances[0].InstanceId
	beforeID, beforeMin := e.view(t, id), e.view(t, atMinimum)
	inventoryBefore := takeInventory(t, e.w)

	// A whole, valid state file of an isolation of the instance, but in
	// another VPC than the instance's; and the same with a damaged field.
	valid := map[string]any{
		"response": "instance-isolation", "state_version": 1, "run_id": "iso-20260101-120000-0123abcd",
		"incident_id": "INC-2026-0203", "region": moto.Region, "account_id": e.account, "status": "complete",
		"instance_id": id, "vpc_id": otherVpc, "steps": []string{"evidence", "tags", "protection"}, "revoked_before": nil,
		"options": map[string]any{"quarantine_acl": "auto", "keep_capacity": false, "revoke_all_sessions": false},
		"before": map[string]any{
			"network_interfaces":     []any{map[string]any{"id": "eni-0123456789abcdef0", "groups": []string{"sg-0123456789abcdef0"}}},
			"subnets":                []any{map[string]any{"subnet_id": subnets[0], "network_acl_id": "acl-0123456789abcdef0", "other_interfaces": []string{}}},
			"termination_protection": false, "shutdown_behavior": "stop", "auto_scaling_group": nil,
			"target_groups": []any{}, "load_balancers": []any{}, "instance_profile_arn": nil, "roles": []any{},
		},
		"resources": map[string]any{"isolation_group": nil, "quarantine_acl": nil, "quarantined_subnets": []any{},
			"snapshot_ids": []any{}, "revoked_roles": []any{}, "evidence_files": []any{}},
	}
	stateJSON := func(edit func(map[string]any)) string {
		b, err := json.Marshal(valid)
		if err != nil {
			t.Fatal(err)
		}
		return editState(t, string(b), edit)
	}
	otherVpcState := stateJSON(func(map[string]any) {})
	damaged := stateJSON(func(st map[string]any) { st["before"].(map[string]any)["shutdown_behavior"] = "reboot" })
	simulation := writeFile(t, "crypto-mining.json", `{"simulation":"crypto-mining","state_version":1}`)
	garbled := writeFile(t, "garbled.json", `{"response": "instance-isol`)
	missing := filepath.Join(t.TempDir(), "missing.json")

	tests := []struct {
		name, script string
		args         []string
		code         int
		want         string // in stderr, or in stdout for code 0
	}{
		{"IsolateHelp", "isolate-instance.sh", []string{"-h"}, 0, "Usage: isolate-instance.sh"},
		{"RestoreHelp", "restore-instance.sh", []string{"-h"}, 0, "Usage: restore-instance.sh"},
		{"UnknownInstance", "isolate-instance.sh", []string{"-i", "i-0123456789abcdef0"}, 1, "cannot find instance i-0123456789abcdef0"},
		{"InstanceOfAnotherVpc", "isolate-instance.sh", []string{"-i", id, "-v", otherVpc}, 1,
			"instance " + id + " is in VPC " + vpc + ", not in VPC " + otherVpc + " (-v); nothing was changed"},
		{"AutoScalingGroupAtItsMinimum", "isolate-instance.sh", []string{"-i", atMinimum}, 1, "at its minimum size (min 1, desired 1)"},
		{"MalformedVpc", "isolate-instance.sh", []string{"-i", id, "-v", "vpc-xyz"}, 2, "-v: 'vpc-xyz' is not a VPC ID"},
		{"UnknownQuarantineChoice", "isolate-instance.sh", []string{"-i", id, "-q", "sometimes"}, 2, "-q: 'sometimes' is not auto, always or never"},
		{"StateFileOfAnotherInstance", "isolate-instance.sh", []string{"-i", atMinimum, "-s", otherVpcState}, 2,
			"records the isolation of instance " + id + ", not " + atMinimum},
		{"StateFileWithOtherOptions", "isolate-instance.sh", []string{"-i", id, "-s", otherVpcState, "-k"}, 2,
			"option -k: state file " + otherVpcState + " records .options.keep_capacity false"},
		{"RestoreWithoutStateFile", "restore-instance.sh", nil, 2, "missing -s STATE_FILE"},
		{"RestoreMissingStateFile", "restore-instance.sh", []string{"-s", missing}, 1, "does not exist; nothing was changed"},
		{"RestoreGarbledStateFile", "restore-instance.sh", []string{"-s", garbled}, 1, "it is not one JSON object"},
		{"RestoreDamagedStateFile", "restore-instance.sh", []string{"-s", damaged}, 1, "before.shutdown_behavior is 'reboot', want stop or terminate"},
		{"RestoreSimulationStateFile", "restore-instance.sh", []string{"-s", simulation}, 1,
			"records a crypto-mining simulation, not instance-isolation: use undo-crypto-mining.sh for it"},
		{"RestoreInstanceOfAnotherVpc", "restore-instance.sh", []string{"-s", otherVpcState}, 1,
			"is in VPC " + vpc + ", but state file " + otherVpcState + " records VPC " + otherVpc},
		{"RestoreUnreachableEndpoint", "restore-instance.sh", []string{"-s", otherVpcState}, 1,
			cannotReach("restore-instance.sh")},
	}
	// The cases that change the responder's environment.
	envChanges := map[string][]string{
		"RestoreUnreachableEndpoint": moto.UnreachableEnv(),
	}
	t.Run("Scripts", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				res := runScript(t, dir, moto.WithEnv(e.env, envChanges[tt.name]...), tt.script, tt.args...)
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

	requireSameInventory(t, "the refused isolation and restore runs", inventoryBefore, takeInventory(t, e.w))
	requireSameView(t, "instance "+id+" after the refused runs", beforeID, e.view(t, id))
	requireSameView(t, "instance "+atMinimum+" after the refused runs", beforeMin, e.view(t, atMinimum))
	for _, path := range []string{otherVpcState, damaged} {
		if st := readIsolationState(t, path); st.Status != "complete" {
			t.Errorf("a refused run changed state file %s: status %q", path, st.Status)
		}
	}
	// The runs' requests: the app ID of isolation runs, signed with this
	// account's key (the emulator may serve other accounts' tests).
	key := ""
	for _, kv := range e.env {
		if k, ok := strings.CutPrefix(kv, "AWS_ACCESS_KEY_ID="); ok {
			key = k
		}
	}
	var sent int
	for _, r := range recording(t, e.s) {
		agent := r.Headers["User-Agent"]
		if !strings.Contains(agent, "app/ir-workshop-iso-") || r.accessKey() != key {
			continue
		}
		sent++
		action := r.action()[strings.LastIndex(r.action(), ".")+1:]
		if !readOnly.MatchString(action) {
			t.Errorf("a refused run sent %s %s (%s); want only requests that read", r.Method, r.URL, r.action())
		}
	}
	if sent == 0 {
		t.Errorf("moto recorded no request of an isolation or restore run")
	}
}

// isolationTimeout bounds one isolate-instance.sh or restore-instance.sh
// run in these tests: some forty AWS CLI calls one after the other, each
// several seconds on a busy machine, more than scriptTimeout allows.
const isolationTimeout = 12 * time.Minute

// runLong runs scripts/name (or, for "bash", bash with args) in dir (a new
// temporary directory if empty) with env, as runScript does, within
// isolationTimeout.
func runLong(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	path := name
	if name != "bash" {
		path = mustAbs(t, filepath.Join(scriptsDir, name))
	}
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), isolationTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = moto.WithEnv(env, "TMPDIR="+t.TempDir())
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	moto.OwnProcessGroup(cmd)
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %s\n%s", name, isolationTimeout, res)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", name, err)
	}
	return res
}

// policyJSON returns an IAM policy document as the AWS CLI prints it (an
// object, or a URL-encoded string) as JSON.
func policyJSON(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var text string
	if json.Unmarshal(raw, &text) != nil {
		return raw
	}
	if decoded, err := url.QueryUnescape(text); err == nil {
		text = decoded
	}
	return []byte(text)
}
