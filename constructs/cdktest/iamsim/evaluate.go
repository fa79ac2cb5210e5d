package iamsim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Request is one call to evaluate against a policy.
type Request struct {
	// Principal is who calls: the ARN of an IAM role or user
	// ("arn:aws:iam::111122223333:role/Responder"), or a service principal
	// ("cloudtrail.amazonaws.com").
	Principal string
	// Action is the IAM action, for example "sts:AssumeRole".
	Action string
	// Resource is the ARN acted on; empty for a trust policy, whose
	// statements have no Resource.
	Resource string
	// Context holds the request's condition keys and values. For an IAM
	// principal, aws:PrincipalArn and aws:PrincipalAccount default to what
	// Principal says.
	Context map[string]string
}

// Decision is the outcome of evaluating a request against one policy.
type Decision int

// The decisions, as IAM names them.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[d]
}

// Evaluate evaluates req against a resolved policy document (see
// Resolver.Resolve): an explicit Deny wins, then any Allow; otherwise the
// request is implicitly denied. An element or operator outside what this
// package implements is an error.
func Evaluate(doc any, req Request) (Decision, error) {
	ctx := map[string]string{}
	if strings.HasPrefix(req.Principal, "arn:") {
		ctx["aws:PrincipalArn"] = req.Principal
		ctx["aws:PrincipalAccount"] = arnField(req.Principal, 4)
	}
	for k, v := range req.Context {
		ctx[k] = v
	}
	req.Context = ctx

	m, ok := doc.(map[string]any)
	if !ok {
		return ImplicitDeny, fmt.Errorf("policy document is %T, not an object", doc)
	}
	var statements []any
	switch s := m["Statement"].(type) {
	case []any:
		statements = s
	case map[string]any:
		statements = []any{s}
	default:
		return ImplicitDeny, fmt.Errorf("policy document has no Statement")
	}
	decision := ImplicitDeny
	for i, s := range statements {
		st, ok := s.(map[string]any)
		if !ok {
			return ImplicitDeny, fmt.Errorf("statement %d is not an object", i)
		}
		applies, err := applies(st, req)
		if err != nil {
			return ImplicitDeny, fmt.Errorf("statement %d (%v): %w", i, st["Sid"], err)
		}
		if !applies {
			continue
		}
		switch st["Effect"] {
		case "Deny":
			return ExplicitDeny, nil
		case "Allow":
			decision = Allow
		default:
			return ImplicitDeny, fmt.Errorf("statement %d: Effect %v", i, st["Effect"])
		}
	}
	return decision, nil
}

// Allows reports whether doc allows req.
func Allows(doc any, req Request) (bool, error) {
	d, err := Evaluate(doc, req)
	return d == Allow, err
}

// known lists the statement elements this package evaluates.
var known = map[string]bool{"Sid": true, "Effect": true, "Principal": true, "Action": true, "Resource": true, "Condition": true}

func applies(st map[string]any, req Request) (bool, error) {
	for k := range st {
		if !known[k] {
			return false, fmt.Errorf("element %s is not implemented", k)
		}
	}
	if p, ok := st["Principal"]; ok && !principalMatches(p, req.Principal) {
		return false, nil
	}
	actionOK := false
	for _, a := range asList(st["Action"]) {
		actionOK = actionOK || glob(a, true).MatchString(req.Action)
	}
	if !actionOK {
		return false, nil
	}
	if res, ok := st["Resource"]; ok {
		resourceOK := false
		for _, pattern := range asList(res) {
			p, ok := substitute(pattern, req.Context, true)
			resourceOK = resourceOK || (ok && glob(p, false).MatchString(req.Resource))
		}
		if !resourceOK {
			return false, nil
		}
	} else if req.Resource != "" {
		return false, nil
	}
	cond, _ := st["Condition"].(map[string]any)
	for op, keys := range cond {
		keyMap, ok := keys.(map[string]any)
		if !ok {
			return false, fmt.Errorf("condition %s is not an object", op)
		}
		for key, want := range keyMap {
			match, err := conditionMatches(op, req.Context, key, asList(want))
			if err != nil || !match {
				return false, err
			}
		}
	}
	return true, nil
}

