package samplelogs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// Times of the S3 ransomware's response, UTC, two days before Day: an
// incident of its own, done on its day, so that no query of the other
// incidents (which search from 2025-12-31 on) sees it. The run starts at
// 07:15 (its run ID) and is detected at 08:40; containment cancels the
// deletion of the intruder's KMS key first (the clock), then contains the
// ingest key and locks the data bucket; recovery brings the records back
// from their versions, removes the intruder's copies and note, lifts the
// lockdown and gives the ingest workload a new key; eradication schedules
// the intruder's KMS key for deletion, with the longest waiting period, and
// deletes the old ingest key at 20:01.
var (
	RansomDetectedAt  = mustTime("2025-12-30T08:40:00Z")
	RansomContainedAt = mustTime("2025-12-30T09:30:00Z")
	RansomRecoveredAt = mustTime("2025-12-30T10:30:00Z")
	RansomEradicateAt = mustTime("2025-12-30T11:30:00Z")
	ransomOldKeyAt    = mustTime("2025-12-30T20:01:00Z")
)

const (
	// ingestIP is the ingest job's usual address.
	ingestIP = "192.0.2.13"
	// ransomIncidentID is the S3 ransomware's incident ID in the sample.
	ransomIncidentID = "IR-2026-0003"
	// keyDeletionWindow is how long KMS waits before it deletes the
	// intruder's key, as the responder schedules it: the longest.
	keyDeletionWindow = 30
)

// ingestRecord is the record the ingest job writes on each run.
const ingestRecord = "records/orders/2025/orders-2025-Q4.jsonl"

// ransomRun is the S3 ransomware's run, if the sample has one.
func ransomRun(runs []simRun) *simRun {
	for i := range runs {
		if runs[i].sim.Name == "s3_ransomware" {
			return &runs[i]
		}
	}
	return nil
}

// kmsDate is how KMS responses in CloudTrail spell dates.
func kmsDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// kmsKey adds the key to a KMS record's resources.
func kmsKey(rec *record, id string) *record {
	rec.Resources = append(rec.Resources, resource{AccountID: Account, Type: "AWS::KMS::Key", ARN: kmsKeyARN(id)})
	return rec
}

// ransomDetails adds to a replayed call of the ransomware run what
// CloudTrail records and the recording does not keep: the copies' source
// and SSE-KMS encryption under the intruder's key, the key's metadata, the
// deletion date.
func ransomDetails(rec *record, c recording.Call) {
	keyID := recording.KMSKeyID
	params, _ := rec.RequestParameters.(map[string]any)
	switch c.Op() {
	case "s3:CopyObject":
		bucket, _ := c.Params["Bucket"].(string)
		key, _ := c.Params["Key"].(string)
		_, source, _ := strings.Cut(key, "/") // ir-ransom-RUN_ID/records/... ← records/...
		params["x-amz-copy-source"] = bucket + "/" + source
		params["x-amz-server-side-encryption"] = "aws:kms"
		params["x-amz-server-side-encryption-aws-kms-key-id"] = keyID
		rec.ResponseElements = map[string]any{
			"x-amz-server-side-encryption":                "aws:kms",
			"x-amz-server-side-encryption-aws-kms-key-id": kmsKeyARN(keyID),
		}
	case "s3:DeleteObjects":
		params["delete"] = ""
	case "kms:CreateKey":
		desc, _ := c.Params["Description"].(string)
		rec.ResponseElements = map[string]any{"keyMetadata": map[string]any{
			"aWSAccountId": Account, "keyId": keyID, "arn": kmsKeyARN(keyID), "creationDate": kmsDate(rec.time),
			"enabled": true, "description": desc, "keyUsage": "ENCRYPT_DECRYPT", "keyState": "Enabled",
			"origin": "AWS_KMS", "keyManager": "CUSTOMER", "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
			"keySpec": "SYMMETRIC_DEFAULT", "encryptionAlgorithms": []any{"SYMMETRIC_DEFAULT"}, "multiRegion": false,
		}}
		kmsKey(rec, keyID)
	case "kms:ScheduleKeyDeletion":
		days := 7 // the script's waiting period, if the call names none
		if n, err := strconv.Atoi(fmt.Sprint(params["pendingWindowInDays"])); err == nil {
			days = n
		}
		rec.ResponseElements = map[string]any{
			"keyId": kmsKeyARN(keyID), "deletionDate": kmsDate(rec.time.Add(time.Duration(days) * 24 * time.Hour)),
			"keyState": "PendingDeletion", "pendingWindowInDays": days,
		}
		kmsKey(rec, keyID)
	}
}

