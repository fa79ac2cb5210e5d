package workshop

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/alerting"
	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/constructs/irroles"
)

// Defaults of WorkshopStack's parameters.
const (
	// DefaultProjectionStartDate is the first day the tables cover.
	DefaultProjectionStartDate = "2026/01/01"
	// DefaultInstanceImage is the public SSM parameter that always names the
	// current Amazon Linux 2023 AMI of the region.
	DefaultInstanceImage = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	// DefaultBasePrincipal is the participant role of AWS-run workshop
	// accounts.
	DefaultBasePrincipal = "role/WSParticipantRole"
	// DefaultNatGateways is how many NAT gateways the VPC gets, as in the
	// seed: the private subnets reach the internet through one.
	DefaultNatGateways = 1
)

// Allowed patterns of WorkshopStack's parameters.
const (
	// ProjectionStartDatePattern is a yyyy/MM/dd date from 2000 on.
	ProjectionStartDatePattern = `^20[0-9]{2}/(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$`
	// LogAccountIDsPattern is empty or a comma-separated list of account IDs.
	LogAccountIDsPattern = `^$|^[0-9]{12}(,[0-9]{12})*$`
	// AlertEmailPattern is empty or one e-mail address.
	AlertEmailPattern = `^$|^[^@\s]+@[^@\s]+\.[^@\s]+$`
)

// WorkshopParameters are WorkshopStack's CloudFormation parameters.
type WorkshopParameters struct {
	AthenaEngineVersion   awscdk.CfnParameter
	ProjectionStartDate   awscdk.CfnParameter
	LogAccountIDs         awscdk.CfnParameter
	InstanceImage         awscdk.CfnParameter
	NatGateways           awscdk.CfnParameter
	BasePrincipal         awscdk.CfnParameter
	BreakGlassRequiresMfa awscdk.CfnParameter
	// AlertEmail is subscribed to the alert topic when not empty.
	AlertEmail awscdk.CfnParameter
	// AlertMinimumSeverity is the lowest GuardDuty severity level that pages.
	AlertMinimumSeverity awscdk.CfnParameter
	// noLogAccounts is true when LogAccountIDs is empty.
	noLogAccounts awscdk.CfnCondition
}

