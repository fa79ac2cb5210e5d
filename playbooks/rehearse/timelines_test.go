package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/engine"
)

// breakGlass is one change by SecurityBreakGlassRole, as CloudTrail records
// it, to a bucket or a KMS key.
type breakGlass struct {
	at, source, name, bucket, keyID string
}

func (b breakGlass) json() string {
	params := fmt.Sprintf(`{"bucketName":%q}`, b.bucket)
	if b.keyID != "" {
		params = fmt.Sprintf(`{"keyId":%q}`, b.keyID)
	}
	return fmt.Sprintf(`{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/SecurityBreakGlassRole/responder",`+
		`"accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","userName":"SecurityBreakGlassRole"}}},`+
		`"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"192.0.2.20",`+
		`"requestParameters":%s,"readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		b.at, b.source+".amazonaws.com", b.name, params)
}

// timelineOver runs a playbook's response timeline query over CloudTrail
// records of one day and returns its rows as "phase action target".
func timelineOver(t *testing.T, book, day string, records []breakGlass) []string {
	t.Helper()
	qs, err := playbook.Queries(repo(t), book)
	if err != nil {
		t.Fatal(err)
	}
	var sql string
	for _, q := range qs {
		if strings.HasSuffix(q.Name, "_response_timeline") {
			sql = q.SQL
		}
	}
	if sql == "" {
		t.Fatalf("playbooks/%s has no NN_response_timeline.sql", book)
	}
	var lines []string
	for _, r := range records {
		lines = append(lines, r.json())
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(lines, ",\n"))
	zw.Close()
	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", filepath.FromSlash(day))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "111122223333_CloudTrail_us-east-1_" + strings.ReplaceAll(day, "/", "") + "T2355Z_timelinetest00001.json.gz"
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Load(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(res.Columns, name) }
	var got []string
	for _, row := range res.Rows {
		got = append(got, row[col("phase")]+" "+row[col("action")]+" "+row[col("target")])
	}
	return got
}

// The S3 playbooks' timelines share the data bucket: each counts only the
// changes its own incident's response makes to it. The exfiltration's
// response puts the data bucket's logging back (or locks the bucket); the
// ransomware's removes delete markers from it (DeleteObjects) and handles
// the intruder's key. A change to the data bucket, or a logging change to
// another bucket, that is not the incident's is not on its timeline.
func TestS3TimelinesHoldOnlyTheirIncidentsChanges(t *testing.T) {
	const data = "ir-workshop-data-111122223333-us-east-1"
	const staging = "ir-exfil-111122223333-se-20251231-083012-4b8e21c9"
	t.Run("s3_exfiltration", func(t *testing.T) {
		got := timelineOver(t, "s3_exfiltration", "2025/12/31", []breakGlass{
			{at: "2025-12-31T13:15:04Z", source: "s3", name: "DeleteBucket", bucket: staging},
			{at: "2025-12-31T13:15:09Z", source: "s3", name: "PutBucketLogging", bucket: data},
			// Not the exfiltration's: logging of another bucket, and
			// changes to the data bucket's objects.
			{at: "2025-12-31T13:16:00Z", source: "s3", name: "PutBucketLogging", bucket: staging},
			{at: "2025-12-31T13:17:00Z", source: "s3", name: "DeleteObjects", bucket: data},
		})
		want := []string{"eradicate s3:DeleteBucket " + staging, "eradicate s3:PutBucketLogging " + data}
		if !slices.Equal(got, want) {
			t.Errorf("timeline rows\n  %q\nwant\n  %q", got, want)
		}
	})
	t.Run("s3_ransomware", func(t *testing.T) {
		const key = "1234abcd-12ab-34cd-56ef-1234567890ab"
		got := timelineOver(t, "s3_ransomware", "2025/12/30", []breakGlass{
			{at: "2025-12-30T09:28:04Z", source: "kms", name: "CancelKeyDeletion", keyID: key},
			{at: "2025-12-30T10:30:05Z", source: "s3", name: "DeleteObjects", bucket: data},
			// Not the ransomware's: the data bucket's logging, another
			// bucket's objects, another KMS key.
			{at: "2025-12-30T10:31:00Z", source: "s3", name: "PutBucketLogging", bucket: data},
			{at: "2025-12-30T10:32:00Z", source: "s3", name: "DeleteObjects", bucket: staging},
			{at: "2025-12-30T10:33:00Z", source: "kms", name: "ScheduleKeyDeletion", keyID: "0987dcba-09fe-87dc-65ba-ab0987654321"},
		})
		want := []string{"contain kms:CancelKeyDeletion " + key, "recover s3:DeleteObjects " + data}
		if !slices.Equal(got, want) {
			t.Errorf("timeline rows\n  %q\nwant\n  %q", got, want)
		}
	})
}
