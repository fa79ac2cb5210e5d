// Package test holds the stack-level and whole-app tests of the workshop's
// CDK app; each construct's own tests sit beside it in constructs/NAME. The
// app is synthesized once per test binary (synthApp) and shared by every
// assertion: each synthesis costs seconds through jsii.
package test

import (
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

// root is the project root, relative to this package.
const root = ".."

func TestMain(m *testing.M) {
	// Run jsii on the project's pinned Node.js, as make and the CDK CLI do.
	workshop.UseProjectNode(root)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synthesized is the app as `cdk synth` builds it, with its templates.
type synthesized struct {
	app *workshop.App
	// yaml holds each stack's console template, keyed by stack name.
	yaml map[string][]byte
	// json holds each stack's template decoded into plain Go values.
	json map[string]map[string]any
	// assert holds an assertions.Template for each stack, built from json
	// (assertions.Template_FromStack would synthesize the app again).
	assert map[string]assertions.Template
}

var (
	synthOnce sync.Once
	synthRes  *synthesized
	synthErr  error
)

// synthApp builds and synthesizes the app with cdk.json's context, once.
func synthApp(t testing.TB) *synthesized {
	t.Helper()
	synthOnce.Do(func() {
		synthRes, synthErr = synthesize()
	})
	if synthErr != nil {
		t.Fatalf("synthesizing the app: %v", synthErr)
	}
	return synthRes
}

// synthesize builds the app from cdk.json's context and synthesizes it once.
func synthesize() (*synthesized, error) {
	ctx, err := workshop.ProjectContext(root)
	if err != nil {
		return nil, err
	}
	app, err := workshop.NewApp(&workshop.AppProps{Context: ctx, Root: root})
	if err != nil {
		return nil, err
	}
	y, err := app.SynthYAML()
	if err != nil {
		return nil, err
	}
	assembly := app.Synth(nil) // the cached assembly of SynthYAML
	s := &synthesized{app: app, yaml: y,
		json:   map[string]map[string]any{},
		assert: map[string]assertions.Template{},
	}
	for _, name := range app.StackNames() {
		artifact := assembly.GetStackArtifact(app.Stack(name).ArtifactId())
		raw, err := json.Marshal(artifact.Template())
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		s.json[name] = m
		s.assert[name] = assertions.Template_FromJSON(&m, nil)
	}
	return s, nil
}
