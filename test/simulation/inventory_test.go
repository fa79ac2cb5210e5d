package simulation

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// An inventory is what the account holds of every kind of resource that the
// simulations, their undo scripts and the response helpers create, change or
// delete: IAM users with their policies, tags and access keys; S3 buckets
// with every object version, and the data bucket's logging and policy; KMS
// keys with their state; EC2 instances and volumes. It maps one line a
// resource to the resource's owner:
//   - the simulation run whose ID the line mentions (a tag, or a name such as
//     ir-persistence-RUN_ID);
//   - else the incident (INC-NNNN-NNNN) of a response test, which tags or
//     names what it makes with it;
//   - else "", the account: what exists before and outside every run and
//     every test case, which no script may touch.
//
// Owners let one inventory, at the end, check every case that ran side by
// side: see expectUndone and requireRunsUndone.
type inventory map[string]string

var (
	runIDInText    = regexp.MustCompile(`\b(?:ce|cm|se|sr)-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\b`)
	incidentInText = regexp.MustCompile(`\bINC-[0-9]{4}-[0-9]{4}\b`)
)

// ownerOf returns the owner of an inventory line.
func ownerOf(line string) string {
	if id := runIDInText.FindString(line); id != "" {
		return id
	}
	return incidentInText.FindString(line)
}

// takeInventory reads the inventory with the responder's credentials, its
// AWS CLI calls side by side.
func takeInventory(t *testing.T, w *workshop) inventory {
	t.Helper()
	s, env := w.s, w.env
	var (
		mu    sync.Mutex
		lines []string
	)
	add := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	// awsJSON is MustAWSJSON for these goroutines, which may not stop the
	// test.
	awsJSON := func(v any, args ...string) bool {
		out, err := s.AWS(t, env, args...)
		if err == nil {
			err = json.Unmarshal([]byte(out), v)
		}
		if err != nil {
			t.Errorf("inventory: %v", err)
			return false
		}
		return true
	}
	var wg sync.WaitGroup
	gather := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	gather(func() {
		var details struct {
			UserDetailList []struct {
				UserName                string
				Tags                    []tag
				UserPolicyList          []struct{ PolicyName string }
				AttachedManagedPolicies []struct{ PolicyArn string }
			}
		}
		if !awsJSON(&details, "iam", "get-account-authorization-details", "--filter", "User") {
			return
		}
		for _, u := range details.UserDetailList {
			add("iam user %s tags %v inline %v attached %v", u.UserName, sortedTags(u.Tags), u.UserPolicyList, u.AttachedManagedPolicies)
		}
	})
	gather(func() {
		// The credential report (generated in newWorkshop) has each user's
		// access keys: active or not, and when each was made. Its last-used
		// columns change with every call and are left out.
		var report struct{ Content string }
		if !awsJSON(&report, "iam", "get-credential-report") {
			return
		}
		raw, err := base64.StdEncoding.DecodeString(report.Content)
		if err != nil {
			t.Errorf("credential report: %v", err)
			return
		}
		rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Errorf("credential report: %v (%d rows)", err, len(rows))
			return
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		for _, row := range rows[1:] {
			add("iam user %s access keys %s/%s %s/%s", row[col["user"]],
				row[col["access_key_1_active"]], row[col["access_key_1_last_rotated"]],
				row[col["access_key_2_active"]], row[col["access_key_2_last_rotated"]])
		}
	})
	gather(func() {
		var buckets struct{ Buckets []struct{ Name string } }
		if !awsJSON(&buckets, "s3api", "list-buckets") {
			return
		}
		var bw sync.WaitGroup
		for _, b := range buckets.Buckets {
			bw.Add(1)
			go func() {
				defer bw.Done()
				var versions struct {
					Versions, DeleteMarkers []struct {
						Key, VersionId string
						IsLatest       bool
					}
				}
				out, err := s.AWS(t, env, "s3api", "list-object-versions", "--bucket", b.Name)
				if err != nil && strings.Contains(err.Error(), "NoSuchBucket") {
					return // deleted since list-buckets, by a case running side by side
				}
				if err == nil {
					err = json.Unmarshal([]byte(out), &versions)
				}
				if err != nil {
					t.Errorf("inventory: %v", err)
					return
				}
				add("s3 bucket %s", b.Name)
				if strings.HasPrefix(b.Name, dataBucketPrefix) {
					// What the S3 simulations change and their undo puts
					// back.
					for _, what := range []string{"get-bucket-logging", "get-bucket-policy"} {
						out, err := s.AWS(t, env, "s3api", what, "--bucket", b.Name)
						if err != nil && !strings.Contains(err.Error(), "NoSuchBucketPolicy") {
							t.Errorf("inventory: %v", err)
						}
						add("s3 bucket %s %s %s", b.Name, what, strings.Join(strings.Fields(out), ""))
					}
				}
				if strings.HasPrefix(b.Name, dataAccessLogsBucketPrefix) {
					// S3 (and moto) writes a log object for requests to
					// the data bucket, the inventory's own among them: the
					// logs grow by design, and belong to no run.
					return
				}
				for _, v := range versions.Versions {
					add("s3 object s3://%s/%s version %s latest %t", b.Name, v.Key, v.VersionId, v.IsLatest)
				}
				for _, v := range versions.DeleteMarkers {
					add("s3 delete marker s3://%s/%s version %s", b.Name, v.Key, v.VersionId)
				}
			}()
		}
		bw.Wait()
	})
	gather(func() {
		var keys struct{ Keys []struct{ KeyId string } }
		if !awsJSON(&keys, "kms", "list-keys") {
			return
		}
		for _, k := range keys.Keys {
			var key struct {
				KeyMetadata struct{ KeyState, KeyManager, Description string }
			}
			var tags struct {
				Tags []struct{ TagKey, TagValue string }
			}
			if !awsJSON(&tags, "kms", "list-resource-tags", "--key-id", k.KeyId) {
				return
			}
			// moto 5.2 answers DescribeKey with HTTP 500 for a key that its
			// CloudFormation made (it keeps the key policy as a dict, which
			// its policy check cannot read): such a key's state is unknown.
			out, err := s.AWS(t, moto.WithEnv(env, "AWS_MAX_ATTEMPTS=1"), "kms", "describe-key", "--key-id", k.KeyId)
			switch {
			case err != nil && strings.Contains(err.Error(), "(500)"):
				key.KeyMetadata.KeyState, err = "unknown-to-moto", nil
			case err == nil:
				err = json.Unmarshal([]byte(out), &key)
			}
			if err != nil {
				t.Errorf("inventory: %v", err)
				return
			}
			var kv []string
			for _, tg := range tags.Tags {
				kv = append(kv, tg.TagKey+"="+tg.TagValue)
			}
			slices.Sort(kv)
			add("kms key %s %s %s tags %v", k.KeyId, key.KeyMetadata.KeyState, key.KeyMetadata.KeyManager, kv)
		}
	})
	gather(func() {
		var out struct {
			Reservations []struct{ Instances []instance }
		}
		if !awsJSON(&out, "ec2", "describe-instances") {
			return
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				add("ec2 instance %s %s in %s/%s groups %v tags %v", in.InstanceID, in.State.Name, in.VpcID, in.SubnetID, groupsOf(in), sortedTags(in.Tags))
			}
		}
	})
	gather(func() {
		var volumes struct {
			Volumes []struct {
				VolumeId, State string
				Tags            []tag
				Attachments     []struct{ InstanceId, State string }
			}
		}
		if !awsJSON(&volumes, "ec2", "describe-volumes") {
			return
		}
		for _, v := range volumes.Volumes {
			add("ec2 volume %s %s attached %v tags %v", v.VolumeId, v.State, v.Attachments, sortedTags(v.Tags))
		}
	})
	wg.Wait()

	inv := inventory{}
	for _, line := range lines {
		inv[line] = ownerOf(line)
	}
	return inv
}

