package test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"go.yaml.in/yaml/v3"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

func TestConfigFromContextAcceptsCLIAndJSONValues(t *testing.T) {
	cases := []struct {
		name string
		ctx  map[string]any
		want workshop.Config
	}{
		{"defaults", nil, workshop.Config{Simulation: true}},
		{"cli strings", map[string]any{"simulation": "false"}, workshop.Config{Simulation: false}},
		{"cdk.json values", map[string]any{"simulation": true}, workshop.Config{Simulation: true}},
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
		// One source of truth: the NAT gateway count is a template
		// parameter, and the old setting says where it went.
		{"removed NAT gateway setting", map[string]any{"natGateways": "0"}, []string{"natGateways was removed", "NatGateways parameter", "--parameters NatGateways=0"}},
		{"mistyped key", map[string]any{"simlation": "false"}, []string{`"simlation"`, "known settings: simulation"}},
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

// TestNagStopsTheAppOnANonCompliantResource shows the cdk-nag checks of both
// packs live on the path the app takes: a stack with a bare bucket, added to
// an app that NewApp builds with cdk.json's settings, stops synthesis, and
// the validation report names rules of the AWS Solutions and of the NIST SP
// 800-53 rev 5 pack, and the resource. Without it,
// TestNagFindsNothingUnsuppressed would pass with either pack switched off.
func TestNagStopsTheAppOnANonCompliantResource(t *testing.T) {
	ctx, err := workshop.ProjectContext(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx[workshop.ContextSimulation] = "false"
	app, err := workshop.NewApp(&workshop.AppProps{Context: ctx, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	canary := awscdk.NewStack(app.App, jsii.String("NagCanary"), nil)
	awss3.NewBucket(canary, jsii.String("Bare"), nil)
	if msg := cdktest.SynthError(canary); !strings.Contains(msg, "Validation failed") {
		t.Fatalf("synthesis with a bare bucket did not fail validation: %q", msg)
	}
	raw, err := os.ReadFile(filepath.Join(*app.Outdir(), "validation-report.json"))
	if err != nil {
		t.Fatalf("reading the validation report: %v", err)
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				Description         string
				ViolatingConstructs []struct{ ConstructPath string }
			}
		}
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatalf("parsing the validation report: %v", err)
	}
	found := map[string]bool{} // "rule at path"
	for _, plugin := range report.PluginReports {
		for _, v := range plugin.Violations {
			rule, _, _ := strings.Cut(v.Description, ":")
			for _, c := range v.ViolatingConstructs {
				found[rule+" at "+c.ConstructPath] = true
			}
		}
	}
	for _, want := range []string{
		"AwsSolutions-S1 at NagCanary/Bare/Resource", "AwsSolutions-S10 at NagCanary/Bare/Resource",
		"NIST.800.53.R5-S3DefaultEncryptionKMS at NagCanary/Bare/Resource", "NIST.800.53.R5-S3BucketReplicationEnabled at NagCanary/Bare/Resource",
	} {
		if !found[want] {
			t.Errorf("the validation report lacks %s; it has %v", want, slices.Sorted(maps.Keys(found)))
		}
	}
	for f := range found {
		if !strings.HasSuffix(f, " at NagCanary/Bare/Resource") {
			t.Errorf("violation outside the canary: %s", f)
		}
	}
}

// TestNagFindsNothingUnsuppressed reads the verdicts of both cdk-nag packs
// on the app's stacks where `cdk synth` reads them, the stacks'
// annotations: every finding is fixed or suppressed with a reason.
func TestNagFindsNothingUnsuppressed(t *testing.T) {
	s := synthApp(t)
	nag := assertions.Match_StringLikeRegexp(jsii.String(`^(AwsSolutions|NIST\.800\.53\.R5)-`))
	for _, name := range s.app.StackNames() {
		cdktest.Assert(t, name+" has no unsuppressed cdk-nag finding", func() {
			found := assertions.Annotations_FromStack(s.app.Stack(name))
			found.HasNoError(jsii.String("*"), nag)
			found.HasNoWarning(jsii.String("*"), nag)
		})
	}
}