// principalMatches reports whether a statement's Principal element names
// caller. {"AWS": "*"} is "*", everyone; an account ("111122223333" or its
// root ARN) names every IAM principal of that account.
func principalMatches(p any, caller string) bool {
	m, _ := p.(map[string]any)
	if p == "*" || slices.Contains(asList(m["AWS"]), "*") {
		return true
	}
	for _, s := range asList(m["Service"]) {
		if s == caller {
			return true
		}
	}
	if !strings.HasPrefix(caller, "arn:") {
		return false
	}
	for _, a := range asList(m["AWS"]) {
		switch {
		case a == caller:
			return true
		case regexp.MustCompile(`^[0-9]{12}$`).MatchString(a) && a == arnField(caller, 4):
			return true
		case strings.HasPrefix(a, "arn:") && arnField(a, 5) == "root" && arnField(a, 4) == arnField(caller, 4) && arnField(a, 1) == arnField(caller, 1):
			return true
		}
	}
	return false
}

// conditionMatches evaluates one key of one condition operator: the key
// must be in the request (no ...IfExists operator is implemented) and match
// any of the values. StringNotEquals, IAM's negated operator, holds when the
// key is absent or equals none of the values.
func conditionMatches(op string, ctx map[string]string, key string, values []string) (bool, error) {
	var match func(want, got string) bool
	switch op {
	case "StringNotEquals":
		got, present := ctx[key]
		for _, v := range values {
			if want, ok := substitute(v, ctx, false); present && ok && want == got {
				return false, nil
			}
		}
		return true, nil
	case "StringEquals":
		match = func(want, got string) bool { return want == got }
	case "StringLike":
		match = func(want, got string) bool { return glob(want, false).MatchString(got) }
	case "ArnEquals", "ArnLike":
		// IAM treats both alike: each of the six colon-separated parts
		// is matched on its own, with wildcards.
		match = arnLike
	case "Bool":
		match = func(want, got string) bool { return strings.EqualFold(want, got) }
	default:
		return false, fmt.Errorf("condition operator %s is not implemented", op)
	}
	got, present := ctx[key]
	if !present {
		return false, nil
	}
	for _, v := range values {
		want, ok := substitute(v, ctx, op == "StringLike" || op == "ArnLike" || op == "ArnEquals")
		if ok && match(want, got) {
			return true, nil
		}
	}
	return false, nil
}

func arnLike(pattern, arn string) bool {
	p := strings.SplitN(pattern, ":", 6)
	a := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !glob(p[i], false).MatchString(a[i]) {
			return false
		}
	}
	return true
}

// policyVariable matches ${key} in a policy.
var policyVariable = regexp.MustCompile(`\$\{([^}]+)\}`)

// substitute replaces the policy variables in s with the request's values;
// ok is false when one has no value (the statement then cannot match).
// In patterns, ${*}, ${?} and ${$} stand for the literal characters.
func substitute(s string, ctx map[string]string, pattern bool) (string, bool) {
	ok := true
	out := policyVariable.ReplaceAllStringFunc(s, func(m string) string {
		key := m[2 : len(m)-1]
		switch key {
		case "*", "?", "$":
			if pattern {
				return `\` + key
			}
			return key
		}
		v, present := ctx[key]
		if !present {
			ok = false
		}
		return strings.NewReplacer("*", `\*`, "?", `\?`).Replace(v)
	})
	return out, ok
}

// glob turns an IAM pattern (* and ?, with \* and \? for the literal
// characters) into an anchored regular expression.
func glob(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			b.WriteString(regexp.QuoteMeta(string(pattern[i])))
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// arnField returns the i-th colon-separated field of an ARN.
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 6)
	if i < len(f) {
		return f[i]
	}
	return ""
}

// asList returns a string-or-list element as a list.
func asList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
