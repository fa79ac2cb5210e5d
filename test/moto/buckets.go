package moto

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// bucketSettings are the AWS::S3::Bucket properties that moto's
// CloudFormation leaves out (it applies only BucketEncryption and Tags; see
// moto/s3/models.py, FakeBucket.create_from_cloudformation_json) and that
// ApplyBucketSettings applies through the S3 API.
var bucketSettings = []string{
	"VersioningConfiguration", "PublicAccessBlockConfiguration", "OwnershipControls", "LoggingConfiguration",
}

// ApplyBucketSettings gives the buckets of stack stackName, deployed from the
// template at templatePath, the settings of bucketSettings as the template
// says, resolving intrinsic functions against the stack's physical IDs and
// the caller's account.
//
// Bucket policies (AWS::S3::BucketPolicy, which moto does not model: see
// UnmodeledTypes) stay out but for one statement: moto turns server access
// logging on only if the target bucket's policy lets the logging service
// write under the prefix, so that statement of the template goes onto the
// target first, without its Condition. moto cannot evaluate conditions: it
// denies every request that a statement with a Condition names (so that the
// TLS-only statement, Deny unless aws:SecureTransport, would deny every
// object request). With logging on, moto writes a log object to the target
// for requests to the bucket, as S3 does.
func ApplyBucketSettings(t testing.TB, s *Server, env []string, stackName, templatePath string) {
	t.Helper()
	template, err := ReadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		StackResourceSummaries []struct{ LogicalResourceId, PhysicalResourceId string }
	}
	s.MustAWSJSON(t, env, &listed, "cloudformation", "list-stack-resources", "--stack-name", stackName)
	var caller struct{ Account string }
	s.MustAWSJSON(t, env, &caller, "sts", "get-caller-identity")
	r := resolver{physical: map[string]string{}, types: map[string]string{}, pseudo: map[string]string{
		"AWS::AccountId": caller.Account, "AWS::Region": Region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
	}}
	for _, res := range listed.StackResourceSummaries {
		r.physical[res.LogicalResourceId] = res.PhysicalResourceId
	}
	resources, _ := template["Resources"].(map[string]any)
	for id, res := range resources {
		r.types[id] = resourceType(res)
	}
	// The logging service's statements of each bucket's policy, by bucket.
	logDelivery := map[string][]any{}
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if resourceType(res) != "AWS::S3::BucketPolicy" {
			continue
		}
		doc, _ := r.value(t, props["PolicyDocument"]).(map[string]any)
		statements, _ := doc["Statement"].([]any)
		for _, st := range statements {
			m, _ := st.(map[string]any)
			if p, _ := m["Principal"].(map[string]any); p["Service"] == "logging.s3.amazonaws.com" {
				delete(m, "Condition")
				bucket := r.text(t, props["Bucket"])
				logDelivery[bucket] = append(logDelivery[bucket], m)
			}
		}
	}

	var first, logging [][]string
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if resourceType(res) != "AWS::S3::Bucket" {
			continue
		}
		bucket := r.physical[id]
		if bucket == "" {
			t.Fatalf("stack %s has no bucket %s", stackName, id)
		}
		if statements := logDelivery[bucket]; len(statements) > 0 {
			policy := map[string]any{"Version": "2012-10-17", "Statement": statements}
			first = append(first, []string{"s3api", "put-bucket-policy", "--bucket", bucket, "--policy", mustJSON(t, policy)})
		}
		for _, name := range bucketSettings {
			v, ok := props[name]
			if !ok {
				continue
			}
			v = r.value(t, v)
			switch name {
			case "VersioningConfiguration":
				first = append(first, []string{"s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", mustJSON(t, v)})
			case "PublicAccessBlockConfiguration":
				first = append(first, []string{"s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration", mustJSON(t, v)})
			case "OwnershipControls":
				first = append(first, []string{"s3api", "put-bucket-ownership-controls", "--bucket", bucket, "--ownership-controls", mustJSON(t, v)})
			case "LoggingConfiguration":
				cfg, _ := v.(map[string]any)
				status := map[string]any{"LoggingEnabled": map[string]any{
					"TargetBucket": cfg["DestinationBucketName"], "TargetPrefix": cfg["LogFilePrefix"],
				}}
				logging = append(logging, []string{"s3api", "put-bucket-logging", "--bucket", bucket, "--bucket-logging-status", mustJSON(t, status)})
			}
		}
	}
	for _, calls := range [][][]string{first, logging} {
		var wg sync.WaitGroup
		for _, call := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.AWS(t, env, call...); err != nil {
					t.Errorf("%s: applying what moto's CloudFormation leaves out: %v", stackName, err)
				}
			}()
		}
		wg.Wait()
		for _, call := range calls {
			t.Logf("%s: applied for moto: %s %s", stackName, call[1], call[3])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// resolver evaluates the intrinsic functions of a deployed template's
// properties.
type resolver struct {
	physical map[string]string // logical ID → physical ID
	types    map[string]string // logical ID → resource type
	pseudo   map[string]string // pseudo parameters
}

// value returns v with every Ref, Fn::GetAtt, Fn::Join and Fn::Sub replaced
// by its value.
func (r resolver) value(t testing.TB, v any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				switch fn {
				case "Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub":
					return r.intrinsic(t, fn, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out[k] = r.value(t, v[k])
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.value(t, e)
		}
		return out
	}
	return v
}

// text is value for what must be a string.
func (r resolver) text(t testing.TB, v any) string {
	t.Helper()
	s, ok := r.value(t, v).(string)
	if !ok {
		t.Fatalf("want a string, got %v", v)
	}
	return s
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

func (r resolver) intrinsic(t testing.TB, fn string, arg any) string {
	t.Helper()
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if v, ok := r.pseudo[name]; ok {
			return v
		}
		if v, ok := r.physical[name]; ok {
			return v
		}
	case "Fn::GetAtt":
		id := getAttResource(arg)
		attr := ""
		switch a := arg.(type) {
		case []any:
			if len(a) == 2 {
				attr, _ = a[1].(string)
			}
		case string:
			_, attr, _ = strings.Cut(a, ".")
		}
		if r.types[id] == "AWS::S3::Bucket" && attr == "Arn" && r.physical[id] != "" {
			return "arn:" + r.pseudo["AWS::Partition"] + ":s3:::" + r.physical[id]
		}
	case "Fn::Join":
		parts, _ := arg.([]any)
		if len(parts) == 2 {
			sep, _ := parts[0].(string)
			list, _ := parts[1].([]any)
			var out []string
			for _, p := range list {
				out = append(out, r.text(t, p))
			}
			return strings.Join(out, sep)
		}
	case "Fn::Sub":
		text, vars := arg, map[string]any{}
		if list, ok := arg.([]any); ok && len(list) == 2 {
			text = list[0]
			vars, _ = list[1].(map[string]any)
		}
		s, ok := text.(string)
		if ok {
			return strings.ReplaceAll(subVar.ReplaceAllStringFunc(s, func(m string) string {
				name := subVar.FindStringSubmatch(m)[1]
				if v, ok := vars[name]; ok {
					return r.text(t, v)
				}
				if id, attr, ok := strings.Cut(name, "."); ok {
					return r.intrinsic(t, "Fn::GetAtt", []any{id, attr})
				}
				return r.intrinsic(t, "Ref", name)
			}), "${!", "${")
		}
	}
	t.Fatalf("cannot resolve %s %v in the deployed template", fn, arg)
	return ""
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(fmt.Errorf("encoding %v: %w", v, err))
	}
	return string(b)
}
