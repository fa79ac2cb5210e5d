package moto

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// SimulationSecret is an AWS::SecretsManager::Secret of the SimulationStack
// template as the emulator gets it: the secret holds an access key of one of
// the simulation users, which moto's IAM issued.
type SimulationSecret struct {
	// Name is the secret's name, as the template gives it.
	Name string
	// User is the IAM user whose access key the secret holds.
	User string
	// AccessKeyID and SecretAccessKey are the key issued to User in the
	// emulator. Tests use SecretAccessKey to check that no script prints it.
	AccessKeyID, SecretAccessKey string
	// Value is the SecretString: the template's Fn::Join evaluated with the
	// key, as CloudFormation would evaluate it with the key it created.
	Value string
}

// IssueSimulationSecrets reads the secrets of the SimulationStack template
// at templatePath and, for each, issues a new access key to the IAM user the
// deployed stack created (the secret half of the stack's own key went only
// into the secret, which moto's CloudFormation does not create: see
// UnmodeledTypes) and builds the secret's value from it. It stores nothing:
// Store does. The secrets come sorted by name. It fails the test if the
// template's secrets are not shaped as the simulation stack makes them: a
// literal Name and a SecretString that is an Fn::Join, with an empty
// delimiter, of strings, the Ref and the SecretAccessKey of one
// AWS::IAM::AccessKey, and Refs to IAM users with a literal UserName.
func IssueSimulationSecrets(t testing.TB, s *Server, env []string, templatePath string) []SimulationSecret {
	t.Helper()
	template, err := ReadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	declared, err := templateSecrets(template)
	if err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	secrets := make([]SimulationSecret, len(declared))
	for i, d := range declared {
		var key struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		s.MustAWSJSON(t, env, &key, "iam", "create-access-key", "--user-name", d.user)
		value, err := d.render(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)
		if err != nil {
			t.Fatalf("%s: %v", templatePath, err)
		}
		secrets[i] = SimulationSecret{Name: d.name, User: d.user, AccessKeyID: key.AccessKey.AccessKeyId,
			SecretAccessKey: key.AccessKey.SecretAccessKey, Value: value}
	}
	return secrets
}

// Store creates the secret in the emulator's Secrets Manager, passing its
// value in a file rather than on the command line.
func (sec SimulationSecret) Store(t testing.TB, s *Server, env []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(path, []byte(sec.Value), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustAWS(t, env, "secretsmanager", "create-secret", "--name", sec.Name, "--secret-string", "file://"+path)
}

// ProvisionSimulationSecrets plays, in an emulator where the SimulationStack
// template at simulationTemplatePath is deployed, the part of CloudFormation
// that moto does not: it issues each simulation user a new access key and
// stores it in the user's Secrets Manager secret, under the template's
// secret name and in the JSON shape of the template's SecretString, so that
// scripts/configure-simulation-profiles.sh finds what it finds in AWS. It
// returns the secrets, sorted by name (see IssueSimulationSecrets).
func ProvisionSimulationSecrets(t testing.TB, s *Server, env []string, simulationTemplatePath string) []SimulationSecret {
	t.Helper()
	secrets := IssueSimulationSecrets(t, s, env, simulationTemplatePath)
	for _, sec := range secrets {
		sec.Store(t, s, env)
	}
	return secrets
}

// templateSecret is an AWS::SecretsManager::Secret of a template: its name,
// the IAM user whose access key it holds, and the Fn::Join that builds its
// SecretString.
type templateSecret struct {
	name, user string
	accessKey  string // logical ID of the AWS::IAM::AccessKey
	parts      []any  // the list that Fn::Join concatenates
	resources  map[string]any
}

// templateSecrets returns the secrets of a template, sorted by name.
func templateSecrets(template map[string]any) ([]templateSecret, error) {
	resources, _ := template["Resources"].(map[string]any)
	var secrets []templateSecret
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		if resourceType(res) != "AWS::SecretsManager::Secret" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		secret := templateSecret{resources: resources}
		secret.name, _ = props["Name"].(string)
		secretString, _ := props["SecretString"].(map[string]any)
		join, _ := secretString["Fn::Join"].([]any)
		if secret.name == "" || len(join) != 2 || join[0] != "" {
			return nil, fmt.Errorf("secret %s: want a literal Name and a SecretString of Fn::Join with an empty delimiter", id)
		}
		secret.parts, _ = join[1].([]any)
		for _, part := range secret.parts {
			if target := intrinsicTarget(part); resourceType(resources[target]) == "AWS::IAM::AccessKey" {
				secret.accessKey = target
			}
		}
		key, _ := resources[secret.accessKey].(map[string]any)
		keyProps, _ := key["Properties"].(map[string]any)
		secret.user = userName(resources, keyProps["UserName"])
		if secret.accessKey == "" || secret.user == "" {
			return nil, fmt.Errorf("secret %s: cannot tell which IAM user's access key it holds", id)
		}
		secrets = append(secrets, secret)
	}
	slices.SortFunc(secrets, func(a, b templateSecret) int { return strings.Compare(a.name, b.name) })
	return secrets, nil
}

// render evaluates the secret's Fn::Join with the given access key, as
// CloudFormation would with the key it created, and checks that the result
// is JSON.
func (s templateSecret) render(keyID, secretKey string) (string, error) {
	var b strings.Builder
	for _, part := range s.parts {
		switch part := part.(type) {
		case string:
			b.WriteString(part)
		case map[string]any:
			target := intrinsicTarget(part)
			switch {
			case part["Ref"] != nil && target == s.accessKey:
				b.WriteString(keyID)
			case part["Fn::GetAtt"] != nil && target == s.accessKey && getAttName(part) == "SecretAccessKey":
				b.WriteString(secretKey)
			case part["Ref"] != nil && resourceType(s.resources[target]) == "AWS::IAM::User":
				b.WriteString(userName(s.resources, part))
			default:
				return "", fmt.Errorf("secret %s: cannot render %v", s.name, part)
			}
		default:
			return "", fmt.Errorf("secret %s: cannot render %v", s.name, part)
		}
	}
	if !json.Valid([]byte(b.String())) {
		return "", fmt.Errorf("secret %s: the template's SecretString does not render to JSON", s.name)
	}
	return b.String(), nil
}

// intrinsicTarget returns the logical ID that a Ref or Fn::GetAtt names.
func intrinsicTarget(v any) string {
	m, _ := v.(map[string]any)
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if att, ok := m["Fn::GetAtt"]; ok {
		return getAttResource(att)
	}
	return ""
}

// getAttName returns the attribute that an Fn::GetAtt in the list form
// [Id, Attribute] reads.
func getAttName(v map[string]any) string {
	att, _ := v["Fn::GetAtt"].([]any)
	if len(att) != 2 {
		return ""
	}
	name, _ := att[1].(string)
	return name
}

// userName resolves a UserName value: a literal, or a Ref to an IAM user with
// a literal UserName.
func userName(resources map[string]any, v any) string {
	if name, ok := v.(string); ok {
		return name
	}
	id := intrinsicTarget(v)
	res, _ := resources[id].(map[string]any)
	if resourceType(res) != "AWS::IAM::User" {
		return ""
	}
	props, _ := res["Properties"].(map[string]any)
	name, _ := props["UserName"].(string)
	return name
}
