package test

import (
	"testing"
)

func TestAuditTrailIsMultiRegionValidatedAndSkipsItsOwnBuckets(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	logBucket, accessLogs := archiveIDs(t, tmpl)
	_, trail := only(t, tmpl, "AWS::CloudTrail::Trail")
	p := props(trail)
	for _, flag := range []string{"IsMultiRegionTrail", "EnableLogFileValidation", "IncludeGlobalServiceEvents", "IsLogging"} {
		if p[flag] != true {
			t.Errorf("%s is %v, want true", flag, p[flag])
		}
	}
	if !equalJSON(p["S3BucketName"], ref(logBucket)) {
		t.Errorf("trail delivers to %s, want the log bucket", compact(p["S3BucketName"]))
	}
	if _, ok := p["EventSelectors"]; ok {
		t.Error("trail has EventSelectors as well as AdvancedEventSelectors; CloudFormation rejects both together")
	}
	selectors := at(t, p, "AdvancedEventSelectors").([]any)
	var management, data bool
	for _, sel := range selectors {
		fields := map[string]map[string]any{}
		for _, f := range at(t, sel, "FieldSelectors").([]any) {
			fm := f.(map[string]any)
			fields[fm["Field"].(string)] = fm
		}
		switch {
		case equalJSON(fields["eventCategory"]["Equals"], []string{"Management"}):
			management = len(fields) == 1 // all management events, read and write
		case equalJSON(fields["eventCategory"]["Equals"], []string{"Data"}):
			data = equalJSON(fields["resources.type"]["Equals"], []string{"AWS::S3::Object"})
			excluded := fields["resources.ARN"]["NotStartsWith"]
			for _, id := range []string{logBucket, accessLogs} {
				want := map[string]any{"Fn::Sub": []any{"${Arn}/", map[string]any{"Arn": getAtt(id, "Arn")}}}
				found := false
				for _, e := range excluded.([]any) {
					found = found || equalJSON(e, want)
				}
				if !found {
					t.Errorf("S3 data events of bucket %s are recorded: a feedback loop of log writes", id)
				}
			}
		}
	}
	if !management || !data {
		t.Errorf("want a selector for all management events and one for S3 object data events: %s", compact(selectors))
	}
}

func TestAuditTrailWaitsForTheDeliveryPolicy(t *testing.T) {
	tmpl := synthApp(t).json["WorkshopStack"]
	_, trail := only(t, tmpl, "AWS::CloudTrail::Trail")
	var policyIDs []string
	for id := range resources(tmpl, "AWS::S3::BucketPolicy") {
		policyIDs = append(policyIDs, id)
	}
	deps, _ := trail["DependsOn"].([]any)
	found := false
	for _, d := range deps {
		for _, id := range policyIDs {
			found = found || d == id
		}
	}
	if !found {
		t.Errorf("the trail does not depend on a bucket policy (DependsOn %v); CloudTrail checks write access on creation", deps)
	}
}
