package moto

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// UnmodeledTypes names the resource types of this project's templates that
// moto's CloudFormation does not create, each with what the emulated stack
// lacks without it. Checked against moto 5.2.1.
//
// moto (moto/cloudformation/parsing.py) looks every resource type up in its
// map of CloudFormationModel subclasses. For a type missing there it logs
// "No Moto CloudFormation support for TYPE", creates nothing, and then:
//   - Fn::GetAtt of the resource in another resource fails CreateStack with a
//     ValidationError and leaves the stack CREATE_IN_PROGRESS;
//   - Fn::GetAtt of it in an output fails CreateStack with HTTP 500;
//   - Ref to it resolves to nothing ("None" inside Fn::Join), and an output
//     that is such a Ref silently disappears.
//
// AdaptForMoto removes these resources up front, and what refers to them, so
// the emulated stack is exactly the adapted template. DeployTemplate fails
// when moto skips a resource of a type missing here: add the type, with the
// reason, when a template starts using one.
var UnmodeledTypes = map[string]string{
	// moto has the S3 API (PutBucketPolicy) but no CloudFormation model for
	// bucket policies: emulated buckets have no TLS-only or log delivery policy.
	"AWS::S3::BucketPolicy": "no moto CloudFormation model; buckets come up without their policies",
	// moto has a CloudTrail API backend but no CloudFormation model.
	"AWS::CloudTrail::Trail": "no moto CloudFormation model; no trail is emulated",
	// moto has a Route 53 Resolver API backend but no CloudFormation model
	// for query logging.
	"AWS::Route53Resolver::ResolverQueryLoggingConfig":            "no moto CloudFormation model; no DNS query logging is emulated",
	"AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation": "no moto CloudFormation model; no DNS query logging is emulated",
	// moto has Athena and Glue API backends but no CloudFormation models for
	// workgroups, named queries, databases or tables.
	"AWS::Athena::WorkGroup":  "no moto CloudFormation model; no Athena workgroup is emulated",
	"AWS::Athena::NamedQuery": "no moto CloudFormation model; no named queries are emulated",
	"AWS::Glue::Database":     "no moto CloudFormation model; no Glue catalog is emulated",
	"AWS::Glue::Table":        "no moto CloudFormation model; no Glue catalog is emulated",
	// moto has the Secrets Manager API but no CloudFormation model: tests
	// that need the secrets create them through the API.
	"AWS::SecretsManager::Secret": "no moto CloudFormation model; create secrets through the Secrets Manager API",
	// moto has the SNS API (SetTopicAttributes, Subscribe) but CloudFormation
	// models only AWS::SNS::Topic: emulated topics have moto's default policy
	// and no subscription from the template.
	"AWS::SNS::TopicPolicy":  "no moto CloudFormation model; the topic keeps moto's default policy",
	"AWS::SNS::Subscription": "no moto CloudFormation model; subscribe through the SNS API",
}

// placeholderPrefix starts the string that AdaptForMoto puts where a kept
// resource referred to a removed one.
const placeholderPrefix = "moto-removed-"

// AdaptForMoto rewrites a CloudFormation template, decoded into plain Go
// values (ReadTemplate), so that moto's CloudFormation can create all of it:
//
//  1. it removes every resource whose type is in UnmodeledTypes;
//  2. it removes every output that refers (Ref, Fn::GetAtt, Fn::Sub) to a
//     removed resource;
//  3. it removes removed resources from the DependsOn of the kept ones;
//  4. it replaces a reference to a removed resource inside a kept resource
//     with the string "moto-removed-<LogicalId>", as moto would otherwise
//     fail on Fn::GetAtt (Ref would become "None").
//
// Conditions need nothing: they may refer only to parameters and other
// conditions. The template is changed in place; the result names each removed
// or replaced thing, in a stable order, for the test log.
func AdaptForMoto(template map[string]any) (removed []string) {
	resources, _ := template["Resources"].(map[string]any)
	gone := map[string]bool{}
	for _, id := range sortedKeys(resources) {
		typ := resourceType(resources[id])
		if _, ok := UnmodeledTypes[typ]; ok {
			delete(resources, id)
			gone[id] = true
			removed = append(removed, fmt.Sprintf("resource %s (%s)", id, typ))
		}
	}
	if len(gone) == 0 {
		return removed
	}

	outputs, _ := template["Outputs"].(map[string]any)
	for _, name := range sortedKeys(outputs) {
		var refs []string
		rewrite(outputs[name], gone, func(id string) { refs = appendUnique(refs, id) })
		if len(refs) > 0 {
			delete(outputs, name)
			removed = append(removed, fmt.Sprintf("output %s (refers to %s)", name, strings.Join(refs, ", ")))
		}
	}

	for _, id := range sortedKeys(resources) {
		res, ok := resources[id].(map[string]any)
		if !ok {
			continue
		}
		if deps, dropped := withoutGone(res["DependsOn"], gone); len(dropped) > 0 {
			if len(deps) == 0 {
				delete(res, "DependsOn")
			} else {
				res["DependsOn"] = deps
			}
			for _, d := range dropped {
				removed = append(removed, fmt.Sprintf("DependsOn %s of resource %s", d, id))
			}
		}
		var refs []string
		for _, key := range sortedKeys(res) {
			if key != "Type" && key != "DependsOn" {
				res[key] = rewrite(res[key], gone, func(ref string) { refs = appendUnique(refs, ref) })
			}
		}
		for _, ref := range refs {
			removed = append(removed, fmt.Sprintf("reference to %s in resource %s (now %q)", ref, id, placeholderPrefix+ref))
		}
	}
	return removed
}