func newWorkshopParameters(stack awscdk.Stack) *WorkshopParameters {
	p := &WorkshopParameters{}
	p.AthenaEngineVersion = awscdk.NewCfnParameter(stack, jsii.String("AthenaEngineVersion"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(analytics.DefaultEngineVersion),
		AllowedValues: jsii.Strings(analytics.DefaultEngineVersion, "AUTO"),
		Description:   jsii.String("Athena engine of the workshop workgroup. AUTO lets Athena upgrade it."),
	})
	p.ProjectionStartDate = awscdk.NewCfnParameter(stack, jsii.String("ProjectionStartDate"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(DefaultProjectionStartDate),
		AllowedPattern:        jsii.String(ProjectionStartDatePattern),
		ConstraintDescription: jsii.String("must be a date written yyyy/MM/dd, for example 2026/01/31"),
		Description:           jsii.String("First day (yyyy/MM/dd) that the Athena tables cover; queries see logs from this day to today."),
	})
	p.LogAccountIDs = awscdk.NewCfnParameter(stack, jsii.String("LogAccountIds"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(LogAccountIDsPattern),
		ConstraintDescription: jsii.String("must be empty or 12-digit account IDs separated by commas, no spaces"),
		Description:           jsii.String("Accounts whose logs the Athena tables cover and whose CloudTrail and log delivery may write to the log bucket under AWSLogs/ACCOUNT/, comma-separated. Empty means this account only."),
	})
	p.InstanceImage = awscdk.NewCfnParameter(stack, jsii.String("InstanceImage"), &awscdk.CfnParameterProps{
		Type:        jsii.String("AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"),
		Default:     jsii.String(DefaultInstanceImage),
		Description: jsii.String("SSM parameter that names the workshop instance's AMI. The default always resolves to the current Amazon Linux 2023."),
	})
	// A String with allowed values, not a Number: the console shows the same
	// list, and CloudFormation's Ref of a Number is a string anyway, which
	// the conditions compare; moto turns a Number into an integer and then
	// finds "0" unequal to 0.
	p.NatGateways = awscdk.NewCfnParameter(stack, jsii.String("NatGateways"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(fmt.Sprint(DefaultNatGateways)),
		AllowedValues: jsii.Strings("0", "1", "2"),
		Description:   jsii.String("NAT gateways in the workshop VPC, one at most per availability zone. 0 drops the largest cost line and leaves the private subnets without internet access; nothing in the workshop needs it."),
	})
	p.BasePrincipal = awscdk.NewCfnParameter(stack, jsii.String("BasePrincipal"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(DefaultBasePrincipal),
		AllowedPattern:        jsii.String(irroles.BasePrincipalPattern),
		ConstraintDescription: jsii.String("must be role/NAME or user/NAME (an IAM path may come before NAME)"),
		Description:           jsii.String("The only IAM role or user of this account that may assume the Security* roles, written role/NAME or user/NAME. It need not exist yet; it needs sts:AssumeRole on the roles in its own policies, as administrators have."),
	})
	p.BreakGlassRequiresMfa = awscdk.NewCfnParameter(stack, jsii.String("BreakGlassRequiresMfa"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String("false"),
		AllowedValues: jsii.Strings("false", "true"),
		Description:   jsii.String("true: assuming SecurityBreakGlassRole takes a session signed in with MFA. Off by default, since workshop sign-ins often have none."),
	})
	p.AlertEmail = awscdk.NewCfnParameter(stack, jsii.String("AlertEmail"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(AlertEmailPattern),
		ConstraintDescription: jsii.String("must be empty or one e-mail address, such as oncall@example.com"),
		Description:           jsii.String("E-mail address that receives the GuardDuty alerts; empty means none. AWS sends it a message to confirm the subscription first."),
	})
	p.AlertMinimumSeverity = awscdk.NewCfnParameter(stack, jsii.String("AlertMinimumSeverity"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Default:       jsii.String(alerting.DefaultSeverity),
		AllowedValues: jsii.Strings(alerting.SeverityNames()...),
		Description:   jsii.String("Lowest GuardDuty severity level that raises an alert: Low (every finding), Medium (4.0 and up), High (7.0 and up) or Critical (9.0 and up)."),
	})
	p.noLogAccounts = awscdk.NewCfnCondition(stack, jsii.String("NoLogAccountIds"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(p.LogAccountIDs.ValueAsString(), jsii.String("")),
	})

	stack.TemplateOptions().SetMetadata(&map[string]interface{}{
		"AWS::CloudFormation::Interface": map[string]any{
			"ParameterGroups": []any{
				map[string]any{
					"Label":      map[string]any{"default": "Log analytics (Athena)"},
					"Parameters": []string{"AthenaEngineVersion", "ProjectionStartDate", "LogAccountIds"},
				},
				map[string]any{
					"Label":      map[string]any{"default": "Incident response roles"},
					"Parameters": []string{"BasePrincipal", "BreakGlassRequiresMfa"},
				},
				map[string]any{
					"Label":      map[string]any{"default": "Workshop network"},
					"Parameters": []string{"NatGateways", "InstanceImage"},
				},
				map[string]any{
					"Label":      map[string]any{"default": "Incident alerts"},
					"Parameters": []string{"AlertEmail", "AlertMinimumSeverity"},
				},
			},
			"ParameterLabels": map[string]any{
				"AthenaEngineVersion":   map[string]any{"default": "Athena engine version"},
				"ProjectionStartDate":   map[string]any{"default": "First day of logs to query"},
				"LogAccountIds":         map[string]any{"default": "Accounts whose logs to query"},
				"InstanceImage":         map[string]any{"default": "Instance image (SSM parameter)"},
				"NatGateways":           map[string]any{"default": "NAT gateways (0 to 2)"},
				"BasePrincipal":         map[string]any{"default": "Who may assume the Security* roles"},
				"BreakGlassRequiresMfa": map[string]any{"default": "Break glass requires MFA"},
				"AlertEmail":            map[string]any{"default": "E-mail address for alerts (optional)"},
				"AlertMinimumSeverity":  map[string]any{"default": "Lowest severity that alerts"},
			},
		},
	})
	return p
}

// LogAccounts is the account enum of the tables: LogAccountIds, or this
// account when it is empty.
func (p *WorkshopParameters) LogAccounts() *string {
	return awscdk.Token_AsString(awscdk.Fn_ConditionIf(p.noLogAccounts.LogicalId(), awscdk.Aws_ACCOUNT_ID(), p.LogAccountIDs.ValueAsString()), nil)
}