func sortedTags(tags []tag) []string {
	var out []string
	for _, tg := range tags {
		out = append(out, tg.Key+"="+tg.Value)
	}
	slices.Sort(out)
	return out
}

// of returns the lines of the owner, sorted.
func (inv inventory) of(owner string) []string {
	var lines []string
	for line, o := range inv {
		if o == owner {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return lines
}

// diffLines describes what is only in before and what is only in after.
func diffLines(before, after []string) string {
	var b strings.Builder
	for _, l := range before {
		if !slices.Contains(after, l) {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			fmt.Fprintf(&b, "  + %s\n", l)
		}
	}
	return b.String()
}

// requireSameInventory fails the test if any line differs, whatever its
// owner: for cases that must change nothing at all.
func requireSameInventory(t *testing.T, what string, before, after inventory) {
	t.Helper()
	all := func(inv inventory) []string { return slices.Sorted(maps.Keys(inv)) }
	if diff := diffLines(all(before), all(after)); diff != "" {
		t.Errorf("%s changed the account:\n%s", what, diff)
	}
}

// expectUndone records that the case t has undone run runID: nothing of
// the run may be left when requireRunsUndone looks, at the end of the test.
// One inventory then checks every case that ran side by side, instead of one
// inventory a case: what a run leaves stays until then, since no case
// touches another's run.
func (w *workshop) expectUndone(t *testing.T, runID string) {
	t.Helper()
	if !runIDInText.MatchString(runID) {
		t.Fatalf("%q is not a run ID", runID)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.undone == nil {
		w.undone = map[string]string{}
	}
	w.undone[runID] = t.Name()
}

// requireRunsUndone takes an inventory and fails the test if anything is
// left of any simulation run but terminated instances (EC2 shows them for a
// while) and KMS keys pending deletion (KMS deletes a key seven days after
// it is scheduled at the soonest), naming the case that undid the run, or if
// anything of the account
// itself (owner "") differs from the inventory newWorkshop took before any
// run: a script touched what no run made.
func requireRunsUndone(t *testing.T, w *workshop) {
	t.Helper()
	after := takeInventory(t, w)
	runs := map[string]bool{}
	for _, owner := range after {
		if runIDInText.MatchString(owner) {
			runs[owner] = true
		}
	}
	for _, runID := range slices.Sorted(maps.Keys(runs)) {
		for _, line := range after.of(runID) {
			terminated := strings.HasPrefix(line, "ec2 instance ") && strings.Contains(line, " terminated in ")
			pending := strings.HasPrefix(line, "kms key ") && strings.Contains(line, " PendingDeletion ")
			if !terminated && !pending {
				c := w.undone[runID]
				if c == "" {
					c = "no case undid it"
				}
				t.Errorf("left of run %s (%s): %s", runID, c, line)
			}
		}
	}
	if diff := diffLines(w.baseline.of(""), after.of("")); diff != "" {
		t.Errorf("the account's own resources differ from before any run:\n%s", diff)
	}
	t.Logf("inventory: %d runs undone, %d resources of the account as before", len(w.undone), len(after.of("")))
}
