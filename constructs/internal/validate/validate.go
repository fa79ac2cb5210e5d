// Package validate collects what is wrong with a construct's props and stops
// synthesis with every problem at once, the way aws-cdk-lib's constructs do:
// each message names the props field, and synthesis prefixes it with the
// construct's path ("[Stack/Trail] AuditTrailProps.Bucket is required: ...").
//
// A construct with a problem registers it through Node().AddValidation, so
// building it never panics (nil props included); `cdk synth`, app.Synth and
// the assertions library then fail with the messages.
package validate

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Problems gathers the messages of one construct's props.
type Problems struct {
	// Props is the props type's name, for example "AuditTrailProps".
	Props    string
	messages []string
}

// Require records that field is required when missing is true; why says what
// the construct needs it for.
func (p *Problems) Require(missing bool, field, why string) {
	if missing {
		p.messages = append(p.messages, fmt.Sprintf("%s.%s is required: %s", p.Props, field, why))
	}
}

// Pattern records a problem when value, a physical name known at synthesis
// time, does not match pattern. Values that are tokens (resolved only at
// deployment) are left to CloudFormation.
func (p *Problems) Pattern(field, value string, pattern *regexp.Regexp, rule string) {
	if *awscdk.Token_IsUnresolved(jsii.String(value)) || pattern.MatchString(value) {
		return
	}
	p.messages = append(p.messages, fmt.Sprintf("%s.%s is %q; it must be %s", p.Props, field, value, rule))
}

// Addf records any other problem with a field.
func (p *Problems) Addf(field, format string, args ...any) {
	p.messages = append(p.messages, fmt.Sprintf("%s.%s %s", p.Props, field, fmt.Sprintf(format, args...)))
}

// Stop reports whether there are problems. When there are, it registers them
// on c so that synthesis fails with all of them; the caller then builds
// nothing more.
func (p *Problems) Stop(c constructs.IConstruct) bool {
	if len(p.messages) == 0 {
		return false
	}
	c.Node().AddValidation(&failed{messages: append([]string(nil), p.messages...)})
	return true
}

// failed is a validation that always reports its messages.
type failed struct {
	messages []string
}

// Validate implements constructs.IValidation.
func (f *failed) Validate() *[]*string {
	return jsii.Strings(f.messages...)
}
