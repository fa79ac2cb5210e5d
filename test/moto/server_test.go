package moto

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestServer pins down what the e2e tests rely on, on one server: after
// AdminEnv, moto accepts only keys that its IAM issued and answers as the IAM
// user that owns the key; DeployTemplate adapts templates and notices what
// moto skips.
func TestServer(t *testing.T) {
	s := Start(t, Options{NoAuthActionCount: AdminSetupCalls, Record: true})
	admin := s.AdminEnv(t)

	t.Run("EnvReachesOnlyTheServer", func(t *testing.T) {
		for key, want := range map[string]string{
			"AWS_ENDPOINT_URL":   s.URL,
			"AWS_DEFAULT_REGION": Region,
			"AWS_REGION":         Region,
		} {
			if got := Getenv(admin, key); got != want {
				t.Errorf("%s=%q, want %q", key, got, want)
			}
		}
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
			t.Errorf("server URL %s is not on loopback", s.URL)
		}
		home, _ := os.UserHomeDir()
		for _, key := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
			if path := Getenv(admin, key); path == "" || (home != "" && strings.HasPrefix(path, home+"/.aws")) {
				t.Errorf("%s=%q, want a file in a temporary directory", key, path)
			}
		}
	})

	t.Run("AdminKeySignsAsTheAdminUser", func(t *testing.T) {
		var id struct{ Arn string }
		s.MustAWSJSON(t, admin, &id, "sts", "get-caller-identity")
		if !strings.HasSuffix(id.Arn, ":user/moto-test-admin") {
			t.Errorf("caller %s, want the user moto-test-admin", id.Arn)
		}
	})

	t.Run("UnknownKeyIsRejected", func(t *testing.T) {
		_, err := s.AWS(t, s.Env("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "sts", "get-caller-identity")
		if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
			t.Errorf("a key moto never issued: error %v, want InvalidClientTokenId", err)
		}
	})

	t.Run("RequestsAreRecorded", func(t *testing.T) {
		b, err := os.ReadFile(s.RecordingFile)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		// One JSON object a line; bodies are base64 when body_encoded.
		var actions []string
		for line := range strings.Lines(string(b)) {
			var entry struct {
				Body        string
				BodyEncoded bool `json:"body_encoded"`
			}
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("recording line %q: %v", line, err)
			}
			body := []byte(entry.Body)
			if entry.BodyEncoded {
				if body, err = base64.StdEncoding.DecodeString(entry.Body); err != nil {
					t.Fatalf("recorded body: %v", err)
				}
			}
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
				actions = append(actions, form.Get("Action"))
			}
		}
		if !slices.Contains(actions, "CreateAccessKey") {
			t.Errorf("recorded actions %v lack CreateAccessKey", actions)
		}
	})

	t.Run("DeployTemplateAdaptsTheTemplateAndReturnsOutputs", func(t *testing.T) {
		// Unadapted, the output reading the secret would fail CreateStack
		// with HTTP 500.
		path := writeTemplate(t, `
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket:
        Ref: Bucket
      PolicyDocument: {}
  Secret:
    Type: AWS::SecretsManager::Secret
    DependsOn: BucketPolicy
Outputs:
  BucketName:
    Value:
      Ref: Bucket
  SecretArn:
    Value:
      Fn::GetAtt: [Secret, Id]
`)
		outputs := DeployTemplate(t, s, admin, "Adapted", path, nil)
		if len(outputs) != 1 || outputs["BucketName"] == "" {
			t.Errorf("outputs %v, want only BucketName", outputs)
		}
		s.MustAWS(t, admin, "s3api", "head-bucket", "--bucket", outputs["BucketName"])
	})

	t.Run("DeployTemplateFailsWhenMotoSkipsAType", func(t *testing.T) {
		// AWS::GuardDuty::Detector has no moto CloudFormation model and is
		// not in UnmodeledTypes.
		path := writeTemplate(t, `
Resources:
  Detector:
    Type: AWS::GuardDuty::Detector
    Properties:
      Enable: true
`)
		failures := failuresOf(t, func(tb testing.TB) { DeployTemplate(tb, s, admin, "Skipped", path, nil) })
		if len(failures) != 1 || !strings.Contains(failures[0], "moto did not create Detector (AWS::GuardDuty::Detector)") {
			t.Errorf("failures %q, want one naming the skipped Detector", failures)
		}
	})
}

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// failuresOf runs f with a testing.TB whose failures are recorded instead of
// failing t, and returns their messages.
func failuresOf(t *testing.T, f func(testing.TB)) []string {
	r := &failureRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failures
}

// failureRecorder records Error and Fatal calls; Fatal ends only the
// goroutine that failuresOf started.
type failureRecorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *failureRecorder) Helper() {}

func (r *failureRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *failureRecorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *failureRecorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *failureRecorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}

func (r *failureRecorder) FailNow() { runtime.Goexit() }
