package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"go.yaml.in/yaml/v3"

	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

func TestConfigFromContextAcceptsCLIAndJSONValues(t *testing.T) {
	cases := []struct {
		name string
		ctx  map[string]any
		want workshop.Config
	}{
		{"defaults", nil, workshop.Config{Simulation: true, NatGateways: 1}},
		{"cli strings", map[string]any{"simulation": "false", "natGateways": "0"}, workshop.Config{Simulation: false, NatGateways: 0}},
		{"cdk.json values", map[string]any{"simulation": true, "natGateways": float64(2)}, workshop.Config{Simulation: true, NatGateways: 2}},
		{"CDK's own keys ignored", map[string]any{"@aws-cdk/core:checkSecretUsage": true, "aws:cdk:enable-path-metadata": false, "availability-zones:account=1:region=r": []any{}}, workshop.DefaultConfig()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := workshop.ConfigFromContext(tc.ctx)
			if err != nil {
				t.Fatalf("ConfigFromContext(%v): %v", tc.ctx, err)
			}
			if got != tc.want {
				t.Errorf("ConfigFromContext(%v) = %+v, want %+v", tc.ctx, got, tc.want)
			}
		})
	}
}

func TestConfigFromContextNamesTheSettingAndItsAllowedValues(t *testing.T) {
	cases := []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"not a boolean", map[string]any{"simulation": "maybe"}, []string{"simulation=maybe", "true or false"}},
		{"too many NAT gateways", map[string]any{"natGateways": "3"}, []string{"natGateways=3", "from 0 to 2"}},
		{"negative NAT gateways", map[string]any{"natGateways": "-1"}, []string{"natGateways=-1", "from 0 to 2"}},
		{"fractional NAT gateways", map[string]any{"natGateways": 1.5}, []string{"natGateways=1.5"}},
		{"mistyped key", map[string]any{"simlation": "false"}, []string{`"simlation"`, "natGateways, simulation"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workshop.ConfigFromContext(tc.ctx)
			if err == nil {
				t.Fatalf("ConfigFromContext(%v) accepted bad input", tc.ctx)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAppBuildsBothStacksAndSimulationFalseLeavesOneOut(t *testing.T) {
	s := synthApp(t)
	if got := s.app.StackNames(); !reflect.DeepEqual(got, []string{"WorkshopStack", "SimulationStack"}) {
		t.Fatalf("default app stacks = %v", got)
	}
	ctx, err := workshop.ProjectContext(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx["simulation"] = "false"
	app, err := workshop.NewApp(&workshop.AppProps{Context: ctx, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if app.Simulation != nil || app.Node().TryFindChild(jsii.String("SimulationStack")) != nil {
		t.Errorf("simulation=false still defines SimulationStack")
	}
	if got := app.StackNames(); !reflect.DeepEqual(got, []string{"WorkshopStack"}) {
		t.Errorf("simulation=false stacks = %v", got)
	}
}

// TestTemplatesDeployWithoutBootstrap pins what lets a console user upload the
// template into an account that was never bootstrapped.
func TestTemplatesDeployWithoutBootstrap(t *testing.T) {
	s := synthApp(t)
	for name, tmpl := range s.json {
		t.Run(name, func(t *testing.T) {
			if params, ok := tmpl["Parameters"].(map[string]any); ok {
				if _, ok := params["BootstrapVersion"]; ok {
					t.Error("template has a BootstrapVersion parameter")
				}
			}
			if _, ok := tmpl["Rules"]; ok {
				t.Error("template has Rules (the bootstrap version check)")
			}
			resources, _ := tmpl["Resources"].(map[string]any)
			if len(resources) == 0 {
				t.Fatal("template has no resources")
			}
			for id, r := range resources {
				res := r.(map[string]any)
				if res["Type"] == "AWS::CDK::Metadata" {
					t.Errorf("resource %s is CDKMetadata", id)
				}
				if md, ok := res["Metadata"].(map[string]any); ok {
					for k := range md {
						if strings.HasPrefix(k, "aws:cdk:") || strings.HasPrefix(k, "aws:asset:") {
							t.Errorf("resource %s carries metadata %s", id, k)
						}
					}
				}
			}
			text := string(s.yaml[name])
			for _, bad := range []string{"cdk-hnb659fds", "AssetParameters", "BootstrapVersion", "CDKMetadata", "aws:cdk:path", "cdk-bootstrap"} {
				if strings.Contains(text, bad) {
					t.Errorf("YAML template mentions %q", bad)
				}
			}
		})
	}
}

func TestTemplateYAMLMeansWhatTheJSONMeans(t *testing.T) {
	s := synthApp(t)
	for name, want := range s.json {
		t.Run(name, func(t *testing.T) {
			var got map[string]any
			if err := yaml.Unmarshal(s.yaml[name], &got); err != nil {
				t.Fatalf("YAML does not parse: %v", err)
			}
			// Round-trip both through JSON so numbers compare alike.
			if !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
				t.Errorf("YAML template differs from the synthesized JSON")
			}
		})
	}
	tricky := []byte(`{"a":"yes","b":"Off","c":"1:30","d":"2012-10-17","e":"true","f":"010","g":"line\nbreak\n","h":true,"i":3}`)
	first, err := workshop.TemplateYAML(tricky)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := workshop.TemplateYAML(tricky)
	if !bytes.Equal(first, second) {
		t.Error("TemplateYAML is not deterministic")
	}
	var back map[string]any
	if err := yaml.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		if _, ok := back[k].(string); !ok {
			t.Errorf("key %s: string came back as %T", k, back[k])
		}
	}
	for _, word := range []string{`a: "yes"`, `b: "Off"`, `c: "1:30"`} {
		if !strings.Contains(string(first), word) {
			t.Errorf("YAML 1.1 look-alike not quoted: want %s in\n%s", word, first)
		}
	}
}

func normalize(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommittedTemplatesMatchSynth is the drift check: the YAML committed in
// cdk.out/ must be byte for byte what the app synthesizes now.
func TestCommittedTemplatesMatchSynth(t *testing.T) {
	s := synthApp(t)
	for name, fresh := range s.yaml {
		path := filepath.Join(root, "cdk.out", name+".yaml")
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("reading %s: %v (run make synth and commit it)", path, err)
			continue
		}
		if !bytes.Equal(committed, fresh) {
			t.Errorf("%s differs from a fresh synth: run `make synth` and commit the result", path)
		}
	}
}

// TestNagFindsNothingUnsuppressed runs the cdk-nag AWS Solutions pack's
// verdicts: every finding is fixed or suppressed with a reason.
func TestNagFindsNothingUnsuppressed(t *testing.T) {
	s := synthApp(t)
	checked := 0
	for name, messages := range s.messages {
		for _, m := range messages {
			data := fmt.Sprint(m.Entry.Data)
			if !strings.HasPrefix(data, "AwsSolutions-") {
				continue
			}
			checked++
			if m.Level == cxapi.SynthesisMessageLevel_ERROR || m.Level == cxapi.SynthesisMessageLevel_WARNING {
				t.Errorf("%s: unsuppressed cdk-nag finding at %s: %s", name, *m.Id, data)
			}
		}
	}
	t.Logf("%d cdk-nag messages, none an error or a warning", checked)
}

// TestNagChecksReportFindings shows the checks are live and that findings
// reach the assembly's messages, where TestNagFindsNothingUnsuppressed looks:
// a bare bucket in a scratch app draws the errors the workshop's buckets avoid.
func TestNagChecksReportFindings(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Scratch"), nil)
	awss3.NewBucket(stack, jsii.String("Bare"), nil)
	workshop.AddNagChecks(app)
	messages := app.Synth(nil).GetStackArtifact(stack.ArtifactId()).Messages()
	found := map[string]bool{}
	for _, m := range *messages {
		if m.Level == cxapi.SynthesisMessageLevel_ERROR {
			found[strings.SplitN(fmt.Sprint(m.Entry.Data), ":", 2)[0]] = true
		}
	}
	for _, rule := range []string{"AwsSolutions-S1", "AwsSolutions-S10"} {
		if !found[rule] {
			t.Errorf("cdk-nag did not report %s on a bare bucket; errors: %v", rule, found)
		}
	}
}
