package moto

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestSimulationTemplateSecretsRender reads the secrets of the committed
// SimulationStack template, without an emulator, and renders them with a
// stand-in key.
func TestSimulationTemplateSecretsRender(t *testing.T) {
	template, err := ReadTemplate("../../cdk.out/SimulationStack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := templateSecrets(template)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 4 {
		t.Fatalf("got %d secrets, want 4 (one per simulation user)", len(secrets))
	}
	for i, sec := range secrets {
		if i > 0 && secrets[i-1].name >= sec.name {
			t.Errorf("secrets not sorted by name: %s before %s", secrets[i-1].name, sec.name)
		}
		value, err := sec.render("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(value), &got); err != nil {
			t.Fatalf("secret %s: %v", sec.name, err)
		}
		want := map[string]string{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "userName": sec.user}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("secret %s renders to %v, want %v", sec.name, got, want)
		}
		if !strings.HasSuffix(sec.name, "/"+sec.user) {
			t.Errorf("secret %s holds the key of user %s", sec.name, sec.user)
		}
	}
}

func TestTemplateSecretsRejectsUnexpectedShapes(t *testing.T) {
	const user = `"User": {"Type": "AWS::IAM::User", "Properties": {"UserName": "u"}},
	    "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}}`
	tests := map[string]string{
		"no name":         `"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": {"Fn::Join": ["", ["x"]]}}}`,
		"not a join":      `"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "n", "SecretString": "x"}}`,
		"no access key":   `"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "n", "SecretString": {"Fn::Join": ["", ["{}"]]}}}`,
		"unknown part":    `"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "n", "SecretString": {"Fn::Join": ["", [{"Ref": "Key"}, {"Ref": "AWS::Region"}]]}}}`,
		"renders no JSON": `"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "n", "SecretString": {"Fn::Join": ["", [{"Ref": "Key"}]]}}}`,
	}
	for name, secret := range tests {
		t.Run(name, func(t *testing.T) {
			template := decode(t, `{"Resources": {`+user+`, `+secret+`}}`)
			secrets, err := templateSecrets(template)
			if err == nil {
				if len(secrets) != 1 {
					t.Fatalf("got %d secrets, want 1", len(secrets))
				}
				_, err = secrets[0].render("AKIAIOSFODNN7EXAMPLE", "secret")
			}
			if err == nil {
				t.Error("no error")
			}
		})
	}
}
