package simprincipal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/simprincipal"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

type built struct {
	leaked, pipeline *simprincipal.SimulationPrincipal
}

var fixture = cdktest.Fixture[built]{Build: func(stack awscdk.Stack) built {
	return built{
		leaked: simprincipal.NewSimulationPrincipal(stack, "Leaked", &simprincipal.SimulationPrincipalProps{
			UserName: "leaky", Actions: []string{"iam:*"}, Purpose: "The leaked key.",
		}),
		pipeline: simprincipal.NewSimulationPrincipal(stack, "Pipeline", &simprincipal.SimulationPrincipalProps{
			UserName:         "builder",
			Actions:          []string{"ec2:*"},
			SecretNamePrefix: "range/keys/",
			Weakness:         "build keys allowed all of EC2",
			ExtraStatements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ReadOneParameter"), Actions: jsii.Strings("ssm:GetParameter"), Resources: jsii.Strings("arn:aws:ssm:us-east-1::parameter/x"),
			})},
		}),
	}
}}

func TestUsersGetTheirDeliberatelyBroadPolicyWithADocumentedSuppression(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	cdktest.Assert(t, "users", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::IAM::User"), jsii.Number(2))
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::User"), map[string]any{"UserName": "leaky"})
	})
	cdktest.Assert(t, "leaked user's policy", func() {
		tmpl.HasResource(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"Users": []any{cdktest.Ref(b.leaked.User)},
				"PolicyDocument": map[string]any{"Statement": []any{
					map[string]any{"Sid": "SimulationActions", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
				}},
			}),
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": []any{
				assertions.Match_ObjectLike(&map[string]any{
					"id":         "AwsSolutions-IAM5",
					"reason":     assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness: simulation users allowed whole services[.] The simulation user leaky .* allows iam:[*] on every resource")),
					"applies_to": []any{"Resource::*", "Action::iam:*"},
				}),
				weaknessOf("NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess"),
				weaknessOf("NIST.800.53.R5-IAMUserNoPolicies"),
				weaknessOf("NIST.800.53.R5-IAMUserGroupMembership"),
				weaknessOf("NIST.800.53.R5-IAMNoInlinePolicy"),
			}}},
		}))
	})
	cdktest.Assert(t, "the user itself carries the same weakness", func() {
		tmpl.HasResource(jsii.String("AWS::IAM::User"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": map[string]any{"UserName": "leaky"},
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": assertions.Match_ArrayWith(&[]any{
				weaknessOf("NIST.800.53.R5-IAMUserGroupMembership"),
			})}},
		}))
	})
	cdktest.Assert(t, "pipeline user's policy with its extra statement", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]any{
			"Users": []any{cdktest.Ref(b.pipeline.User)},
			"PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{"Sid": "SimulationActions", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
				map[string]any{"Sid": "ReadOneParameter", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1::parameter/x"},
			}},
		}))
	})
	cdktest.Assert(t, "pipeline user records the weakness its props name", func() {
		tmpl.HasResource(jsii.String("AWS::IAM::User"), assertions.Match_ObjectLike(&map[string]any{
			"Properties": map[string]any{"UserName": "builder"},
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"id":     "NIST.800.53.R5-IAMUserGroupMembership",
					"reason": assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness: build keys allowed all of EC2[.] The simulation user builder ")),
				}),
			})}},
		}))
	})
}

// weaknessOf matches a suppression of rule that records the simulation
// users' weakness.
func weaknessOf(rule string) any {
	return assertions.Match_ObjectLike(&map[string]any{
		"id":     rule,
		"reason": assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness: simulation users allowed whole services[.] ")),
	})
}

