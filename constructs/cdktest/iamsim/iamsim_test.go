package iamsim

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEvaluateFollowsIAMForTheImplementedOperators pins the evaluator to
// IAM's documented logic on small policies, so the tests that rely on it
// rest on something checked.
func TestEvaluateFollowsIAMForTheImplementedOperators(t *testing.T) {
	trust := decode(t, `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
		"Principal":{"AWS":"arn:aws:iam::111122223333:root"},
		"Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Lead"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
	bucket := decode(t, `{"Statement":[
		{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject",
		 "Resource":"arn:aws:s3:::logs/AWSLogs/${aws:SourceAccount}/*",
		 "Condition":{"StringEquals":{"aws:SourceAccount":["111122223333","444455556666"]},"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*"}}},
		{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::logs/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	key := decode(t, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
		"Condition":{"StringEquals":{"aws:SourceAccount":["111122223333","444455556666"]},"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}]}`)
	notOwn := decode(t, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
		"Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}]}`)
	generate := func(account string) Request {
		return Request{Principal: "delivery.logs.amazonaws.com", Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:111122223333:key/k",
			Context: map[string]string{"aws:SourceAccount": account}}
	}
	lead := "arn:aws:iam::111122223333:role/Lead"
	put := func(account, key string, ctx map[string]string) Request {
		c := map[string]string{"aws:SourceAccount": account, "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:" + account + ":trail/t", "aws:SecureTransport": "true"}
		for k, v := range ctx {
			c[k] = v
		}
		return Request{Principal: "cloudtrail.amazonaws.com", Action: "s3:PutObject", Resource: "arn:aws:s3:::logs/" + key, Context: c}
	}
	cases := []struct {
		name string
		doc  map[string]any
		req  Request
		want Decision
	}{
		{"trust: named principal with MFA", trust, Request{Principal: lead, Action: "sts:AssumeRole", Context: map[string]string{"aws:MultiFactorAuthPresent": "true"}}, Allow},
		{"trust: action is case-insensitive", trust, Request{Principal: lead, Action: "STS:assumerole", Context: map[string]string{"aws:MultiFactorAuthPresent": "true"}}, Allow},
		{"trust: MFA key absent", trust, Request{Principal: lead, Action: "sts:AssumeRole"}, ImplicitDeny},
		{"trust: MFA false", trust, Request{Principal: lead, Action: "sts:AssumeRole", Context: map[string]string{"aws:MultiFactorAuthPresent": "false"}}, ImplicitDeny},
		{"trust: other role", trust, Request{Principal: "arn:aws:iam::111122223333:role/Other", Action: "sts:AssumeRole", Context: map[string]string{"aws:MultiFactorAuthPresent": "true"}}, ImplicitDeny},
		{"trust: same name in another account", trust, Request{Principal: "arn:aws:iam::444455556666:role/Lead", Action: "sts:AssumeRole", Context: map[string]string{"aws:MultiFactorAuthPresent": "true"}}, ImplicitDeny},
		{"trust: a resource is no trust request", trust, Request{Principal: lead, Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/x", Context: map[string]string{"aws:MultiFactorAuthPresent": "true"}}, ImplicitDeny},
		{"bucket: listed account, own prefix", bucket, put("444455556666", "AWSLogs/444455556666/CloudTrail/x.json.gz", nil), Allow},
		{"bucket: listed account, another's prefix", bucket, put("444455556666", "AWSLogs/111122223333/CloudTrail/x.json.gz", nil), ImplicitDeny},
		{"bucket: unlisted account, own prefix", bucket, put("777788889999", "AWSLogs/777788889999/CloudTrail/x.json.gz", nil), ImplicitDeny},
		{"bucket: source ARN of another account", bucket, put("444455556666", "AWSLogs/444455556666/x", map[string]string{"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}), ImplicitDeny},
		{"bucket: a wildcard in the value is literal", bucket, put("*", "AWSLogs/444455556666/x", nil), ImplicitDeny},
		{"bucket: other service", bucket, Request{Principal: "delivery.logs.amazonaws.com", Action: "s3:PutObject", Resource: "arn:aws:s3:::logs/AWSLogs/111122223333/x", Context: map[string]string{"aws:SourceAccount": "111122223333", "aws:SecureTransport": "true"}}, ImplicitDeny},
		{"bucket: explicit deny wins", bucket, put("444455556666", "AWSLogs/444455556666/x", map[string]string{"aws:SecureTransport": "false"}), ExplicitDeny},
		{"key: another listed account", key, generate("444455556666"), Allow},
		{"key: this account, excluded", key, generate("111122223333"), ImplicitDeny},
		{"key: unlisted account", key, generate("777788889999"), ImplicitDeny},
		{"key: no source account: the negated operator holds, the other not", key, Request{Principal: "delivery.logs.amazonaws.com", Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:111122223333:key/k"}, ImplicitDeny},
		{"key: negated operator alone holds without its key", notOwn, Request{Principal: "delivery.logs.amazonaws.com", Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:111122223333:key/k"}, Allow},
	}
	for _, c := range cases {
		got, err := Evaluate(c.doc, c.req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEvaluateRefusesWhatItDoesNotImplement(t *testing.T) {
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringNotLike":{"aws:SourceAccount":"1"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}}]}`,
		`{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"*"}]}`,
	} {
		if _, err := Evaluate(decode(t, doc), Request{Principal: "arn:aws:iam::111122223333:user/u", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: map[string]string{"aws:SourceAccount": "1", "aws:MultiFactorAuthPresent": "true"}}); err == nil {
			t.Errorf("no error for %s", doc)
		}
	}
}

func TestResolverEvaluatesConditionsAndFunctions(t *testing.T) {
	tmpl := decode(t, `{
		"Parameters":{"Accounts":{"Type":"String","Default":""},"Mfa":{"Type":"String","Default":"false"}},
		"Conditions":{"NoAccounts":{"Fn::Equals":[{"Ref":"Accounts"},""]},"Mfa":{"Fn::Equals":[{"Ref":"Mfa"},"true"]},"Both":{"Fn::And":[{"Condition":"Mfa"},{"Fn::Not":[{"Condition":"NoAccounts"}]}]}},
		"Resources":{"Logs":{"Type":"AWS::S3::Bucket"},"Named":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"Responder"}},"Unnamed":{"Type":"AWS::IAM::Role"},
			"Key":{"Type":"AWS::KMS::Key"},"Group":{"Type":"AWS::Logs::LogGroup","Properties":{"LogGroupName":"/trail"}},"Topic":{"Type":"AWS::SNS::Topic"}},
		"Doc":{
			"accounts":{"Fn::Split":[",",{"Fn::If":["NoAccounts",{"Ref":"AWS::AccountId"},{"Ref":"Accounts"}]}]},
			"resource":{"Fn::Sub":["${Arn}/AWSLogs/${!aws:SourceAccount}/*",{"Arn":{"Fn::GetAtt":["Logs","Arn"]}}]},
			"joined":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]},
			"optional":{"Fn::If":["Mfa",{"Bool":"true"},{"Ref":"AWS::NoValue"}]},
			"first":{"Fn::Select":[0,{"Fn::Split":[",","a,b"]}]},
			"arns":[{"Fn::GetAtt":["Named","Arn"]},{"Fn::GetAtt":["Unnamed","Arn"]},{"Fn::GetAtt":["Key","Arn"]},{"Fn::GetAtt":["Group","Arn"]},{"Fn::GetAtt":["Topic","TopicArn"]}]
		}}`)
	const arns = `["arn:aws:iam::111122223333:role/Responder","arn:aws:iam::111122223333:role/unnamed","arn:aws:kms:us-east-1:111122223333:key/key","arn:aws:logs:us-east-1:111122223333:log-group:/trail:*","Topic.TopicArn"]`
	cases := []struct {
		params map[string]string
		want   string
	}{
		{nil, `{"accounts":["111122223333"],"arns":` + arns + `,"first":"a","joined":"arn:aws:iam::111122223333:root","resource":"arn:aws:s3:::logs/AWSLogs/${aws:SourceAccount}/*"}`},
		{map[string]string{"Accounts": "444455556666,777788889999", "Mfa": "true"}, `{"accounts":["444455556666","777788889999"],"arns":` + arns + `,"first":"a","joined":"arn:aws:iam::111122223333:root","optional":{"Bool":"true"},"resource":"arn:aws:s3:::logs/AWSLogs/${aws:SourceAccount}/*"}`},
	}
	for _, c := range cases {
		r, err := NewResolver(tmpl, Deployment{Parameters: c.params})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Resolve(tmpl["Doc"])
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(got)
		if string(raw) != c.want {
			t.Errorf("parameters %v:\n got %s\nwant %s", c.params, raw, c.want)
		}
		both, _ := r.Condition("Both")
		if both != (c.params != nil) {
			t.Errorf("parameters %v: condition Both is %v", c.params, both)
		}
	}
	if _, err := NewResolver(tmpl, Deployment{Parameters: map[string]string{"Typo": "x"}}); err == nil || !strings.Contains(err.Error(), "Typo") {
		t.Errorf("an undeclared parameter gave %v", err)
	}
}
