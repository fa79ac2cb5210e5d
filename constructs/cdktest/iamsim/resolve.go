// Package iamsim lets tests ask what a synthesized template's IAM policies
// allow: it resolves the template's intrinsic functions for one deployment
// (parameter values, pseudo parameters, conditions), then evaluates a request
// against a resolved policy document the way IAM does for the few condition
// operators this project's policies use.
//
// It exists because the emulator the project tests against does not answer
// these questions: moto 5.2 evaluates a role's trust policy only with
// authentication on, compares its principal to the caller by exact ARN, and
// ignores every condition operator but StringEquals; it evaluates no bucket
// policy at all. Anything this package does not implement (another operator,
// NotAction, NotPrincipal, NotResource, an ...IfExists operator) is an error,
// never silently allowed.
package iamsim

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Deployment is what a template is resolved for.
type Deployment struct {
	// Partition, Region, Account and StackName are the pseudo parameters.
	// Defaults: aws, us-east-1, 111122223333, "Stack".
	Partition, Region, Account, StackName string
	// Parameters are the values given at deployment; a parameter not given
	// takes its Default from the template.
	Parameters map[string]string
}

// Resolver resolves values of one template for one deployment.
type Resolver struct {
	template   map[string]any
	pseudo     map[string]string
	params     map[string]string
	conditions map[string]bool
}

// NewResolver prepares template (decoded JSON) for d: it fills in parameter
// defaults and evaluates every condition of the template.
func NewResolver(template map[string]any, d Deployment) (*Resolver, error) {
	r := &Resolver{template: template, params: map[string]string{}, conditions: map[string]bool{}}
	r.pseudo = map[string]string{
		"AWS::Partition": or(d.Partition, "aws"),
		"AWS::Region":    or(d.Region, "us-east-1"),
		"AWS::AccountId": or(d.Account, "111122223333"),
		"AWS::StackName": or(d.StackName, "Stack"),
		"AWS::URLSuffix": "amazonaws.com",
	}
	declared, _ := template["Parameters"].(map[string]any)
	for name := range d.Parameters {
		if _, ok := declared[name]; !ok {
			return nil, fmt.Errorf("the template declares no parameter %s", name)
		}
	}
	for name, p := range declared {
		if v, ok := d.Parameters[name]; ok {
			r.params[name] = v
			continue
		}
		def, ok := p.(map[string]any)["Default"]
		if !ok {
			return nil, fmt.Errorf("parameter %s has no default and no value", name)
		}
		r.params[name] = fmt.Sprint(def)
	}
	conds, _ := template["Conditions"].(map[string]any)
	for name := range conds {
		if _, err := r.Condition(name); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Condition returns the value of the template condition name.
func (r *Resolver) Condition(name string) (bool, error) {
	if v, ok := r.conditions[name]; ok {
		return v, nil
	}
	conds, _ := r.template["Conditions"].(map[string]any)
	expr, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	v, err := r.condition(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.conditions[name] = v
	return v, nil
}

func (r *Resolver) condition(expr any) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("not a condition function: %v", expr)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.Condition(name)
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals takes two values: %v", arg)
			}
			a, err := r.Resolve(args[0])
			if err != nil {
				return false, err
			}
			b, err := r.Resolve(args[1])
			if err != nil {
				return false, err
			}
			return fmt.Sprint(a) == fmt.Sprint(b), nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			var vals []bool
			for _, a := range args {
				v, err := r.condition(a)
				if err != nil {
					return false, err
				}
				vals = append(vals, v)
			}
			switch fn {
			case "Fn::Not":
				return len(vals) == 1 && !vals[0], nil
			case "Fn::And":
				return !slices.Contains(vals, false), nil
			default:
				return slices.Contains(vals, true), nil
			}
		}
		return false, fmt.Errorf("unsupported condition function %s", fn)
	}
	return false, nil
}

// noValue marks AWS::NoValue while resolving; it removes the key or list
// element that holds it.
type noValue struct{}

// Resolve returns v with every intrinsic function replaced by its value:
// Ref (parameters, pseudo parameters, resources by their logical ID
// lower-cased), Fn::GetAtt (a bucket's Arn; other attributes as
// "LogicalId.Attribute"), Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If,
// Fn::Base64, Fn::GetAZs (three zones) and AWS::NoValue.
func (r *Resolver) Resolve(v any) (any, error) {
	out, err := r.resolve(v)
	if _, gone := out.(noValue); gone {
		return nil, err
	}
	return out, err
}

