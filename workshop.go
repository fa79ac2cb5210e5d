// Command workshop is the CDK app of the incident response workshop. The CDK
// CLI runs it (see cdk.json); it synthesizes WorkshopStack and, unless
// `-c simulation=false`, SimulationStack, and writes each template as
// NAME.yaml into the cloud assembly folder for console deployment. Run
// without the CLI (`go run .`), it reads cdk.json itself and writes cdk.out/.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/workshop"
)

func main() {
	os.Exit(run())
}

func run() int {
	workshop.UseProjectNode(".")
	defer jsii.Close()
	props := &workshop.AppProps{}
	if os.Getenv("CDK_OUTDIR") == "" {
		// Not run by the CDK CLI: read cdk.json's feature flags ourselves and
		// write where `cdk synth` would.
		ctx, err := workshop.ProjectContext(".")
		if err != nil {
			fmt.Fprintln(os.Stderr, "workshop:", err)
			return 1
		}
		props.Context, props.Outdir = ctx, "cdk.out"
	}
	app, err := workshop.NewApp(props)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workshop:", err)
		return 2
	}
	if _, err := app.WriteYAML(); err != nil {
		fmt.Fprintln(os.Stderr, "workshop:", err)
		return 1
	}
	return 0
}
