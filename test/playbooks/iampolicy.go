package playbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// ActionCatalog is AWS's list of IAM actions by service prefix, as cfn-lint
// ships it in data/AdditionalSpecs/Policies.json (action names lower-case).
type ActionCatalog map[string]struct {
	Actions map[string]json.RawMessage `json:"Actions"`
}

// LoadActionCatalog finds cfn-lint's copy of the catalog through python3.
func LoadActionCatalog() (ActionCatalog, error) {
	out, err := exec.Command("python3", "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
	if err != nil {
		return nil, fmt.Errorf("locating cfn-lint with python3 (README, Prerequisites, lists it): %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "data", "AdditionalSpecs", "Policies.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the IAM action catalog: %w", err)
	}
	var c ActionCatalog
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return c, nil
}

// check reports whether action ("service:Name", wildcards allowed, or "*")
// names at least one action of the catalog.
func (c ActionCatalog) check(action string) error {
	if action == "*" {
		return nil
	}
	service, name, ok := strings.Cut(strings.ToLower(action), ":")
	if !ok || service == "" || name == "" {
		return fmt.Errorf("action %q is not service:Action", action)
	}
	svc, ok := c[service]
	if !ok {
		return fmt.Errorf("action %q: no service prefix %q in the IAM catalog", action, service)
	}
	if !strings.ContainsAny(name, "*?") {
		if _, ok := svc.Actions[name]; !ok {
			return fmt.Errorf("action %q does not exist in the IAM catalog", action)
		}
		return nil
	}
	re := regexp.MustCompile("^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(name)) + "$")
	for a := range svc.Actions {
		if re.MatchString(a) {
			return nil
		}
	}
	return fmt.Errorf("action %q matches no action of %s", action, service)
}

// conditionOperators are IAM's condition operators, without the IfExists
// suffix and the ForAllValues:/ForAnyValue: set prefixes.
var conditionOperators = setOf(
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
	"DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	"Null",
)

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9]*$`)

// CheckIdentityPolicy checks that raw is an IAM identity-based policy
// document: Version 2012-10-17, a Statement list whose statements each have
// Effect Allow or Deny, exactly one of Action and NotAction, exactly one of
// Resource and NotResource, no Principal, and conditions with valid
// operators (date operators with ISO 8601 values). When catalog is not nil,
// every action must exist in it.
func CheckIdentityPolicy(raw []byte, catalog ActionCatalog) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return []error{fmt.Errorf("not a JSON object: %w", err)}
	}
	for k := range doc {
		if k != "Version" && k != "Statement" && k != "Id" {
			fail("unknown top-level key %q", k)
		}
	}
	if doc["Version"] != "2012-10-17" {
		fail("Version is %v, want \"2012-10-17\"", doc["Version"])
	}
	stmts, ok := doc["Statement"].([]any)
	if !ok || len(stmts) == 0 {
		fail("Statement must be a non-empty list")
		return errs
	}
	sids := map[string]bool{}
	for n, s := range stmts {
		st, ok := s.(map[string]any)
		if !ok {
			fail("Statement[%d] is not an object", n)
			continue
		}
		where := fmt.Sprintf("Statement[%d]", n)
		if sid, ok := st["Sid"]; ok {
			str, _ := sid.(string)
			if !sidPattern.MatchString(str) {
				fail("%s: Sid %v must be letters and digits", where, sid)
			}
			if sids[str] {
				fail("%s: duplicate Sid %q", where, str)
			}
			sids[str] = true
			where += " (" + str + ")"
		}
		for k := range st {
			switch k {
			case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
			case "Principal", "NotPrincipal":
				fail("%s: %s belongs in resource policies, not identity policies", where, k)
			default:
				fail("%s: unknown key %q", where, k)
			}
		}
		if e := st["Effect"]; e != "Allow" && e != "Deny" {
			fail("%s: Effect is %v, want Allow or Deny", where, e)
		}
		actions, err := exactlyOne(st, "Action", "NotAction")
		if err != nil {
			fail("%s: %v", where, err)
		}
		for _, a := range actions {
			if catalog != nil {
				if err := catalog.check(a); err != nil {
					fail("%s: %v", where, err)
				}
			} else if a != "*" && !strings.Contains(a, ":") {
				fail("%s: action %q is not service:Action", where, a)
			}
		}
		resources, err := exactlyOne(st, "Resource", "NotResource")
		if err != nil {
			fail("%s: %v", where, err)
		}
		for _, r := range resources {
			if r != "*" && !strings.HasPrefix(r, "arn:") {
				fail("%s: resource %q is neither * nor an ARN", where, r)
			}
		}
		if cond, ok := st["Condition"]; ok {
			for _, err := range checkCondition(cond) {
				fail("%s: %v", where, err)
			}
		}
	}
	return errs
}

// exactlyOne returns the strings of whichever of a and b st has, and an
// error unless it has exactly one, as a string or a non-empty list of
// strings.
func exactlyOne(st map[string]any, a, b string) ([]string, error) {
	va, hasA := st[a]
	vb, hasB := st[b]
	if hasA == hasB {
		return nil, fmt.Errorf("want exactly one of %s and %s", a, b)
	}
	key, v := a, va
	if hasB {
		key, v = b, vb
	}
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s holds a non-string %v", key, e)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s is empty", key)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s must be a string or a list of strings", key)
}

func checkCondition(cond any) []error {
	var errs []error
	block, ok := cond.(map[string]any)
	if !ok || len(block) == 0 {
		return []error{fmt.Errorf("the Condition element must be a non-empty object")}
	}
	ops := sortedKeys(block)
	for _, op := range ops {
		base := op
		if set, rest, ok := strings.Cut(base, ":"); ok {
			if set != "ForAllValues" && set != "ForAnyValue" {
				errs = append(errs, fmt.Errorf("condition operator %q: unknown set prefix %q", op, set))
			}
			base = rest
		}
		if base != "Null" {
			base = strings.TrimSuffix(base, "IfExists")
		}
		if !conditionOperators[base] {
			errs = append(errs, fmt.Errorf("unknown condition operator %q", op))
			continue
		}
		keys, ok := block[op].(map[string]any)
		if !ok || len(keys) == 0 {
			errs = append(errs, fmt.Errorf("condition %s must map condition keys to values", op))
			continue
		}
		for _, key := range sortedKeys(keys) {
			if !strings.Contains(key, ":") {
				errs = append(errs, fmt.Errorf("condition %s: key %q has no service prefix", op, key))
			}
			values := []any{keys[key]}
			if list, ok := keys[key].([]any); ok {
				values = list
			}
			for _, v := range values {
				if strings.HasPrefix(base, "Date") {
					s, _ := v.(string)
					if _, err := time.Parse(time.RFC3339, s); err != nil {
						errs = append(errs, fmt.Errorf("condition %s %s: %v is not an ISO 8601 date-time", op, key, v))
					}
				}
			}
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}
