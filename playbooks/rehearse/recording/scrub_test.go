package recording

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestScrubReplacesKeysIDsAndSecrets(t *testing.T) {
	calls := []Call{
		{Service: "iam", Action: "CreateAccessKey", Principal: "AKIAMOTOLEAKED000001", UserAgent: "aws-cli m/Z,b,D app/ir-workshop-ce-20261127-031931-d6dd0b53",
			Params: map[string]any{"UserName": "ir-persistence-ce-20261127-031931-d6dd0b53"}},
		{Service: "iam", Action: "GetUser", Principal: "AKIAMOTOCREATED00001", UserAgent: "aws-cli"},
		{Service: "ec2", Action: "DescribeInstances", Principal: "AKIAMOTOCREATED00001", UserAgent: "aws-cli",
			Params: map[string]any{"InstanceId.1": "i-0a9b8c7d6e5f43210", "Filter.1.Value.1": "vpc-79a0448c93b25b155"}},
		{Service: "secretsmanager", Action: "PutSecretValue", Principal: "AKIAMOTOCREATED00001", UserAgent: "aws-cli",
			Params: map[string]any{"SecretString": "anything", "Description": "key wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY here",
				"Arn": "arn:aws:iam::123456789012:user/x", "Nested": map[string]any{"Password": "p", "Note": []any{"i-0a9b8c7d6e5f43210"}}}},
	}
	got := Scrub(calls, ScrubOptions{
		Simulation: "credential_exposure",
		Keys:       map[string]Principal{"AKIAMOTOLEAKED000001": {Name: "leaked", AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}},
		Secrets:    []string{"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"},
		Replace:    map[string]string{MotoAccount: Account, "ce-20261127-031931-d6dd0b53": "ce-20260101-091412-5c2e8a17"},
		IDs:        []string{"vpc-79a0448c93b25b155"},
	})
	want := []Call{
		{Simulation: "credential_exposure", Service: "iam", Action: "CreateAccessKey", Principal: "leaked",
			UserAgent: "aws-cli m/D,Z,b app/ir-workshop-ce-20260101-091412-5c2e8a17",
			Params:    map[string]any{"UserName": "ir-persistence-ce-20260101-091412-5c2e8a17"}},
		{Simulation: "credential_exposure", Service: "iam", Action: "GetUser", Principal: "created-1", UserAgent: "aws-cli"},
		{Simulation: "credential_exposure", Service: "ec2", Action: "DescribeInstances", Principal: "created-1", UserAgent: "aws-cli",
			Params: map[string]any{"InstanceId.1": "i-1234567890abcdef0", "Filter.1.Value.1": "vpc-1234567890abcdef0"}},
		{Simulation: "credential_exposure", Service: "secretsmanager", Action: "PutSecretValue", Principal: "created-1", UserAgent: "aws-cli",
			Params: map[string]any{"SecretString": Redacted, "Description": "key <redacted> here",
				"Arn": "arn:aws:iam::111122223333:user/x", "Nested": map[string]any{"Password": Redacted, "Note": []any{"i-1234567890abcdef0"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scrub:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestIDPlaceholdersFollowTheDocumentationStyle(t *testing.T) {
	for n, want := range map[int]string{0: "i-1234567890abcdef0", 1: "i-1234567890abcdef1", 15: "i-1234567890abcdeff"} {
		if got := IDPlaceholder("i", n); got != want {
			t.Errorf("IDPlaceholder(i, %d) = %s, want %s", n, got, want)
		}
	}
	if IDPlaceholder("i", 16) == IDPlaceholder("i", 0) || len(IDPlaceholder("i", 16)) != len("i-1234567890abcdef0") {
		t.Errorf("IDPlaceholder(i, 16) = %s", IDPlaceholder("i", 16))
	}
	for n := 1; n < 4; n++ {
		if k := CreatedKeyID(n); !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(k) {
			t.Errorf("CreatedKeyID(%d) = %s, not an access key ID", n, k)
		}
	}
}

func TestFixtureRoundTrips(t *testing.T) {
	calls := []Call{{Simulation: "s", Service: "ec2", Action: "RunInstances", Region: "us-east-1", Principal: "pipeline",
		UserAgent: "ua", Params: map[string]any{"MinCount": "1", "Nested": map[string]any{"b": "2", "a": "1"}}}}
	var b bytes.Buffer
	if err := WriteFixture(&b, calls); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"Nested":{"a":"1","b":"2"}`) {
		t.Errorf("keys not sorted: %s", b.String())
	}
	back, err := ReadFixture(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, calls) {
		t.Errorf("round trip: %+v, want %+v", back, calls)
	}
}

// The committed recordings: every simulation has one, only known
// principals and placeholder keys sign, and nothing in them looks like a
// credential.
func TestCommittedRecordingsAreScrubbed(t *testing.T) {
	keyID := regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)
	allowed := map[string]bool{}
	for _, sim := range Simulations {
		allowed[sim.Key.AccessKeyID] = true
	}
	for n := 1; n <= 3; n++ {
		allowed[CreatedKeyID(n)] = true
	}
	for _, sim := range Simulations {
		path := filepath.Join(fixtureDir, sim.Name+".jsonl")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; record it with:\n  %s", err, refresh)
		}
		text := string(raw)
		for _, bad := range []string{"Signature=", "Credential=", "X-Amz-Security-Token", "aws_secret_access_key", "SecretAccessKey", MotoAccount} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
		for _, k := range keyID.FindAllString(text, -1) {
			if !allowed[k] {
				t.Errorf("%s contains access key ID %s, not a placeholder", path, k)
			}
		}
		calls, err := ReadFixture(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range calls {
			if c.Simulation != sim.Name || c.Service == "" || c.Action == "" ||
				(c.Principal != sim.Key.Name && !strings.HasPrefix(c.Principal, "created-")) {
				t.Errorf("%s call %d: %+v", path, i+1, c)
			}
			if !strings.Contains(c.UserAgent, "app/ir-workshop-"+sim.RunID) {
				t.Errorf("%s call %d: user agent %q lacks app/ir-workshop-%s", path, i+1, c.UserAgent, sim.RunID)
			}
		}
	}
}
