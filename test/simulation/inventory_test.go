package simulation

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
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
// reads side by side. It reads IAM, S3 and KMS through the AWS SDK for Go
// (the workshop's clients): an inventory is some twenty reads, taken at the start
// and end of every test, which through the AWS CLI cost more CPU than any
// other reads the tests make.
func takeInventory(t *testing.T, w *workshop) inventory {
	t.Helper()
	ctx := context.Background()
	iamc, s3c, kmsc := w.iam, w.s3, w.kms
	var (
		mu    sync.Mutex
		lines []string
	)
	add := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	// failed reports err, if any, for these goroutines, which may not stop
	// the test.
	failed := func(err error) bool {
		if err != nil {
			t.Errorf("inventory: %v", err)
		}
		return err != nil
	}
	awsJSON := func(v any, args ...string) bool {
		out, err := w.s.AWS(t, w.env, args...)
		if err == nil {
			err = json.Unmarshal([]byte(out), v)
		}
		return !failed(err)
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
		pages := iam.NewGetAccountAuthorizationDetailsPaginator(iamc, &iam.GetAccountAuthorizationDetailsInput{
			Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if failed(err) {
				return
			}
			for _, u := range page.UserDetailList {
				var tags, inline, attached []string
				for _, tg := range u.Tags {
					tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
				}
				slices.Sort(tags)
				for _, p := range u.UserPolicyList {
					inline = append(inline, aws.ToString(p.PolicyName))
				}
				for _, p := range u.AttachedManagedPolicies {
					attached = append(attached, aws.ToString(p.PolicyArn))
				}
				add("iam user %s tags %v inline %v attached %v", aws.ToString(u.UserName), tags, inline, attached)
			}
		}
	})
	gather(func() {
		// The credential report (generated in newWorkshop) has each user's
		// access keys: active or not, and when each was made. Its last-used
		// columns change with every call and are left out.
		report, err := iamc.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if failed(err) {
			return
		}
		rows, err := csv.NewReader(bytes.NewReader(report.Content)).ReadAll()
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
		var names []string
		pages := s3.NewListBucketsPaginator(s3c, &s3.ListBucketsInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if failed(err) {
				return
			}
			for _, b := range page.Buckets {
				names = append(names, aws.ToString(b.Name))
			}
		}
		var bw sync.WaitGroup
		for _, name := range names {
			bw.Add(1)
			go func() {
				defer bw.Done()
				var versions []s3types.ObjectVersion
				var markers []s3types.DeleteMarkerEntry
				pages := s3.NewListObjectVersionsPaginator(s3c, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
				for pages.HasMorePages() {
					page, err := pages.NextPage(ctx)
					if errorCode(err) == "NoSuchBucket" {
						return // deleted since list-buckets, by a case running side by side
					}
					if failed(err) {
						return
					}
					versions = append(versions, page.Versions...)
					markers = append(markers, page.DeleteMarkers...)
				}
				add("s3 bucket %s", name)
				if strings.HasPrefix(name, dataBucketPrefix) {
					// What the S3 simulations change and their undo puts
					// back.
					logging, err := s3c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(name)})
					if !failed(err) {
						b, err := json.Marshal(logging.LoggingEnabled)
						failed(err)
						add("s3 bucket %s logging %s", name, b)
					}
					policy, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
					text := ""
					if errorCode(err) != "NoSuchBucketPolicy" && !failed(err) {
						text = strings.Join(strings.Fields(aws.ToString(policy.Policy)), "")
					}
					add("s3 bucket %s policy %s", name, text)
				}
				if strings.HasPrefix(name, dataAccessLogsBucketPrefix) {
					// S3 (and moto) writes a log object for requests to
					// the data bucket, the inventory's own among them: the
					// logs grow by design, and belong to no run.
					return
				}
				for _, v := range versions {
					add("s3 object s3://%s/%s version %s latest %t", name, aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest))
				}
				for _, v := range markers {
					add("s3 delete marker s3://%s/%s version %s", name, aws.ToString(v.Key), aws.ToString(v.VersionId))
				}
			}()
		}
		bw.Wait()
	})
	gather(func() {
		pages := kms.NewListKeysPaginator(kmsc, &kms.ListKeysInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if failed(err) {
				return
			}
			for _, k := range page.Keys {
				var kv []string
				tagPages := kms.NewListResourceTagsPaginator(kmsc, &kms.ListResourceTagsInput{KeyId: k.KeyId})
				for tagPages.HasMorePages() {
					tags, err := tagPages.NextPage(ctx)
					if failed(err) {
						return
					}
					for _, tg := range tags.Tags {
						kv = append(kv, aws.ToString(tg.TagKey)+"="+aws.ToString(tg.TagValue))
					}
				}
				slices.Sort(kv)
				// moto 5.2 answers DescribeKey with HTTP 500 for a key that
				// its CloudFormation made (it keeps the key policy as a
				// dict, which its policy check cannot read): such a key's
				// state is unknown.
				state, manager := "unknown-to-moto", ""
				key, err := kmsc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId}, func(o *kms.Options) { o.RetryMaxAttempts = 1 })
				switch {
				case err == nil:
					state, manager = string(key.KeyMetadata.KeyState), string(key.KeyMetadata.KeyManager)
				case httpStatus(err) != http.StatusInternalServerError:
					failed(err)
					return
				}
				add("kms key %s %s %s tags %v", aws.ToString(k.KeyId), state, manager, kv)
			}
		}
	})
	// EC2 is read through the AWS CLI: the SDK's EC2 package alone takes
	// longer to compile than every other test dependency together.
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

// errorCode returns the AWS error code of err, "" if it has none.
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of the answer that err reports, 0 if
// none.
func httpStatus(err error) int {
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
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
