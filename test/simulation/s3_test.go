package simulation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

const (
	// dataBucketPrefix starts the name of SimulationStack's data bucket.
	dataBucketPrefix = "ir-workshop-data-"
	// dataAccessLogsBucketPrefix starts the name CloudFormation gives the
	// data bucket's access log bucket in the stack SimulationStack.
	dataAccessLogsBucketPrefix = "simulationstack-dataaccesslogsbucket"
)

// s3Workshop is the emulated workshop of the S3 incidents: the workshop, with
// the data bucket of SimulationStack as the template makes it (versioned,
// public access blocked, logging to its access log bucket, its policy) and
// filled by scripts/seed-data-bucket.sh.
type s3Workshop struct {
	*workshop
	bucket  string   // the data bucket
	records []string // its records' keys, sorted
	logsTo  string   // where its server access logs go: s3://BUCKET/PREFIX
	policy  string   // its bucket policy, as deployed
}

// newS3Workshop starts the emulated workshop (newWorkshopWithoutBaseline),
// prepares it for the S3 simulations (moto.PrepareS3Simulations: the data
// bucket as the template says, stand-ins for what moto lacks), seeds the
// records and takes the baseline inventory, with them.
func newS3Workshop(t *testing.T) *s3Workshop {
	t.Helper()
	w := &s3Workshop{workshop: newWorkshopWithoutBaseline(t)}
	s, env := w.s, w.env
	w.bucket = moto.PrepareS3Simulations(t, s, env, "SimulationStack", simulationTemplate)

	seed := runScript(t, "", env, "seed-data-bucket.sh")
	mustSucceed(t, seed, "seed-data-bucket.sh")
	// Seeding again writes nothing.
	before := objectVersions(t, w)
	mustSucceed(t, runScript(t, "", env, "seed-data-bucket.sh"), "seed-data-bucket.sh, again")
	if after := objectVersions(t, w); !slices.Equal(before, after) {
		t.Fatalf("seeding twice changed the data bucket:\n%s", diffLines(before, after))
	}
	for _, v := range before {
		key, _, _ := strings.Cut(v, " ")
		w.records = append(w.records, key)
	}
	if len(w.records) < 10 {
		t.Fatalf("the seed wrote %d records, want a burst's worth: %v", len(w.records), w.records)
	}
	w.logsTo, w.policy = dataBucketLogging(t, w), dataBucketPolicy(t, w)
	if !strings.HasPrefix(w.logsTo, "s3://"+dataAccessLogsBucketPrefix) || w.policy == "" {
		t.Fatalf("the data bucket as deployed: logging %q, policy %q; want logging to its access log bucket, and a policy", w.logsTo, w.policy)
	}
	w.baseline = takeInventory(t, w.workshop)
	return w
}

// objectVersions returns every version and delete marker of the data
// bucket's records as "KEY VERSION_ID latest|old [marker]", sorted.
func objectVersions(t *testing.T, w *s3Workshop) []string {
	t.Helper()
	var lines []string
	add := func(key, version *string, latest bool, marker string) {
		if k := aws.ToString(key); strings.HasPrefix(k, "records/") {
			lines = append(lines, k+" "+aws.ToString(version)+map[bool]string{true: " latest", false: " old"}[latest]+marker)
		}
	}
	// The whole bucket: moto's signature check fails on an encoded "/" in a
	// query string, such as prefix=records%2F.
	pages := s3.NewListObjectVersionsPaginator(w.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(w.bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing the versions in %s: %v", w.bucket, err)
		}
		for _, v := range page.Versions {
			add(v.Key, v.VersionId, aws.ToBool(v.IsLatest), "")
		}
		for _, v := range page.DeleteMarkers {
			add(v.Key, v.VersionId, aws.ToBool(v.IsLatest), " marker")
		}
	}
	slices.Sort(lines)
	return lines
}

// dataBucketLogging returns where the data bucket's server access logs go,
// s3://BUCKET/PREFIX, or "" if it logs nowhere.
func dataBucketLogging(t *testing.T, w *s3Workshop) string {
	t.Helper()
	out, err := w.s3.GetBucketLogging(context.Background(), &s3.GetBucketLoggingInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatalf("reading the logging of %s: %v", w.bucket, err)
	}
	if out.LoggingEnabled == nil {
		return ""
	}
	return "s3://" + aws.ToString(out.LoggingEnabled.TargetBucket) + "/" + aws.ToString(out.LoggingEnabled.TargetPrefix)
}

// dataBucketPolicy returns the data bucket's policy.
func dataBucketPolicy(t *testing.T, w *s3Workshop) string {
	t.Helper()
	out, err := w.s3.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatalf("reading the policy of %s: %v", w.bucket, err)
	}
	return aws.ToString(out.Policy)
}

// requireDataBucketAsDeployed fails the test unless the data bucket's
// logging, policy and records are as newS3Workshop left them.
func requireDataBucketAsDeployed(t *testing.T, w *s3Workshop, what string) {
	t.Helper()
	if got := dataBucketLogging(t, w); got != w.logsTo {
		t.Errorf("%s: the data bucket's server access logs go to %q, want %q", what, got, w.logsTo)
	}
	if got := dataBucketPolicy(t, w); got != w.policy {
		t.Errorf("%s: the data bucket's policy is\n%s\nwant\n%s", what, got, w.policy)
	}
	var current []string
	for _, v := range objectVersions(t, w) {
		if strings.HasSuffix(v, " latest") {
			key, _, _ := strings.Cut(v, " ")
			current = append(current, key)
		}
	}
	if !slices.Equal(current, w.records) {
		t.Errorf("%s: the data bucket's current records are %v, want %v", what, current, w.records)
	}
}

// s3State is a state file of the S3 simulations.
type s3State struct {
	Simulation string `json:"simulation"`
	RunID      string `json:"run_id"`
	Status     string `json:"status"`
	ActorArn   string `json:"actor_arn"`
	Resources  struct {
		DataBucket      string   `json:"data_bucket"`
		AccessLogging   string   `json:"access_logging"`
		S3Bucket        string   `json:"s3_bucket"`
		KMSKeyID        string   `json:"kms_key_id"`
		EncryptedPrefix string   `json:"encrypted_prefix"`
		DeleteMarkers   []string `json:"delete_markers"`
		RansomNoteKey   string   `json:"ransom_note_key"`
	} `json:"resources"`
}

func readS3State(t *testing.T, path string) s3State {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the state file: %v", err)
	}
	var st s3State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state file %s is not JSON: %v\n%s", path, err, b)
	}
	return st
}

// s3Requests returns the S3 requests that run runID made (its app ID in the
// User-Agent) with the method whose URL contains part, their bodies decoded.
func s3Requests(t *testing.T, w *s3Workshop, runID, method, part string) []recordedRequest {
	t.Helper()
	var out []recordedRequest
	for _, r := range appRequests(t, w.s, runID) {
		if r.action() == "" && r.Method == method && strings.Contains(r.URL, part) {
			if r.BodyEncoded {
				b, err := base64.StdEncoding.DecodeString(r.Body)
				if err != nil {
					t.Fatalf("the body of %s %s: %v", r.Method, r.URL, err)
				}
				r.Body, r.BodyEncoded = string(b), false
			}
			out = append(out, r)
		}
	}
	return out
}
