package moto

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// moto keeps AWS accounts apart: every request acts in the account that
// owns the access key that signed it (moto/core/responses.py,
// get_current_account; moto/iam/models.py, get_account_id_from), and
// resources of one account are invisible from another. So tests that share
// one server need not see each other, nor be reset between each other:
// NewAccount gives each an account of its own.
//
// The account has to come from somewhere when moto checks credentials:
// only keys that moto's IAM issued in an account sign in it. moto's
// CloudFormation StackSets (SELF_MANAGED) create a stack in any account
// named, so the server's administrator deploys into the new account a role
// allowed every action, assumes it (moto's STS hands out keys of any
// account's role), and with it creates the account's own administrator.

// firstAccount is the account ID before the first that NewAccount gives;
// moto's default account, 123456789012, is none of them.
const firstAccount = 100000000000

// accountStackSet deploys the role that NewAccount assumes in a new account.
const accountStackSet = "moto-test-accounts"

// accountRole is the role that accountStackSet creates.
const accountRole = "moto-test-account-admin"

// accounts is what NewAccount keeps of a server.
type accounts struct {
	once sync.Once
	err  error
	// mu keeps one stack set operation at a time: moto changes its list of
	// stack instances without a lock.
	mu   sync.Mutex
	next int
}

// accountTemplate is accountStackSet's template: the role, allowed every
// action. (moto's CloudFormation ignores a role's ManagedPolicyArns, and
// reads an inline policy document only as a string.)
func accountTemplate() string {
	everything, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"},
	}})
	template, _ := json.Marshal(map[string]any{"Resources": map[string]any{
		"Administrator": map[string]any{
			"Type": "AWS::IAM::Role",
			"Properties": map[string]any{
				"RoleName": accountRole,
				"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"},
				}},
				"Policies": []any{map[string]any{"PolicyName": "AllowEverything", "PolicyDocument": string(everything)}},
			},
		},
	}})
	return string(template)
}

// NewAccount returns an Env signed by the administrator (as AdminEnv's) of
// a new account of its own, which no other caller of NewAccount sees. It
// uses the server's administrator (AdminEnv) to make the account.
func (s *Server) NewAccount(t testing.TB) []string {
	t.Helper()
	root := s.AdminEnv(t)
	s.accounts.once.Do(func() {
		_, s.accounts.err = s.AWS(t, root, "cloudformation", "create-stack-set", "--stack-set-name", accountStackSet,
			"--template-body", accountTemplate(), "--capabilities", "CAPABILITY_NAMED_IAM", "--permission-model", "SELF_MANAGED")
	})
	if s.accounts.err != nil {
		t.Fatalf("creating the stack set that makes accounts: %v", s.accounts.err)
	}

	s.accounts.mu.Lock()
	s.accounts.next++
	id := fmt.Sprintf("%012d", firstAccount+s.accounts.next)
	_, err := s.AWS(t, root, "cloudformation", "create-stack-instances", "--stack-set-name", accountStackSet,
		"--accounts", id, "--regions", Region)
	s.accounts.mu.Unlock()
	if err != nil {
		t.Fatalf("making account %s: %v", id, err)
	}

	var assumed struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	s.MustAWSJSON(t, root, &assumed, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+id+":role/"+accountRole,
		"--role-session-name", "moto-test-account")
	role := WithEnv(s.Env(assumed.Credentials.AccessKeyId, assumed.Credentials.SecretAccessKey),
		"AWS_SESSION_TOKEN="+assumed.Credentials.SessionToken)
	key, secret, err := makeAdministrator(func(args ...string) (string, error) { return s.AWS(t, role, args...) })
	if err != nil {
		t.Fatalf("making the administrator of account %s: %v", id, err)
	}
	return s.Env(key, secret)
}
