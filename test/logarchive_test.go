package test

import (
	"testing"
)

// archiveIDs returns the logical IDs of the log bucket and the access log
// bucket, told apart by which one logs into the other.
func archiveIDs(t *testing.T, tmpl map[string]any) (logBucket, accessLogs string) {
	t.Helper()
	for id, b := range resources(tmpl, "AWS::S3::Bucket") {
		if dest, ok := props(b)["LoggingConfiguration"]; ok && mentions(dest, "log-archive/") {
			logBucket = id
			accessLogs = at(t, dest, "DestinationBucketName", "Ref").(string)
		}
	}
	if logBucket == "" {
		t.Fatal("no bucket writes its access logs under log-archive/")
	}
	return logBucket, accessLogs
}

func TestLogArchiveBucketsAreHardenedAndOutliveTheStack(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	buckets := resources(tmpl, "AWS::S3::Bucket")
	if len(buckets) != 3 {
		t.Fatalf("want 3 buckets (logs, access logs, Athena results), found %v", keys(buckets))
	}
	for id, b := range buckets {
		if b["DeletionPolicy"] != "Retain" || b["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v; logs are evidence and must be retained", id, b["DeletionPolicy"], b["UpdateReplacePolicy"])
		}
		p := props(b)
		for _, flag := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if at(t, p, "PublicAccessBlockConfiguration", flag) != true {
				t.Errorf("%s: %s is not true", id, flag)
			}
		}
		if at(t, p, "VersioningConfiguration", "Status") != "Enabled" {
			t.Errorf("%s: versioning is off", id)
		}
		if at(t, p, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "AES256" {
			t.Errorf("%s: no default encryption", id)
		}
		if at(t, p, "OwnershipControls", "Rules", 0, "ObjectOwnership") != "BucketOwnerEnforced" {
			t.Errorf("%s: ACLs are not disabled", id)
		}
	}
	// Every bucket has a policy that denies requests without TLS.
	policies := resources(tmpl, "AWS::S3::BucketPolicy")
	covered := map[string]bool{}
	for _, pol := range policies {
		bucket := at(t, props(pol), "Bucket", "Ref").(string)
		for _, st := range statements(t, at(t, props(pol), "PolicyDocument")) {
			if st["Effect"] == "Deny" && equalJSON(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) && equalJSON(actions(st), []string{"s3:*"}) {
				covered[bucket] = true
			}
		}
	}
	for id := range buckets {
		if !covered[id] {
			t.Errorf("%s: no policy statement denies requests without TLS", id)
		}
	}
}

func TestLogArchiveDeliveryPolicyCarriesSourceConditions(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	logBucket, _ := archiveIDs(t, tmpl)
	var doc any
	for _, pol := range resources(tmpl, "AWS::S3::BucketPolicy") {
		if equalJSON(at(t, props(pol), "Bucket"), ref(logBucket)) {
			doc = at(t, props(pol), "PolicyDocument")
		}
	}
	if doc == nil {
		t.Fatal("the log bucket has no policy")
	}
	type grant struct{ acl, write bool }
	seen := map[string]*grant{}
	for _, st := range statements(t, doc) {
		if st["Effect"] != "Allow" {
			continue
		}
		service, _ := at(t, st, "Principal").(map[string]any)["Service"].(string)
		if service == "" {
			t.Errorf("allow statement for a non-service principal: %s", compact(st))
			continue
		}
		if seen[service] == nil {
			seen[service] = &grant{}
		}
		cond, _ := st["Condition"].(map[string]any)
		if !equalJSON(at(t, cond, "StringEquals", "aws:SourceAccount"), ref("AWS::AccountId")) {
			t.Errorf("%s: statement without aws:SourceAccount = this account: %s", service, compact(st))
		}
		if _, ok := at(t, cond, "ArnLike").(map[string]any)["aws:SourceArn"]; !ok {
			t.Errorf("%s: statement without an aws:SourceArn condition: %s", service, compact(st))
		}
		for _, a := range actions(st) {
			switch a {
			case "s3:GetBucketAcl":
				seen[service].acl = true
			case "s3:PutObject":
				seen[service].write = true
				if at(t, cond, "StringEquals", "s3:x-amz-acl") != "bucket-owner-full-control" {
					t.Errorf("%s: PutObject without the bucket-owner-full-control condition", service)
				}
				if !mentions(st["Resource"], "/AWSLogs/${AWS::AccountId}/*") {
					t.Errorf("%s: PutObject is not limited to AWSLogs/<this account>/: %s", service, compact(st["Resource"]))
				}
			default:
				t.Errorf("%s: unexpected action %s", service, a)
			}
		}
	}
	for _, service := range []string{"cloudtrail.amazonaws.com", "delivery.logs.amazonaws.com"} {
		g := seen[service]
		if g == nil || !g.acl || !g.write {
			t.Errorf("%s cannot both check the ACL and write: %+v", service, g)
		}
	}
	if len(seen) != 2 {
		t.Errorf("services allowed to deliver: %v, want only CloudTrail and log delivery", keys(seen))
	}
}