// subVariable matches ${Name} and ${Name.Attribute} in an Fn::Sub string,
// not the literal ${!Name}.
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// rewrite returns a copy of v in which every Ref, Fn::GetAtt and Fn::Sub
// variable that names a resource in gone is replaced by a placeholder string,
// calling found with each such resource.
func rewrite(v any, gone map[string]bool, found func(id string)) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			if id, ok := v["Ref"].(string); ok && gone[id] {
				found(id)
				return placeholderPrefix + id
			}
			if att, ok := v["Fn::GetAtt"]; ok {
				if id := getAttResource(att); gone[id] {
					found(id)
					return placeholderPrefix + id
				}
			}
			if sub, ok := v["Fn::Sub"]; ok {
				return map[string]any{"Fn::Sub": rewriteSub(sub, gone, found)}
			}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = rewrite(e, gone, found)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = rewrite(e, gone, found)
		}
		return out
	default:
		return v
	}
}

// rewriteSub rewrites the argument of Fn::Sub: a string, or a string and a
// map of variables, whose names shadow resources.
func rewriteSub(sub any, gone map[string]bool, found func(id string)) any {
	text, vars := sub, map[string]any(nil)
	if list, ok := sub.([]any); ok && len(list) == 2 {
		text = list[0]
		vars, _ = list[1].(map[string]any)
	}
	s, ok := text.(string)
	if !ok {
		return rewrite(sub, gone, found)
	}
	s = subVariable.ReplaceAllStringFunc(s, func(m string) string {
		name := subVariable.FindStringSubmatch(m)[1]
		if _, shadowed := vars[name]; shadowed {
			return m
		}
		id, _, _ := strings.Cut(name, ".")
		if !gone[id] {
			return m
		}
		found(id)
		return placeholderPrefix + id
	})
	if vars == nil {
		return s
	}
	return []any{s, rewrite(vars, gone, found)}
}

// getAttResource returns the logical ID that an Fn::GetAtt argument reads,
// in the list form [Id, Attribute] or the string form "Id.Attribute".
func getAttResource(att any) string {
	switch att := att.(type) {
	case []any:
		if len(att) > 0 {
			id, _ := att[0].(string)
			return id
		}
	case string:
		id, _, _ := strings.Cut(att, ".")
		return id
	}
	return ""
}

// withoutGone splits a DependsOn value (a string or a list) into the
// dependencies to keep and the removed ones.
func withoutGone(dependsOn any, gone map[string]bool) (keep []any, dropped []string) {
	var deps []any
	switch d := dependsOn.(type) {
	case string:
		deps = []any{d}
	case []any:
		deps = d
	}
	for _, d := range deps {
		if id, ok := d.(string); ok && gone[id] {
			dropped = append(dropped, id)
		} else {
			keep = append(keep, d)
		}
	}
	return keep, dropped
}

func resourceType(res any) string {
	m, _ := res.(map[string]any)
	typ, _ := m["Type"].(string)
	return typ
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// ReadTemplate reads a CloudFormation template written in YAML (or JSON)
// into plain Go values: maps, slices, strings, numbers and booleans. Scalars
// that YAML would read as timestamps stay strings, as CloudFormation reads
// them. Short-form intrinsic functions (!Ref) are rejected: CDK writes the
// long form.
func ReadTemplate(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	v, err := plain(&doc)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parsing %s: the template is not a mapping", path)
	}
	return m, nil
}

// plain converts a YAML node into plain Go values.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plain(n.Content[0])
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return v, nil
		default:
			return nil, fmt.Errorf("line %d: tag %s: short-form intrinsic functions are not supported, write the long form (Ref:, Fn::GetAtt:)", n.Line, tag)
		}
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

const deployTimeout = 2 * time.Minute