// TestSecretsHoldEachUsersOwnAccessKey pins that a secret holds its own
// user's key, under the name the scripts read, and goes with the stack.
func TestSecretsHoldEachUsersOwnAccessKey(t *testing.T) {
	b, _, tmpl := fixture.Get(t)
	for _, c := range []struct {
		p    *simprincipal.SimulationPrincipal
		name string
	}{
		{b.leaked, simprincipal.DefaultSecretNamePrefix + "leaky"},
		{b.pipeline, "range/keys/builder"},
	} {
		if c.p.SecretName != c.name {
			t.Errorf("SecretName %s, want %s", c.p.SecretName, c.name)
		}
		cdktest.Assert(t, c.name, func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::AccessKey"), map[string]any{"UserName": cdktest.Ref(c.p.User)})
			tmpl.HasResource(jsii.String("AWS::SecretsManager::Secret"), assertions.Match_ObjectLike(&map[string]any{
				"DeletionPolicy": "Delete",
				"Properties": assertions.Match_ObjectLike(&map[string]any{
					"Name": c.name,
					"SecretString": map[string]any{"Fn::Join": []any{"", []any{
						`{"` + simprincipal.SecretKeyAccessKeyID + `":"`, cdktest.Ref(c.p.AccessKey),
						`","` + simprincipal.SecretKeySecretAccessKey + `":"`, cdktest.GetAtt(c.p.AccessKey, "SecretAccessKey"),
						`","` + simprincipal.SecretKeyUserName + `":"`, cdktest.Ref(c.p.User), `"}`,
					}}},
				}),
			}))
		})
	}
	cdktest.Assert(t, "purpose describes the secret", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), assertions.Match_ObjectLike(&map[string]any{
			"Name": simprincipal.DefaultSecretNamePrefix + "leaky", "Description": "The leaked key.",
		}))
	})
}

// TestSecretsRecordTheirRotationAsAWeaknessAndTheirKeyAsAChoice pins the
// secrets' suppressions: no rotation is a deliberate weakness of the
// workshop; the AWS managed key is a reasoned choice, not a weakness.
func TestSecretsRecordTheirRotationAsAWeaknessAndTheirKeyAsAChoice(t *testing.T) {
	_, _, tmpl := fixture.Get(t)
	never := assertions.Match_StringLikeRegexp(jsii.String("^Deliberate weakness: simulation access keys never rotated[.] "))
	cdktest.Assert(t, "suppressions", func() {
		tmpl.AllResources(jsii.String("AWS::SecretsManager::Secret"), assertions.Match_ObjectLike(&map[string]any{
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": []any{
				map[string]any{"id": "AwsSolutions-SMG4", "reason": never},
				map[string]any{"id": "NIST.800.53.R5-SecretsManagerRotationEnabled", "reason": never},
				map[string]any{"id": "NIST.800.53.R5-SecretsManagerUsingKMSKey", "reason": assertions.Match_StringLikeRegexp(jsii.String("^The secret is encrypted with the AWS managed key"))},
			}}},
		}))
	})
}

func TestMissingOrBadPropsStopSynthesisNamingEachField(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	simprincipal.NewSimulationPrincipal(stack, "Nil", nil)
	simprincipal.NewSimulationPrincipal(stack, "BadName", &simprincipal.SimulationPrincipalProps{UserName: "ci user", Actions: []string{"s3:*"}})
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		"[Bad/Nil] SimulationPrincipalProps.UserName is required",
		"[Bad/Nil] SimulationPrincipalProps.Actions is required",
		`[Bad/BadName] SimulationPrincipalProps.UserName is "ci user"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}

// ExampleNewSimulationPrincipal creates a user whose key a simulation treats
// as leaked, with the key kept in Secrets Manager.
func ExampleNewSimulationPrincipal() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Simulation"), nil)
	p := simprincipal.NewSimulationPrincipal(stack, "Leaked", &simprincipal.SimulationPrincipalProps{
		UserName: "integration",
		Actions:  []string{"iam:*"},
	})

	template := assertions.Template_FromStack(stack, nil)
	for _, typ := range []string{"AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::SecretsManager::Secret"} {
		fmt.Println(typ, len(*template.FindResources(jsii.String(typ), nil)))
	}
	fmt.Println(p.SecretName)
	// Output:
	// AWS::IAM::User 1
	// AWS::IAM::AccessKey 1
	// AWS::SecretsManager::Secret 1
	// ir-workshop/simulation/integration
}
