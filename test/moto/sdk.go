package moto

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// A test reads much of what it checks: every inventory lists the account's
// users, buckets, keys, instances and volumes. Through the AWS CLI each read
// is a command that the in-process CLI parses and answers (cli.go), tens of
// milliseconds of CPU besides moto's own work; through the AWS SDK for Go
// it is a request from the test process, well under a millisecond. So
// reads that only gather facts to assert on may go through SDKConfig. What
// the scripts do, and what a test does as a user would, still goes through
// the AWS CLI (AWS).

// sdkClient sends the SDK's requests straight to the loopback server, never
// through a proxy that the environment names.
var sdkClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}

// SDKConfig returns a configuration of the AWS SDK for Go v2 that reaches
// only this server and signs as env does: its access key (and session
// token, if any) and region, as Env and NewAccount build them. It fails the
// test if env points elsewhere or names no key (a profile, say).
func (s *Server) SDKConfig(t testing.TB, env []string) aws.Config {
	t.Helper()
	if got := Getenv(env, "AWS_ENDPOINT_URL"); got != s.URL {
		t.Fatalf("refusing an SDK configuration with AWS_ENDPOINT_URL=%q: the environment must point at the emulator %s (use Server.Env)", got, s.URL)
	}
	creds := aws.Credentials{
		AccessKeyID:     Getenv(env, "AWS_ACCESS_KEY_ID"),
		SecretAccessKey: Getenv(env, "AWS_SECRET_ACCESS_KEY"),
		SessionToken:    Getenv(env, "AWS_SESSION_TOKEN"),
		Source:          "moto.Server.SDKConfig",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		t.Fatal("SDKConfig: the environment has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	region := Getenv(env, "AWS_REGION")
	if region == "" {
		region = Region
	}
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(s.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: sdkClient,
	}
}
