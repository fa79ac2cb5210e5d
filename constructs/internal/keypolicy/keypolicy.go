// Package keypolicy is how the constructs use a customer managed KMS key
// they are given: they add the statements their services need to its key
// policy, each scoped by the conditions AWS documents for that service, and
// they grant principals its use only through the AWS service that calls KMS
// on their behalf.
//
// The keys these constructs create (logarchive's) do not delegate
// cryptographic use to IAM policies, so a principal uses such a key only
// where its key policy names it: that is where the grants go.
package keypolicy

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Add adds statement to key's policy. A key whose policy this app does not
// manage (an imported key) cannot take it: a warning on scope then says what
// to add, and Add returns false.
func Add(scope constructs.IConstruct, key awskms.IKey, statement awsiam.PolicyStatement, what string) bool {
	added := key.AddToResourcePolicy(statement, jsii.Bool(true))
	if !*added.StatementAdded {
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("@ir-workshop/keypolicy:notManaged"),
			jsii.String("the KMS key's policy is not managed by this app: "+what), nil)
		return false
	}
	return true
}

// ViaService is the kms:ViaService value of an AWS service (such as "s3" or
// "logs") in this stack's region.
func ViaService(service string) *string {
	return awscdk.Fn_Sub(jsii.String(service+".${AWS::Region}.amazonaws.com"), nil)
}

// GrantThrough lets grantee use key for actions when one of services (such
// as "s3") calls KMS on its behalf, in this stack's region: a statement in
// the key policy that names grantee, and the same permission in grantee's
// own policy. The condition keeps grantee from calling KMS directly with the
// key: it decrypts an object by reading it through S3, which authorizes the
// read first.
func GrantThrough(scope constructs.IConstruct, key awskms.IKey, grantee awsiam.IGrantable, services []string, actions ...string) awsiam.Grant {
	via := make([]*string, len(services))
	for i, s := range services {
		via[i] = ViaService(s)
	}
	conditions := map[string]any{"StringEquals": map[string]any{"kms:ViaService": via}}
	Add(scope, key, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{grantee.GrantPrincipal()},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: &conditions,
	}), "allow the grantee "+strings.Join(actions, ", ")+" with kms:ViaService "+strings.Join(services, ", ")+" in its key policy")
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &[]*string{key.KeyArn()},
		Conditions:   &map[string]*map[string]any{"StringEquals": {"kms:ViaService": via}},
	})
}