// s3Ransomware makes the records around the S3 ransomware run, if the
// sample has one: the ingest job's usual writes, and the response as the
// S3 ransomware playbook does it. It draws on no random stream, so that
// the records of the other incidents stay as they were.
func (g *generator) s3Ransomware(runs []simRun) []*record {
	run := ransomRun(runs)
	if run == nil {
		return nil
	}
	sim := run.sim
	var dataBucket, note, copies string
	for _, c := range run.calls {
		bucket, _ := c.Params["Bucket"].(string)
		key, _ := c.Params["Key"].(string)
		switch c.Op() {
		case "s3:GetBucketVersioning":
			dataBucket = bucket
		case "s3:PutObject":
			note = key
		case "s3:CopyObject":
			copies, _, _ = strings.Cut(key, "/")
		}
	}
	var recs records
	add := recs.add

	// The ingest job, from its usual address: before the run with its key,
	// after recovery with the new one.
	newKey := NewKeyID(sim)
	day := mustTime("2025-12-30T00:00:00Z")
	for _, at := range []time.Duration{2*time.Hour + 20*time.Minute, 22*time.Hour + 20*time.Minute} {
		t := day.Add(at)
		key := sim.Key.AccessKeyID
		if t.After(RansomRecoveredAt) {
			key = newKey
		}
		who := iamUser(sim.User, key)
		s3Request(add(t, who, "s3.amazonaws.com", "PutObject", s3Params(dataBucket, ingestRecord, nil),
			map[string]any{"x-amz-server-side-encryption": "AES256"}, ingestIP, ciAgent+"s3api.put-object"), dataBucket, ingestRecord, 3127, 0)
	}

	// The analyst starts on the findings a few minutes after detection.
	analyst := assumedRole("SecurityAnalystRole", "analyst")
	add(RansomDetectedAt.Add(7*time.Minute), analyst, "athena.amazonaws.com", "StartQueryExecution", map[string]any{
		"queryString":           "-- s3_ransomware/01_key_activity",
		"queryExecutionContext": map[string]any{"database": "ir_workshop"},
		"workGroup":             "ir-workshop",
	}, map[string]any{"queryExecutionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"}, analystIP, cloudShellUA+"athena.start-query-execution")

	responder := assumedRole("SecurityBreakGlassRole", "responder")
	agent := func(c string) string { return cloudShellUA + c }
	keyID := recording.KMSKeyID
	t := RansomContainedAt.Add(-2 * time.Minute)
	step := func(d time.Duration) time.Time { t = t.Add(d); return t }

	// Containment: the clock first (the key's deletion cancelled; the key
	// stays disabled), then contain-access-key.sh for the ingest key, then
	// lock-bucket.sh for the data bucket.
	kmsKey(add(step(2*time.Second), responder, "kms.amazonaws.com", "DescribeKey", map[string]any{"keyId": keyID}, nil, analystIP, agent("kms.describe-key")), keyID)
	kmsKey(add(step(2*time.Second), responder, "kms.amazonaws.com", "CancelKeyDeletion", map[string]any{"keyId": keyID},
		map[string]any{"keyId": kmsKeyARN(keyID)}, analystIP, agent("kms.cancel-key-deletion")), keyID)
	recs.containAccessKey(&t, responder, sim.User, sim.Key.AccessKeyID, ransomIncidentID)
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "GetBucketLocation",
		s3Params(dataBucket, "", map[string]any{"location": ""}), nil, analystIP, agent("s3api.get-bucket-location")), dataBucket, "", 0, 0)
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "GetBucketPolicy",
		s3Params(dataBucket, "", map[string]any{"policy": ""}), nil, analystIP, agent("s3api.get-bucket-policy")), dataBucket, "", 0, 0)
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "PutBucketPolicy",
		s3Params(dataBucket, "", map[string]any{"bucketPolicy": lockdownPolicy(dataBucket), "policy": ""}), nil, analystIP, agent("s3api.put-bucket-policy")), dataBucket, "", 0, 0)

	// Recovery: every record's version from before the run made current
	// again (its delete marker removed), checked, then the intruder's copies
	// and note deleted with their versions; the bucket's own policy back;
	// the ingest workload on a new key.
	t = RansomRecoveredAt
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "ListObjectVersions",
		s3Params(dataBucket, "", map[string]any{"versions": "", "prefix": "records/"}), nil, analystIP, agent("s3api.list-object-versions")), dataBucket, "", 0, 0)
	s3Request(add(step(3*time.Second), responder, "s3.amazonaws.com", "DeleteObjects", s3Params(dataBucket, "", map[string]any{"delete": ""}),
		nil, analystIP, agent("s3api.delete-objects")), dataBucket, "", 0, 0).EventCategory = "Data"
	s3Request(add(step(3*time.Second), responder, "s3.amazonaws.com", "ListObjectVersions",
		s3Params(dataBucket, "", map[string]any{"versions": "", "prefix": "records/"}), nil, analystIP, agent("s3api.list-object-versions")), dataBucket, "", 0, 0)
	s3Request(add(step(3*time.Second), responder, "s3.amazonaws.com", "ListObjectVersions",
		s3Params(dataBucket, "", map[string]any{"versions": "", "prefix": copies + "/"}), nil, analystIP, agent("s3api.list-object-versions")), dataBucket, "", 0, 0)
	s3Request(add(step(3*time.Second), responder, "s3.amazonaws.com", "DeleteObjects", s3Params(dataBucket, "", map[string]any{"delete": ""}),
		nil, analystIP, agent("s3api.delete-objects")), dataBucket, "", 0, 0).EventCategory = "Data"
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "ListObjectVersions",
		s3Params(dataBucket, "", map[string]any{"versions": "", "prefix": note}), nil, analystIP, agent("s3api.list-object-versions")), dataBucket, "", 0, 0)
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "DeleteObjects", s3Params(dataBucket, "", map[string]any{"delete": ""}),
		nil, analystIP, agent("s3api.delete-objects")), dataBucket, "", 0, 0).EventCategory = "Data"
	// restore-bucket-policy.sh puts back the policy the bucket had: the
	// stack's, which refuses requests without TLS.
	s3Request(add(step(5*time.Second), responder, "s3.amazonaws.com", "PutBucketPolicy",
		s3Params(dataBucket, "", map[string]any{"bucketPolicy": deployedDataPolicy(dataBucket), "policy": ""}), nil, analystIP, agent("s3api.put-bucket-policy")), dataBucket, "", 0, 0)
	recs.replaceWorkloadKey(&t, ransomOldKeyAt, responder, sim, newKey)

	// Eradication: the intruder's key, disabled since its deletion was
	// cancelled, scheduled for deletion with the longest waiting period
	// once the records are back (the old ingest key goes above, once the
	// job has run on the new one).
	t = RansomEradicateAt
	kmsKey(add(step(2*time.Second), responder, "kms.amazonaws.com", "ScheduleKeyDeletion", map[string]any{"keyId": keyID, "pendingWindowInDays": keyDeletionWindow},
		map[string]any{
			"keyId": kmsKeyARN(keyID), "deletionDate": kmsDate(t.Add(keyDeletionWindow * 24 * time.Hour)),
			"keyState": "PendingDeletion", "pendingWindowInDays": keyDeletionWindow,
		}, analystIP, agent("kms.schedule-key-deletion")), keyID)
	return recs
}

// deployedDataPolicy is the data bucket's policy as SimulationStack
// deploys it: requests without TLS refused.
func deployedDataPolicy(bucket string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:*",
			"Resource":  []any{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	}
}