// DeployTemplate creates the stack stackName from the template at
// templatePath, adapted for moto (AdaptForMoto; the template file itself is
// never changed), with the given parameter values, waits until it is
// CREATE_COMPLETE and returns its outputs. It logs what the adaptation
// removed, and fails the test with the stack's events if the stack fails, or
// if moto skipped a resource of a type missing from UnmodeledTypes.
func DeployTemplate(t testing.TB, s *Server, env []string, stackName, templatePath string, params map[string]string) (outputs map[string]string) {
	t.Helper()
	template, err := ReadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	declared, _ := template["Parameters"].(map[string]any)
	var parameters []map[string]string
	for _, key := range slices.Sorted(maps.Keys(params)) {
		if _, ok := declared[key]; !ok {
			t.Fatalf("%s declares no parameter %s", templatePath, key)
		}
		parameters = append(parameters, map[string]string{"ParameterKey": key, "ParameterValue": params[key]})
	}
	for _, r := range AdaptForMoto(template) {
		t.Logf("%s: adapted for moto: removed %s", stackName, r)
	}
	body, err := json.Marshal(template)
	if err != nil {
		t.Fatalf("encoding the adapted template: %v", err)
	}
	adapted := filepath.Join(t.TempDir(), stackName+".moto.json")
	if err := os.WriteFile(adapted, body, 0o600); err != nil {
		t.Fatal(err)
	}

	args := []string{"cloudformation", "create-stack", "--stack-name", stackName,
		"--template-body", "file://" + adapted, "--capabilities", "CAPABILITY_NAMED_IAM"}
	if len(parameters) > 0 {
		p, _ := json.Marshal(parameters)
		args = append(args, "--parameters", string(p))
	}
	if _, err := s.AWS(t, env, args...); err != nil {
		t.Fatalf("creating stack %s from %s: %v\n%s", stackName, templatePath, err, stackEvents(t, s, env, stackName))
	}

	var stack struct {
		StackStatus       string
		StackStatusReason string
		Outputs           []struct{ OutputKey, OutputValue string }
	}
	deadline := time.Now().Add(deployTimeout)
	for {
		var described struct{ Stacks []json.RawMessage }
		s.MustAWSJSON(t, env, &described, "cloudformation", "describe-stacks", "--stack-name", stackName)
		if len(described.Stacks) != 1 {
			t.Fatalf("describe-stacks %s: got %d stacks, want 1", stackName, len(described.Stacks))
		}
		if err := json.Unmarshal(described.Stacks[0], &stack); err != nil {
			t.Fatalf("decoding stack %s: %v", stackName, err)
		}
		if stack.StackStatus == "CREATE_COMPLETE" {
			break
		}
		if stack.StackStatus != "CREATE_IN_PROGRESS" {
			t.Fatalf("stack %s: %s (%s)\n%s", stackName, stack.StackStatus, stack.StackStatusReason, stackEvents(t, s, env, stackName))
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack %s still CREATE_IN_PROGRESS after %s\n%s", stackName, deployTimeout, stackEvents(t, s, env, stackName))
		}
		time.Sleep(200 * time.Millisecond)
	}

	checkAllCreated(t, s, env, stackName, template)
	outputs = make(map[string]string, len(stack.Outputs))
	for _, o := range stack.Outputs {
		outputs[o.OutputKey] = o.OutputValue
	}
	return outputs
}

// checkAllCreated fails the test if moto silently skipped a resource of the
// adapted template: its type is one to add to UnmodeledTypes. Resources with
// a Condition may rightly be absent.
func checkAllCreated(t testing.TB, s *Server, env []string, stackName string, template map[string]any) {
	t.Helper()
	var listed struct {
		StackResourceSummaries []struct{ LogicalResourceId, ResourceStatus string }
	}
	s.MustAWSJSON(t, env, &listed, "cloudformation", "list-stack-resources", "--stack-name", stackName)
	created := map[string]bool{}
	for _, r := range listed.StackResourceSummaries {
		created[r.LogicalResourceId] = r.ResourceStatus == "CREATE_COMPLETE"
	}
	resources, _ := template["Resources"].(map[string]any)
	var skipped []string
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		if _, conditional := res["Condition"]; !conditional && !created[id] {
			skipped = append(skipped, fmt.Sprintf("%s (%s)", id, resourceType(res)))
		}
	}
	if len(skipped) > 0 {
		t.Fatalf("stack %s: moto did not create %s; if moto has no CloudFormation model for the type, add it to UnmodeledTypes in test/moto/template.go with the reason",
			stackName, strings.Join(skipped, ", "))
	}
}

// stackEvents returns the stack's events, oldest first, one a line.
func stackEvents(t testing.TB, s *Server, env []string, stackName string) string {
	t.Helper()
	out, err := s.AWS(t, env, "cloudformation", "describe-stack-events", "--stack-name", stackName)
	if err != nil {
		return fmt.Sprintf("(no stack events: %v)", err)
	}
	var events struct {
		StackEvents []struct {
			LogicalResourceId, ResourceType, ResourceStatus, ResourceStatusReason string
		}
	}
	if err := json.Unmarshal([]byte(out), &events); err != nil {
		return fmt.Sprintf("(decoding stack events: %v)", err)
	}
	var b strings.Builder
	b.WriteString("stack events:\n")
	for _, e := range slices.Backward(events.StackEvents) {
		fmt.Fprintf(&b, "  %s %s %s %s\n", e.LogicalResourceId, e.ResourceType, e.ResourceStatus, e.ResourceStatusReason)
	}
	return b.String()
}
