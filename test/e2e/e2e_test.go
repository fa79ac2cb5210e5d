// Package e2e deploys the committed templates (cdk.out/*.yaml) into a local
// moto_server and checks, through the AWS CLI, what the stacks create and what
// the project's scripts do with them. Every test starts its own emulator on
// 127.0.0.1 and talks to nothing else.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// Paths relative to this package.
const (
	workshopTemplate   = "../../cdk.out/WorkshopStack.yaml"
	simulationTemplate = "../../cdk.out/SimulationStack.yaml"
	profilesScript     = "../../scripts/configure-simulation-profiles.sh"
)

// instanceImageParameter is WorkshopStack's parameter of type
// AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>.
const instanceImageParameter = "InstanceImage"

// requireOutputs returns the values of the named stack outputs, in order, and
// fails the test if one is missing.
func requireOutputs(t *testing.T, outputs map[string]string, keys ...string) []string {
	t.Helper()
	values := make([]string, len(keys))
	for i, key := range keys {
		v, ok := outputs[key]
		if !ok || v == "" {
			have := make([]string, 0, len(outputs))
			for k := range outputs {
				have = append(have, k)
			}
			slices.Sort(have)
			t.Fatalf("stack has no output %s; outputs: %v", key, have)
		}
		values[i] = v
	}
	return values
}

// workshopParameters makes WorkshopStack's image parameter resolvable in the
// emulator. It returns the stack parameters to deploy with and the AMI ID the
// workshop instance should get.
//
// The parameter's default is the public SSM parameter of the current Amazon
// Linux 2023 AMI. moto 5 ships that parameter, pointing at an AMI it knows,
// and resolves it itself. If a moto release does not, the test stores an AMI
// that moto knows (ec2 describe-images) under a test-owned parameter name and
// passes that name as the parameter value: moto, like AWS, refuses to write
// parameters under the reserved /aws/ prefix. The template is never changed.
func workshopParameters(t *testing.T, s *moto.Server, env []string) (params map[string]string, ami string) {
	t.Helper()
	template, err := moto.ReadTemplate(workshopTemplate)
	if err != nil {
		t.Fatal(err)
	}
	declared, _ := template["Parameters"].(map[string]any)
	param, _ := declared[instanceImageParameter].(map[string]any)
	name, _ := param["Default"].(string)
	if typ, _ := param["Type"].(string); !strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<") || name == "" {
		t.Fatalf("%s: parameter %s is %q with default %q, want an SSM parameter type with a default", workshopTemplate, instanceImageParameter, typ, name)
	}

	var got struct{ Parameter struct{ Value string } }
	out, err := s.AWS(t, env, "ssm", "get-parameter", "--name", name)
	if err == nil {
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("ssm get-parameter %s: %v", name, err)
		}
		return nil, got.Parameter.Value
	}
	if !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Fatal(err)
	}

	var images struct {
		Images []struct{ ImageId, Name string }
	}
	s.MustAWSJSON(t, env, &images, "ec2", "describe-images", "--owners", "amazon",
		"--filters", "Name=name,Values=al2023-ami-2023*-x86_64")
	if len(images.Images) == 0 {
		t.Fatalf("moto resolves no %s and knows no Amazon Linux 2023 AMI", name)
	}
	ami = images.Images[0].ImageId
	const stand = "/ir-workshop/test/instance-image"
	s.MustAWS(t, env, "ssm", "put-parameter", "--name", stand, "--type", "String", "--value", ami)
	t.Logf("moto does not resolve %s; deploying with %s=%s (%s)", name, instanceImageParameter, stand, ami)
	return map[string]string{instanceImageParameter: stand}, ami
}

// scriptResult is the outcome of one run of a script.
type scriptResult struct {
	stdout, stderr string
	code           int
}

// runScript runs the script at path with env and args.
func runScript(t *testing.T, env []string, path string, args ...string) scriptResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(path) // the script runs in a directory of its own
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, abs, args...)
	cmd.Env = moto.CountScriptCalls(t, env)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err = cmd.Run()
	res := scriptResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running %s: %v", path, err)
	}
	return res
}
