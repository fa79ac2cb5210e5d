// Package simprincipal provides the principal that a threat simulation acts
// as: an IAM user with a deliberately broad inline policy and a long-lived
// access key, whose secret half is kept in AWS Secrets Manager.
//
// These users are weaknesses on purpose. They exist only so that the
// simulations in scripts/ have a "leaked" or "pipeline" key to misuse, and
// only in a sandbox account. The stack outputs name the secret, never its
// value: anyone who can describe a stack can read its outputs.
package simprincipal

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/internal/validate"
	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
)

// DefaultSecretNamePrefix starts the name of every simulation credential
// secret unless props say otherwise; the secret of user NAME is the prefix
// followed by NAME.
const DefaultSecretNamePrefix = "ir-workshop/simulation/"

var userName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// Keys of the JSON object stored in each secret.
const (
	SecretKeyUserName        = "userName"
	SecretKeyAccessKeyID     = "accessKeyId"
	SecretKeySecretAccessKey = "secretAccessKey"
)

// SimulationPrincipalProps configures a SimulationPrincipal.
type SimulationPrincipalProps struct {
	// UserName is the IAM user's name, fixed because scripts and playbooks
	// refer to it. Required.
	UserName string
	// Actions are the IAM actions the user's inline policy allows on every
	// resource, for example "iam:*". Required.
	Actions []string
	// Purpose says which simulation uses the user; it becomes the secret's
	// description.
	Purpose string
	// ExtraStatements are narrow grants the simulation needs besides Actions,
	// such as reading one public SSM parameter.
	ExtraStatements []awsiam.PolicyStatement
	// SecretNamePrefix starts the secret's name, which is the prefix followed
	// by UserName. Default DefaultSecretNamePrefix.
	SecretNamePrefix string
	// Weakness names the deliberate weakness the user stands for, as the
	// reason of its cdk-nag suppressions records it (weakness.Suppress).
	// Default DefaultWeakness.
	Weakness string
}

// DefaultWeakness is the weakness a simulation user records unless props
// name another: an attacker's key whose policy allows whole services.
const DefaultWeakness = "simulation users allowed whole services"

// SimulationPrincipal is a simulation user, its access key and the secret
// that holds the key.
type SimulationPrincipal struct {
	constructs.Construct
	User      awsiam.User
	AccessKey awsiam.AccessKey
	// Secret holds {"userName", "accessKeyId", "secretAccessKey"}.
	Secret awssecretsmanager.Secret
	// SecretName is the secret's fixed name, SecretNamePrefix + UserName.
	SecretName string
}

// NewSimulationPrincipal creates the user, its inline policy, one access key
// and the secret. A missing UserName or Actions stops synthesis with a
// message that names it.
func NewSimulationPrincipal(scope constructs.Construct, id string, props *SimulationPrincipalProps) *SimulationPrincipal {
	if props == nil {
		props = &SimulationPrincipalProps{}
	}
	c := constructs.NewConstruct(scope, &id)
	p := &SimulationPrincipal{Construct: c}
	problems := validate.Problems{Props: "SimulationPrincipalProps"}
	problems.Require(props.UserName == "", "UserName", "the IAM user's name, which the simulation scripts refer to")
	problems.Require(len(props.Actions) == 0, "Actions", `the IAM actions the user may call on every resource, such as "iam:*"`)
	if props.UserName != "" {
		problems.Pattern("UserName", props.UserName, userName, "an IAM user name: 1 to 64 letters, digits or +=,.@_-")
	}
	if problems.Stop(c) {
		return p
	}
	prefix := props.SecretNamePrefix
	if prefix == "" {
		prefix = DefaultSecretNamePrefix
	}
	p.SecretName = prefix + props.UserName

	p.User = awsiam.NewUser(c, jsii.String("User"), &awsiam.UserProps{
		UserName: jsii.String(props.UserName),
	})
	// Deliberately broad: the simulation needs these to act like an attacker.
	p.User.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SimulationActions"),
		Actions:   jsii.Strings(props.Actions...),
		Resources: jsii.Strings("*"),
	}))
	for _, st := range props.ExtraStatements {
		p.User.AddToPrincipalPolicy(st)
	}
	p.AccessKey = awsiam.NewAccessKey(c, jsii.String("AccessKey"), &awsiam.AccessKeyProps{User: p.User})
	p.Secret = awssecretsmanager.NewSecret(c, jsii.String("Secret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(p.SecretName),
		Description: jsii.String(props.Purpose),
		SecretObjectValue: &map[string]awscdk.SecretValue{
			SecretKeyUserName:        awscdk.SecretValue_UnsafePlainText(p.User.UserName()),
			SecretKeyAccessKeyID:     awscdk.SecretValue_UnsafePlainText(p.AccessKey.AccessKeyId()),
			SecretKeySecretAccessKey: p.AccessKey.SecretAccessKey(),
		},
		// The key is evidence of the exercise; the secret goes with the stack.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})

	name := props.Weakness
	if name == "" {
		name = DefaultWeakness
	}
	weakness.Suppress(p.User, name,
		"The simulation user "+props.UserName+" stands for a leaked or over-privileged key: its policy, inline on the user itself as an attacker would find it, allows "+strings.Join(props.Actions, ", ")+" on every resource. Sandbox accounts only.",
		true,
		weakness.Rule{ID: "AwsSolutions-IAM5", AppliesTo: wildcardFindings(props.Actions)},
		weakness.Rule{ID: "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess"},
		weakness.Rule{ID: "NIST.800.53.R5-IAMUserNoPolicies"},
		weakness.Rule{ID: "NIST.800.53.R5-IAMUserGroupMembership"},
		weakness.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy"})
	weakness.Suppress(p.Secret, "simulation access keys never rotated",
		"The secret holds an IAM user's access key, which Secrets Manager rotates only through a rotation function, a Lambda asset the console template cannot carry; the key lives only as long as the simulation stack.",
		false, weakness.Rule{ID: "AwsSolutions-SMG4"}, weakness.Rule{ID: "NIST.800.53.R5-SecretsManagerRotationEnabled"})
	cdknag.NagSuppressions_AddResourceSuppressions(p.Secret, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("NIST.800.53.R5-SecretsManagerUsingKMSKey"),
		Reason: jsii.String("The secret is encrypted with the AWS managed key of Secrets Manager. A customer managed key of this stack would cost $1 a month for credentials that live as long as the stack; sharing the workshop's key would mean letting every administrator who runs the simulations decrypt with it, while its policy admits the responders' roles only."),
	}}, jsii.Bool(false))
	return p
}

// wildcardFindings names the IAM5 findings the policy raises: the resource
// wildcard and each service-wide action.
func wildcardFindings(actions []string) []string {
	findings := []string{"Resource::*"}
	for _, a := range actions {
		findings = append(findings, "Action::"+a)
	}
	return findings
}
