package samplelogs

import "time"

// Times of the S3 exfiltration's response, UTC, the day before Day: an
// incident of its own, done before the other two begin, so that their
// timelines (from their start on) do not hold its response. The run
// starts at 08:30 (its run ID) and is detected at 10:45; the reporting key
// and the staging bucket are contained, the staging bucket goes and the
// data bucket's access logging comes back with eradication, the reporting
// workload gets a new key at recovery, and its old key is deleted at 20:01.
var (
	S3DetectedAt     = mustTime("2025-12-31T10:45:00Z")
	S3ContainedAt    = mustTime("2025-12-31T11:45:00Z")
	S3EradicateAt    = mustTime("2025-12-31T13:15:00Z")
	S3RecoveredAt    = mustTime("2025-12-31T14:45:00Z")
	s3OldKeyDeleteAt = mustTime("2025-12-31T20:01:00Z")
)

const (
	// reportingIP is the reporting job's usual address.
	reportingIP = "192.0.2.12"
	// dataAccessLogs is where the data bucket's server access logs go, as
	// SimulationStack deploys it in the placeholder account.
	dataAccessLogs = "simulationstack-dataaccesslogsbucket-example"
	// s3IncidentID is the S3 exfiltration's incident ID in the sample.
	s3IncidentID = "IR-2026-0002"
)

// usualReports are the records the reporting job reads on each run.
var usualReports = []string{"records/products/catalog.csv", "records/customers/customers.csv"}

// s3Exfiltration makes the records around the S3 exfiltration run, if the
// sample has one: the reporting job's usual reads, and the response as the
// S3 exfiltration playbook does it. It draws on no random stream, so that
// the records of the other incidents stay as they were.
func (g *generator) s3Exfiltration(runs []simRun) []*record {
	var run *simRun
	for i := range runs {
		if runs[i].sim.Name == "s3_exfiltration" {
			run = &runs[i]
		}
	}
	if run == nil {
		return nil
	}
	sim := run.sim
	var dataBucket, staging string
	for _, c := range run.calls {
		bucket, _ := c.Params["Bucket"].(string)
		switch c.Op() {
		case "s3:GetObject":
			dataBucket = bucket
		case "s3:CreateBucket":
			staging = bucket
		}
	}
	var recs records
	add := recs.add

	// The reporting job, twice a day from its usual address, with the key
	// of the moment: none between containment and recovery.
	newKey := NewKeyID(sim)
	for _, day := range days {
		for _, hm := range []time.Duration{1*time.Hour + 5*time.Minute, 13*time.Hour + 5*time.Minute} {
			t := day.Add(hm)
			key := sim.Key.AccessKeyID
			switch {
			case t.After(S3RecoveredAt):
				key = newKey
			case t.After(S3ContainedAt):
				continue
			}
			who := iamUser(sim.User, key)
			s3Request(add(t, who, "s3.amazonaws.com", "ListObjects", s3Params(dataBucket, "", map[string]any{"list-type": "2", "prefix": "records/"}),
				nil, reportingIP, ciAgent+"s3api.list-objects-v2"), dataBucket, "", 0, 0)
			for i, k := range usualReports {
				s3Request(add(t.Add(time.Duration(2+i)*time.Second), who, "s3.amazonaws.com", "GetObject", s3Params(dataBucket, k, nil),
					nil, reportingIP, ciAgent+"s3api.get-object"), dataBucket, k, 0, objectSize(k))
			}
		}
	}

	// The analyst starts on the findings a few minutes after detection.
	analyst := assumedRole("SecurityAnalystRole", "analyst")
	add(S3DetectedAt.Add(7*time.Minute), analyst, "athena.amazonaws.com", "StartQueryExecution", map[string]any{
		"queryString":           "-- s3_exfiltration/01_key_activity",
		"queryExecutionContext": map[string]any{"database": "ir_workshop"},
		"workGroup":             "ir-workshop",
	}, map[string]any{"queryExecutionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}, analystIP, cloudShellUA+"athena.start-query-execution")

	responder := assumedRole("SecurityBreakGlassRole", "responder")
	agent := func(c string) string { return cloudShellUA + c }
	t := S3ContainedAt.Add(-2 * time.Minute)
	step := func(d time.Duration) time.Time { t = t.Add(d); return t }

	// Containment: contain-access-key.sh for the reporting key, then
	// lock-bucket.sh for the staging bucket.
	recs.containAccessKey(&t, responder, sim.User, sim.Key.AccessKeyID, s3IncidentID)
	rec := s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "GetBucketPolicy",
		s3Params(staging, "", map[string]any{"policy": ""}), nil, analystIP, agent("s3api.get-bucket-policy")), staging, "", 0, 0)
	rec.ErrorCode, rec.ErrorMessage = "NoSuchBucketPolicy", "The bucket policy does not exist"
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "PutBucketPolicy",
		s3Params(staging, "", map[string]any{"bucketPolicy": lockdownPolicy(staging), "policy": ""}), nil, analystIP, agent("s3api.put-bucket-policy")), staging, "", 0, 0)

	// Eradication: the staging bucket goes, and the data bucket logs again.
	t = S3EradicateAt
	// aws s3 rb --force deletes the copies in one DeleteObjects call.
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "DeleteObjects", s3Params(staging, "", map[string]any{"delete": ""}),
		nil, analystIP, agent("s3.rb")), staging, "", 0, 0).EventCategory = "Data"
	s3Request(add(step(2*time.Second), responder, "s3.amazonaws.com", "DeleteBucket", s3Params(staging, "", nil),
		nil, analystIP, agent("s3.rb")), staging, "", 0, 0)
	s3Request(add(step(5*time.Second), responder, "s3.amazonaws.com", "PutBucketLogging", s3Params(dataBucket, "", map[string]any{
		"logging": "", "BucketLoggingStatus": map[string]any{"LoggingEnabled": map[string]any{
			"TargetBucket": dataAccessLogs, "TargetPrefix": "",
		}},
	}), nil, analystIP, agent("s3api.put-bucket-logging")), dataBucket, "", 0, 0)

	// Recovery: the reporting workload gets a new key in its secret, and
	// the containment policy goes; the old key is deleted once the job has
	// run on the new one.
	t = S3RecoveredAt
	recs.replaceWorkloadKey(&t, s3OldKeyDeleteAt, responder, sim, newKey)
	return recs
}
