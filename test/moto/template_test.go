package moto

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// decode turns a JSON literal into the plain values ReadTemplate returns.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test template: %v", err)
	}
	return m
}

func TestAdaptForMotoRemovesUnmodeledResourcesAndWhatRefersToThem(t *testing.T) {
	template := decode(t, `{
	  "Conditions": {"Always": {"Fn::Equals": ["a", "a"]}},
	  "Resources": {
	    "Bucket": {"Type": "AWS::S3::Bucket"},
	    "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}}},
	    "Trail": {"Type": "AWS::CloudTrail::Trail", "DependsOn": "BucketPolicy"},
	    "FlowLog": {"Type": "AWS::EC2::FlowLog", "DependsOn": "BucketPolicy",
	      "Properties": {"LogDestination": {"Fn::GetAtt": ["Bucket", "Arn"]}}},
	    "Role": {"Type": "AWS::IAM::Role", "DependsOn": ["Bucket", "Trail"],
	      "Properties": {"Policies": [{"Resource": [
	        {"Fn::GetAtt": ["Trail", "Arn"]},
	        {"Fn::Join": ["", [{"Ref": "Trail"}, "/*"]]},
	        {"Fn::Sub": "${Trail.Arn}/${Bucket}/${!Trail}"}
	      ]}]}}
	  },
	  "Outputs": {
	    "BucketName": {"Value": {"Ref": "Bucket"}},
	    "TrailArn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}},
	    "TrailArnDotted": {"Value": {"Fn::GetAtt": "Trail.Arn"}},
	    "TrailJoined": {"Value": {"Fn::Join": ["-", ["x", {"Ref": "Trail"}]]}},
	    "TrailSub": {"Value": {"Fn::Sub": "trail ${Trail}"}},
	    "Literal": {"Value": {"Fn::Sub": "${!Trail}"}},
	    "Shadowed": {"Value": {"Fn::Sub": ["${Trail}", {"Trail": "not the resource"}]}},
	    "PolicyRef": {"Value": {"Ref": "BucketPolicy"}, "Export": {"Name": "x"}}
	  }
	}`)

	removed := AdaptForMoto(template)

	wantRemoved := []string{
		"resource BucketPolicy (AWS::S3::BucketPolicy)",
		"resource Trail (AWS::CloudTrail::Trail)",
		"output PolicyRef (refers to BucketPolicy)",
		"output TrailArn (refers to Trail)",
		"output TrailArnDotted (refers to Trail)",
		"output TrailJoined (refers to Trail)",
		"output TrailSub (refers to Trail)",
		"DependsOn BucketPolicy of resource FlowLog",
		"DependsOn Trail of resource Role",
		`reference to Trail in resource Role (now "moto-removed-Trail")`,
	}
	if !reflect.DeepEqual(removed, wantRemoved) {
		t.Errorf("removed:\n  %s\nwant:\n  %s", strings.Join(removed, "\n  "), strings.Join(wantRemoved, "\n  "))
	}

	want := decode(t, `{
	  "Conditions": {"Always": {"Fn::Equals": ["a", "a"]}},
	  "Resources": {
	    "Bucket": {"Type": "AWS::S3::Bucket"},
	    "FlowLog": {"Type": "AWS::EC2::FlowLog",
	      "Properties": {"LogDestination": {"Fn::GetAtt": ["Bucket", "Arn"]}}},
	    "Role": {"Type": "AWS::IAM::Role", "DependsOn": ["Bucket"],
	      "Properties": {"Policies": [{"Resource": [
	        "moto-removed-Trail",
	        {"Fn::Join": ["", ["moto-removed-Trail", "/*"]]},
	        {"Fn::Sub": "moto-removed-Trail/${Bucket}/${!Trail}"}
	      ]}]}}
	  },
	  "Outputs": {
	    "BucketName": {"Value": {"Ref": "Bucket"}},
	    "Literal": {"Value": {"Fn::Sub": "${!Trail}"}},
	    "Shadowed": {"Value": {"Fn::Sub": ["${Trail}", {"Trail": "not the resource"}]}}
	  }
	}`)
	if !reflect.DeepEqual(template, want) {
		got, _ := json.MarshalIndent(template, "", "  ")
		t.Errorf("adapted template:\n%s", got)
	}
}

