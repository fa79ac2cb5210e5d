package samplelogs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// The ransomware run's records carry what the playbook reads in them: each
// copy's source record and its SSE-KMS encryption under the intruder's key,
// the key's ID from CreateKey on, and the deletion date the run's
// ScheduleKeyDeletion set, its waiting period after the call.
func TestRansomwareRecordsNameTheIntrudersKeyAndItsDeletionDate(t *testing.T) {
	files := generate(t, 1)
	keyARN := kmsKeyARN(recording.KMSKeyID)
	var copies, created, scheduled int
	for k, content := range files {
		if !strings.Contains(k, "/CloudTrail/") {
			continue
		}
		var f struct {
			Records []struct {
				EventTime, EventName, SourceIPAddress string
				RequestParameters, ResponseElements   map[string]any
			}
		}
		if err := json.Unmarshal(content, &f); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			if r.SourceIPAddress != s3RansomwareIP {
				continue
			}
			switch r.EventName {
			case "CopyObject":
				copies++
				key, _ := r.RequestParameters["key"].(string)
				source, _ := r.RequestParameters["x-amz-copy-source"].(string)
				bucket, _ := r.RequestParameters["bucketName"].(string)
				_, record, _ := strings.Cut(key, "/")
				if !strings.HasPrefix(key, "ir-ransom-") || source != bucket+"/"+record || !strings.HasPrefix(record, "records/") {
					t.Errorf("CopyObject of %q from %q: want ir-ransom-RUN_ID/records/... from BUCKET/records/...", key, source)
				}
				if r.RequestParameters["x-amz-server-side-encryption-aws-kms-key-id"] != recording.KMSKeyID ||
					r.ResponseElements["x-amz-server-side-encryption-aws-kms-key-id"] != keyARN {
					t.Errorf("CopyObject of %q: not encrypted under %s: %v %v", key, recording.KMSKeyID, r.RequestParameters, r.ResponseElements)
				}
			case "CreateKey":
				created++
				meta, _ := r.ResponseElements["keyMetadata"].(map[string]any)
				if meta["keyId"] != recording.KMSKeyID || meta["arn"] != keyARN {
					t.Errorf("CreateKey: key metadata %v, want key %s", meta, recording.KMSKeyID)
				}
			case "ScheduleKeyDeletion":
				scheduled++
				at, _ := time.Parse(time.RFC3339, r.EventTime)
				if got, want := r.ResponseElements["deletionDate"], kmsDate(at.Add(7*24*time.Hour)); got != want {
					t.Errorf("ScheduleKeyDeletion at %s: deletion date %v, want %s (7 days)", r.EventTime, got, want)
				}
			}
		}
	}
	if copies == 0 || created != 1 || scheduled != 1 {
		t.Errorf("%d copies, %d CreateKey, %d ScheduleKeyDeletion by the ransomware run; want copies and one of each", copies, created, scheduled)
	}
}
