package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

// BenchmarkSynthWorkshopApp measures a warm synth of the whole app (both
// stacks, cdk-nag included) and its YAML rendering. Compare it with
// BenchmarkSynthEmptyStackFloor: the same jsii runtime and Node synthesizing
// a one-resource stack, the least any synth here can cost.
func BenchmarkSynthWorkshopApp(b *testing.B) {
	ctx, err := workshop.ProjectContext(root)
	if err != nil {
		b.Fatal(err)
	}
	synthOnceFor(b, func() {
		app, err := workshop.NewApp(&workshop.AppProps{Context: ctx, Root: root})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := app.SynthYAML(); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkSynthEmptyStackFloor is the floor: an app with one stack holding
// one queue (CloudFormation needs a resource), synthesized the same way.
func BenchmarkSynthEmptyStackFloor(b *testing.B) {
	synthOnceFor(b, func() {
		app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
		stack := awscdk.NewStack(app, jsii.String("Floor"), nil)
		awssqs.NewQueue(stack, jsii.String("Queue"), nil)
		app.Synth(nil)
	})
}

// synthOnceFor warms jsii up with one untimed run, then times b.N runs.
func synthOnceFor(b *testing.B, synth func()) {
	synth()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		synth()
	}
}
