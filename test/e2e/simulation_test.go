package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// simulationProfiles are the AWS CLI profiles that
// scripts/configure-simulation-profiles.sh writes, and the IAM user each one
// must act as, with one action the user's policy allows and one it does not.
var simulationProfiles = []struct {
	profile, user   string
	allowed, denied []string
}{
	{
		profile: "credential_exposure", user: "integration",
		allowed: []string{"iam", "list-users"},
		denied:  []string{"ec2", "describe-vpcs"},
	},
	{
		profile: "crypto_mining", user: "pipeline",
		allowed: []string{"ec2", "describe-vpcs"},
		denied:  []string{"iam", "list-users"},
	},
	{
		profile: "s3_exfiltration", user: "reporting",
		allowed: []string{"s3api", "list-buckets"},
		denied:  []string{"iam", "list-users"},
	},
	{
		profile: "s3_ransomware", user: "ingest",
		allowed: []string{"s3api", "list-buckets"},
		denied:  []string{"ec2", "describe-vpcs"},
	},
}

// The emulator checks credentials and IAM policies here (NoAuthActionCount),
// so the profiles must hold keys that moto's IAM issued to the simulation
// users and act with those users' permissions.
func TestSimulationProfilesAuthenticateAsSimulationUsers(t *testing.T) {
	t.Parallel()
	s := moto.Start(t, moto.Options{NoAuthActionCount: moto.AdminSetupCalls})
	admin := s.AdminEnv(t)

	// Before any stack exists: every failure exits before writing a profile.
	t.Run("RejectsBadInput", func(t *testing.T) {
		tests := []struct {
			name       string
			args       []string
			env        []string // changes to the admin environment
			wantCode   int
			wantOutput string // in stdout for code 0, else in stderr
		}{
			{name: "HelpPrintsUsage", args: []string{"-h"}, wantCode: 0, wantOutput: "Usage:"},
			{name: "UnknownOption", args: []string{"-x"}, wantCode: 2, wantOutput: "unknown option -x"},
			{name: "OptionWithoutValue", args: []string{"-r"}, wantCode: 2, wantOutput: "option -r needs a value"},
			{name: "ExtraArgument", args: []string{"SimulationStack"}, wantCode: 2, wantOutput: "unexpected argument: SimulationStack"},
			{name: "MalformedRegion", args: []string{"-r", "US-EAST-1"}, wantCode: 2, wantOutput: "region 'US-EAST-1'"},
			{name: "MalformedRegionFromEnvironment", env: []string{"AWS_REGION=mars"}, wantCode: 2, wantOutput: "region 'mars'"},
			{name: "NoArgumentsAndNoRegion", env: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}, wantCode: 2, wantOutput: "no region"},
			{name: "MalformedStackName", args: []string{"-s", "no such stack"}, wantCode: 2, wantOutput: "stack name 'no such stack'"},
			{name: "MissingDefaultStack", wantCode: 1, wantOutput: "cannot read stack SimulationStack in us-east-1"},
			{name: "MissingNamedStack", args: []string{"-s", "OtherStack"}, wantCode: 1, wantOutput: "cannot read stack OtherStack"},
			{name: "MissingProfile", args: []string{"-p", "no-such-profile"}, wantCode: 1, wantOutput: "no-such-profile"},
			{name: "UnreachableEndpoint", env: moto.UnreachableEnv(),
				wantCode: 1, wantOutput: "configure-simulation-profiles.sh: cannot reach AWS at " + moto.UnreachableURL},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				res := runScript(t, moto.WithEnv(admin, tt.env...), profilesScript, tt.args...)
				output := res.stderr
				if tt.wantCode == 0 {
					output = res.stdout
				}
				if res.code != tt.wantCode || !strings.Contains(output, tt.wantOutput) {
					t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", res.code, tt.wantCode, tt.wantOutput, res.stdout, res.stderr)
				}
				if tt.wantCode == 2 && !strings.Contains(res.stderr, "Usage:") {
					t.Errorf("usage error without usage on stderr: %s", res.stderr)
				}
			})
		}
	})
	requireNoProfiles(t, admin)

	params, _ := workshopParameters(t, s, admin)
	deployed := t.Run("Deploy", func(t *testing.T) {
		t.Run("WorkshopStack", func(t *testing.T) {
			t.Parallel()
			moto.DeployTemplate(t, s, admin, "WorkshopStack", workshopTemplate, params)
		})
		t.Run("SimulationStack", func(t *testing.T) {
			t.Parallel()
			moto.DeployTemplate(t, s, admin, "SimulationStack", simulationTemplate, nil)
		})
	})
	if !deployed {
		t.FailNow()
	}

	// moto's CloudFormation does not create AWS::SecretsManager::Secret
	// (moto.UnmodeledTypes), so the test plays its part (see
	// moto.IssueSimulationSecrets), storing the first secret only until the
	// script has been seen to name the missing one.
	secrets := moto.IssueSimulationSecrets(t, s, admin, simulationTemplate)
	if len(secrets) != len(simulationProfiles) {
		t.Fatalf("%s declares %d secrets, want %d", simulationTemplate, len(secrets), len(simulationProfiles))
	}
	var secretKeys []string
	for _, secret := range secrets {
		secretKeys = append(secretKeys, secret.SecretAccessKey)
	}
	secrets[0].Store(t, s, admin)

	t.Run("MissingSecretIsNamedAndNothingIsWritten", func(t *testing.T) {
		res := runScript(t, admin, profilesScript)
		if res.code != 1 || !strings.Contains(res.stderr, "cannot read secret "+secrets[1].Name) {
			t.Errorf("exit %d, want 1 naming secret %s\nstdout: %s\nstderr: %s", res.code, secrets[1].Name, res.stdout, res.stderr)
		}
		requireNoSecretIn(t, res, secretKeys)
		requireNoProfiles(t, admin)
	})

	// The second secret holds JSON whose access key ID is a number: the
	// script names the secret, writes nothing, and prints no secret key.
	malformed := filepath.Join(t.TempDir(), "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"accessKeyId": 12345, "secretAccessKey": "`+secrets[1].SecretAccessKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustAWS(t, admin, "secretsmanager", "create-secret", "--name", secrets[1].Name, "--secret-string", "file://"+malformed)
	t.Run("MalformedSecretIsNamedAndNothingIsWritten", func(t *testing.T) {
		res := runScript(t, admin, profilesScript)
		want := "secret " + secrets[1].Name + " is not a JSON object with accessKeyId and secretAccessKey; no profile was written"
		if res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("exit %d, want 1 with %q\nstdout: %s\nstderr: %s", res.code, want, res.stdout, res.stderr)
		}
		requireNoSecretIn(t, res, secretKeys)
		requireNoProfiles(t, admin)
	})
	if err := os.WriteFile(malformed, []byte(secrets[1].Value), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustAWS(t, admin, "secretsmanager", "put-secret-value", "--secret-id", secrets[1].Name, "--secret-string", "file://"+malformed)
	for _, secret := range secrets[2:] {
		secret.Store(t, s, admin)
	}

	// A credentials file as a user may have it: readable by others, with
	// another profile and a stale credential_exposure profile.
	credentials := moto.Getenv(admin, "AWS_SHARED_CREDENTIALS_FILE")
	const otherProfile = "# kept\n[other]\naws_access_key_id = AKIAOTHERPROFILE0001\n"
	stale := otherProfile + "\n[credential_exposure]\naws_access_key_id = AKIASTALEPROFILE0001\naws_secret_access_key = stale\n"
	if err := os.WriteFile(credentials, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(credentials, 0o644); err != nil {
		t.Fatal(err)
	}

	// While the script runs, the process table must never show a secret:
	// the arguments of every AWS CLI call it makes (through a wrapper that
	// records them), and of every process, polled.
	hook := moto.NewHook(t, admin)
	stopWatching := watchProcessTable(t, secretKeys)
	res := runScript(t, hook.Env(admin), profilesScript, "-s", "SimulationStack")
	seen := stopWatching()
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	requireNoSecretIn(t, res, secretKeys)
	for _, call := range hook.Calls(t) {
		for _, key := range secretKeys {
			if strings.Contains(call, key) {
				t.Errorf("the script passed a secret access key as an argument of the AWS CLI: aws %s", operationOf(call))
			}
		}
	}
	for _, process := range seen {
		t.Errorf("the process table showed a secret access key in the arguments of: %s", process)
	}
	info, err := os.Stat(credentials)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file %s has mode %#o, want 0600", credentials, mode)
	}
	written := readText(t, credentials)
	if !strings.HasPrefix(written, otherProfile) || strings.Contains(written, "STALE") || strings.Count(written, "[credential_exposure]") != 1 {
		t.Errorf("credentials file: want the other profile kept and the stale one replaced:\n%s", redact(written))
	}
	for _, p := range simulationProfiles {
		if !strings.Contains(res.stdout, "profile "+p.profile+": IAM user "+p.user) {
			t.Errorf("the script's output does not report profile %s for user %s:\n%s", p.profile, p.user, res.stdout)
		}
	}

	for _, p := range simulationProfiles {
		t.Run(p.profile, func(t *testing.T) {
			t.Parallel()
			var user struct{ User struct{ Arn string } }
			s.MustAWSJSON(t, admin, &user, "iam", "get-user", "--user-name", p.user)
			var caller struct{ Arn string }
			s.MustAWSJSON(t, admin, &caller, "sts", "get-caller-identity", "--profile", p.profile)
			if caller.Arn != user.User.Arn {
				t.Errorf("--profile %s acts as %s, want %s", p.profile, caller.Arn, user.User.Arn)
			}
			if region := strings.TrimSpace(s.MustAWS(t, admin, "configure", "get", "region", "--profile", p.profile)); region != moto.Region {
				t.Errorf("--profile %s has region %q, want %s", p.profile, region, moto.Region)
			}
			s.MustAWS(t, admin, slices.Concat(p.allowed, []string{"--profile", p.profile})...)
			_, err := s.AWS(t, admin, slices.Concat(p.denied, []string{"--profile", p.profile})...)
			if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
				t.Errorf("--profile %s running aws %s: error %v, want AccessDenied: the %s user's policy does not allow it", p.profile, strings.Join(p.denied, " "), err, p.user)
			}
		})
	}
}

// requireNoSecretIn fails the test if the script printed a secret access key.
func requireNoSecretIn(t *testing.T, res scriptResult, secretKeys []string) {
	t.Helper()
	for _, key := range secretKeys {
		if strings.Contains(res.stdout+res.stderr, key) {
			t.Errorf("the script printed a secret access key")
		}
	}
}

// requireNoProfiles fails the test if the environment's AWS CLI files hold a
// simulation profile.
func requireNoProfiles(t *testing.T, env []string) {
	t.Helper()
	for _, key := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		path := moto.Getenv(env, key)
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range simulationProfiles {
			if strings.Contains(string(b), p.profile) {
				t.Errorf("%s holds profile %s:\n%s", path, p.profile, redact(string(b)))
			}
		}
	}
}

// redact hides the values of aws_secret_access_key lines.
func redact(config string) string {
	lines := strings.Split(config, "\n")
	for i, line := range lines {
		if k, _, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "aws_secret_access_key" {
			lines[i] = fmt.Sprintf("%s= (redacted)", k)
		}
	}
	return strings.Join(lines, "\n")
}

// watchProcessTable polls the command lines of every process (Linux /proc)
// until the returned function is called, which returns the programs whose
// command line held one of the secrets, each once.
func watchProcessTable(t *testing.T, secrets []string) func() []string {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Logf("no /proc here (%v): the process table is not polled", err)
		return func() []string { return nil }
	}
	stop := make(chan struct{})
	found := make(chan []string, 1)
	go func() {
		var seen []string
		// A process that holds a secret in its arguments, the AWS CLI,
		// lives for hundreds of milliseconds; a scan every few is enough.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				found <- seen
				return
			case <-tick.C:
			}
			paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, path := range paths {
				b, err := os.ReadFile(path)
				if err != nil {
					continue // the process ended
				}
				cmdline := string(b)
				for _, secret := range secrets {
					if program, _, _ := strings.Cut(cmdline, "\x00"); strings.Contains(cmdline, secret) && !slices.Contains(seen, program) {
						seen = append(seen, program)
					}
				}
			}
		}
	}()
	return func() []string {
		close(stop)
		return <-found
	}
}

// operationOf returns the first two words of a recorded AWS CLI call.
func operationOf(call string) string {
	words := strings.Fields(call)
	return strings.Join(words[:min(2, len(words))], " ")
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