func TestAdaptForMotoLeavesModeledTemplatesAlone(t *testing.T) {
	const source = `{
	  "Resources": {
	    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "192.168.0.0/16"}},
	    "Subnet": {"Type": "AWS::EC2::Subnet", "DependsOn": "Vpc", "Properties": {"VpcId": {"Ref": "Vpc"}}}
	  },
	  "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}}
	}`
	template := decode(t, source)
	if removed := AdaptForMoto(template); len(removed) != 0 {
		t.Errorf("removed %q from a template moto models entirely", removed)
	}
	if want := decode(t, source); !reflect.DeepEqual(template, want) {
		t.Errorf("template changed: %v", template)
	}
}

// TestAdaptedProjectTemplatesHaveNoDanglingReferences adapts the committed
// templates and checks that what is left refers only to what is left.
func TestAdaptedProjectTemplatesHaveNoDanglingReferences(t *testing.T) {
	paths, _ := filepath.Glob("../../cdk.out/*.yaml")
	if len(paths) == 0 {
		t.Fatal("no templates in ../../cdk.out")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			template, err := ReadTemplate(path)
			if err != nil {
				t.Fatal(err)
			}
			AdaptForMoto(template)
			resources, _ := template["Resources"].(map[string]any)
			parameters, _ := template["Parameters"].(map[string]any)
			for id, res := range resources {
				if typ := resourceType(res); UnmodeledTypes[typ] != "" {
					t.Errorf("resource %s of unmodeled type %s kept", id, typ)
				}
			}
			known := func(name string) bool {
				_, isResource := resources[name]
				_, isParameter := parameters[name]
				return isResource || isParameter || strings.HasPrefix(name, "AWS::")
			}
			for _, section := range []string{"Resources", "Outputs"} {
				for _, name := range referencedNames(template[section]) {
					if !known(name) {
						t.Errorf("%s refer to %s, which the adapted template lacks", section, name)
					}
				}
			}
		})
	}
}

// referencedNames lists the names that Ref, Fn::GetAtt and Fn::Sub in v read.
func referencedNames(v any) []string {
	var names []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if id, ok := v["Ref"].(string); ok && len(v) == 1 {
				names = append(names, id)
			}
			if att, ok := v["Fn::GetAtt"]; ok && len(v) == 1 {
				names = append(names, getAttResource(att))
			}
			if sub, ok := v["Fn::Sub"]; ok && len(v) == 1 {
				text, _ := sub.(string)
				vars := map[string]any{}
				if list, ok := sub.([]any); ok && len(list) == 2 {
					text, _ = list[0].(string)
					vars, _ = list[1].(map[string]any)
				}
				for _, m := range subVariable.FindAllStringSubmatch(text, -1) {
					if _, shadowed := vars[m[1]]; !shadowed {
						id, _, _ := strings.Cut(m[1], ".")
						names = append(names, id)
					}
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	slices.Sort(names)
	return slices.Compact(names)
}

func TestReadTemplate(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    map[string]any
		wantErr string
	}{
		{
			name: "keeps scalar types and dates as strings",
			yaml: "A: 2026-01-01\nB: 2026/01/01\nC: 60\nD: true\nE: \"22\"\nF: 1.5\nG:\n",
			want: map[string]any{"A": "2026-01-01", "B": "2026/01/01", "C": 60, "D": true, "E": "22", "F": 1.5, "G": nil},
		},
		{
			name: "reads the long form of intrinsic functions",
			yaml: "Value:\n  Fn::GetAtt:\n    - Bucket\n    - Arn\n",
			want: map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}},
		},
		{
			name:    "rejects short-form intrinsic functions",
			yaml:    "Value: !Ref Bucket\n",
			wantErr: "short-form intrinsic functions are not supported",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadTemplate(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