func (r *Resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			re, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, gone := re.(noValue); !gone {
				out = append(out, re)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return r.function(fn, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			re, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, gone := re.(noValue); !gone {
				out[k] = re
			}
		}
		return out, nil
	}
	return v, nil
}

func (r *Resolver) function(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return r.ref(name)
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt takes a logical ID and an attribute: %v", arg)
		}
		id, attr := fmt.Sprint(args[0]), fmt.Sprint(args[1])
		resources, _ := r.template["Resources"].(map[string]any)
		res, _ := resources[id].(map[string]any)
		if res == nil {
			return nil, fmt.Errorf("Fn::GetAtt of unknown resource %s", id)
		}
		if attr == "Arn" {
			if arn := r.arn(id, res); arn != "" {
				return arn, nil
			}
		}
		return id + "." + attr, nil
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes a condition and two values: %v", arg)
		}
		c, err := r.Condition(fmt.Sprint(args[0]))
		if err != nil {
			return nil, err
		}
		if c {
			return r.resolve(args[1])
		}
		return r.resolve(args[2])
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join takes a delimiter and a list: %v", arg)
		}
		list, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, p := range list.([]any) {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, fmt.Sprint(args[0])), nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split takes a delimiter and a string: %v", arg)
		}
		s, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(fmt.Sprint(s), fmt.Sprint(args[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select takes an index and a list: %v", arg)
		}
		list, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		var i int
		if _, err := fmt.Sscan(fmt.Sprint(args[0]), &i); err != nil {
			return nil, fmt.Errorf("Fn::Select index %v: %w", args[0], err)
		}
		l, _ := list.([]any)
		if i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select index %d out of %v", i, l)
		}
		return l[i], nil
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Base64":
		v, err := r.resolve(arg)
		return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(v))), err
	case "Fn::GetAZs":
		region := r.pseudo["AWS::Region"]
		return []any{region + "a", region + "b", region + "c"}, nil
	}
	return nil, fmt.Errorf("unsupported function %s", fn)
}

// arn is the ARN of a resource of a type whose ARN this package knows, or
// "". A physical name the template leaves to CloudFormation is the logical
// ID in lower case, as Ref gives it.
func (r *Resolver) arn(id string, res map[string]any) string {
	props, _ := res["Properties"].(map[string]any)
	name, ok := props[map[any]string{"AWS::IAM::Role": "RoleName", "AWS::Logs::LogGroup": "LogGroupName"}[res["Type"]]].(string)
	if !ok {
		name = strings.ToLower(id)
	}
	p, region, account := r.pseudo["AWS::Partition"], r.pseudo["AWS::Region"], r.pseudo["AWS::AccountId"]
	switch res["Type"] {
	case "AWS::S3::Bucket":
		return "arn:" + p + ":s3:::" + strings.ToLower(id)
	case "AWS::IAM::Role":
		return "arn:" + p + ":iam::" + account + ":role/" + name
	case "AWS::KMS::Key":
		return "arn:" + p + ":kms:" + region + ":" + account + ":key/" + name
	case "AWS::Logs::LogGroup":
		return "arn:" + p + ":logs:" + region + ":" + account + ":log-group:" + name + ":*"
	}
	return ""
}

func (r *Resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.pseudo[name]; ok {
		return v, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	resources, _ := r.template["Resources"].(map[string]any)
	if _, ok := resources[name]; ok {
		return strings.ToLower(name), nil
	}
	return nil, fmt.Errorf("a Ref to unknown %s", name)
}

// subVariable matches ${Name} and the literal ${!Name} of Fn::Sub.
var subVariable = regexp.MustCompile(`\$\{(!?)([^}]*)\}`)

func (r *Resolver) sub(arg any) (any, error) {
	format, vars := arg, map[string]any{}
	if l, ok := arg.([]any); ok && len(l) == 2 {
		format = l[0]
		vars, _ = l[1].(map[string]any)
	}
	text, ok := format.(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Sub of %v", arg)
	}
	var firstErr error
	out := subVariable.ReplaceAllStringFunc(text, func(m string) string {
		parts := subVariable.FindStringSubmatch(m)
		if parts[1] == "!" {
			return "${" + parts[2] + "}"
		}
		var v any
		var err error
		if val, ok := vars[parts[2]]; ok {
			v, err = r.resolve(val)
		} else if id, attr, dotted := strings.Cut(parts[2], "."); dotted {
			v, err = r.function("Fn::GetAtt", []any{id, attr})
		} else {
			v, err = r.ref(parts[2])
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return fmt.Sprint(v)
	})
	return out, firstErr
}
