package moto

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAccountsOfASharedServerAreApart pins down what the packages that
// share one server rely on: each NewAccount is an account of its own with
// an administrator, what one account makes the others do not see, and the
// server still checks every key and policy, for the AWS CLI and for the SDK
// configuration of an environment (SDKConfig) alike.
func TestAccountsOfASharedServerAreApart(t *testing.T) {
	shared := NewShared(Options{NoAuthActionCount: AdminSetupCalls})
	defer shared.Close()
	s := shared.Server(t)
	a, b := s.NewAccount(t), s.NewAccount(t)

	var ids []string
	for _, env := range [][]string{s.AdminEnv(t), a, b} {
		var who struct{ Account, Arn string }
		s.MustAWSJSON(t, env, &who, "sts", "get-caller-identity")
		if !strings.HasSuffix(who.Arn, ":user/"+adminUser) {
			t.Errorf("caller %s, want the account's user %s", who.Arn, adminUser)
		}
		ids = append(ids, who.Account)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 3 {
		t.Fatalf("accounts %v: want three different ones (the server's, then one for each NewAccount)", ids)
	}

	s.MustAWS(t, a, "iam", "create-user", "--user-name", "only-in-a")
	for name, env := range map[string][]string{"the other new account": b, "the server's account": s.AdminEnv(t)} {
		var users struct{ Users []struct{ UserName string } }
		s.MustAWSJSON(t, env, &users, "iam", "list-users")
		for _, u := range users.Users {
			if u.UserName == "only-in-a" {
				t.Errorf("%s sees the user that account %s made", name, ids[1])
			}
		}
	}

	// Inside an account, keys and policies are checked as before.
	s.MustAWS(t, a, "iam", "put-user-policy", "--user-name", "only-in-a", "--policy-name", "ReadS3",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	s.MustAWSJSON(t, a, &key, "iam", "create-access-key", "--user-name", "only-in-a")
	limited := s.Env(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)
	s.MustAWS(t, limited, "s3api", "list-buckets")
	if _, err := s.AWS(t, limited, "iam", "list-users"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("a user allowed only s3:ListAllMyBuckets listing users: error %v, want AccessDenied", err)
	}
	if _, err := s.AWS(t, s.Env("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "sts", "get-caller-identity"); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("a key moto never issued: error %v, want InvalidClientTokenId", err)
	}

	// The SDK signs as the environment: it sees its account's users only,
	// and is refused what the key's user may not do.
	ctx := context.Background()
	for _, c := range []struct {
		account string
		env     []string
		found   bool
	}{{ids[1], a, true}, {ids[2], b, false}} {
		user, err := iam.NewFromConfig(s.SDKConfig(t, c.env)).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("only-in-a")})
		if found := err == nil && aws.ToString(user.User.UserName) == "only-in-a"; found != c.found {
			t.Errorf("the SDK in account %s reading user only-in-a: error %v, want it found %t", c.account, err, c.found)
		}
	}
	if _, err := iam.NewFromConfig(s.SDKConfig(t, limited)).ListUsers(ctx, &iam.ListUsersInput{}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("the SDK as a user allowed only s3:ListAllMyBuckets listing users: error %v, want AccessDenied", err)
	}
}
