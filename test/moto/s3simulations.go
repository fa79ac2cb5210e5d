package moto

import (
	"fmt"
	"testing"
)

// S3 simulations: what scripts/simulate-s3-exfiltration.sh and
// simulate-s3-ransomware.sh need of AWS that moto 5.2 lacks, and what stands
// in for it in the emulator:
//   - Block Public Access: moto stores the settings but refuses no public
//     policy (moto/s3/models.py put_bucket_policy), so an explicit deny of
//     s3:PutBucketPolicy on the data bucket stands in for it, for the
//     reporting user only: the refusal the exfiltration simulation expects
//     reaches it as AWS gives it, AccessDenied, and moto records the
//     request, as CloudTrail records a refused call;
//   - KMS key policies: moto authorizes KMS calls by IAM policies alone, so
//     what the ransomware simulation's own key policy grants the ingest user
//     is granted it in IAM;
//   - DeleteObjects: moto authorizes the request as s3:DeleteObject on the
//     bucket, where AWS authorizes s3:DeleteObject on each key, so the
//     ingest user, allowed s3:DeleteObject on the records (BUCKET/*), is
//     allowed it on the bucket too;
//   - the data bucket's policy: moto cannot keep its TLS-only statement (see
//     ApplyBucketSettings), so a statement that changes nothing stands in
//     for it: the runs find a policy to add to and to put back, as in AWS.
const (
	blockPublicAccessStandIn = `{"Version":"2012-10-17","Statement":[{"Sid":"MotoStandsInForBlockPublicAccess","Effect":"Deny","Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::%s"}]}`
	ingestStandIns           = `{"Version":"2012-10-17","Statement":[{"Sid":"MotoStandsInForTheKeyPolicy","Effect":"Allow","Action":["kms:DescribeKey","kms:GenerateDataKey","kms:ScheduleKeyDeletion"],"Resource":"*"},` +
		`{"Sid":"MotoAuthorizesDeleteObjectsOnTheBucket","Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::%s"}]}`
	dataPolicyStandIn = `{"Version":"2012-10-17","Statement":[{"Sid":"MotoStandsInForTheTlsOnlyStatement","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%[1]s:root"},"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::%[2]s"}]}`
)

// BlockPublicAccessStandIn is the name of the reporting user's policy that
// stands in for Block Public Access.
const BlockPublicAccessStandIn = "moto-block-public-access"

// PrepareS3Simulations gives SimulationStack, deployed as stackName from the
// template at templatePath, what the S3 simulations need and moto lacks: the
// data bucket's settings (ApplyBucketSettings) and the stand-ins above. It
// returns the data bucket's name.
func PrepareS3Simulations(t testing.TB, s *Server, env []string, stackName, templatePath string) string {
	t.Helper()
	ApplyBucketSettings(t, s, env, stackName, templatePath)
	var caller struct{ Account string }
	s.MustAWSJSON(t, env, &caller, "sts", "get-caller-identity")
	bucket := "ir-workshop-data-" + caller.Account + "-" + Region
	s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", "reporting", "--policy-name", BlockPublicAccessStandIn,
		"--policy-document", fmt.Sprintf(blockPublicAccessStandIn, bucket))
	s.MustAWS(t, env, "iam", "put-user-policy", "--user-name", "ingest", "--policy-name", "moto-stand-ins",
		"--policy-document", fmt.Sprintf(ingestStandIns, bucket))
	s.MustAWS(t, env, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", fmt.Sprintf(dataPolicyStandIn, caller.Account, bucket))
	return bucket
}
