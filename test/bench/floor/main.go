// Command floor is the synth floor that `make bench` compares the workshop
// app with: a CDK app with one stack holding one queue (CloudFormation needs
// a resource), run the way the CDK CLI runs the app (CDK_OUTDIR,
// CDK_CONTEXT_JSON) on the same jsii runtime, Node.js and Node.js options
// (projectnode.Use, as the app). Whatever the app takes beyond it is the
// app's own work.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/internal/projectnode"
)

func main() {
	projectnode.Use(".")
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Floor"), nil)
	awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	app.Synth(nil)
}
