package recording

import (
	"os"
	"reflect"
	"testing"
)

// testdata/moto_recording.jsonl is what moto 5.2.1 recorded of these AWS
// CLI v1 commands (signatures blanked):
//
//	aws iam create-user --user-name u1
//	aws s3 mb s3://bucket-x
//	aws s3 cp f s3://bucket-x/recon/f.txt
//	aws lambda list-functions
//	aws kms list-keys
//	aws ec2 describe-instances
//	aws s3api list-buckets
//	aws logs describe-log-groups
//	aws secretsmanager list-secrets
//	aws sts get-caller-identity
//	aws sqs list-queues --endpoint-url http://127.0.0.1:PORT
func TestResolverNamesEachRecordedCall(t *testing.T) {
	r, err := NewResolver()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/moto_recording.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ParseRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var calls []Call
	for _, e := range entries {
		c, err := r.Resolve(e)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Op())
		calls = append(calls, c)
	}
	want := []string{"iam:CreateUser", "s3:CreateBucket", "s3:PutObject", "lambda:ListFunctions", "kms:ListKeys",
		"ec2:DescribeInstances", "s3:ListBuckets", "logs:DescribeLogGroups", "secretsmanager:ListSecrets", "sts:GetCallerIdentity", "sqs:ListQueues"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ops = %q\nwant  %q", got, want)
	}
	if p := calls[0].Params; !reflect.DeepEqual(p, map[string]any{"UserName": "u1"}) {
		t.Errorf("CreateUser params = %v", p)
	}
	if p := calls[2].Params; p["Bucket"] != "bucket-x" || p["Key"] != "recon/f.txt" {
		t.Errorf("PutObject params = %v", p)
	}
	for _, c := range calls {
		if c.Region != "us-east-1" || c.Principal != "AKIAIOSFODNN7EXAMPLE" {
			t.Errorf("%s: region %q, key %q", c.Op(), c.Region, c.Principal)
		}
	}
}
