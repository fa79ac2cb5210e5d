package workshop

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/ir-workshop/incident-response-playbooks/constructs/analytics"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
)

// AppProps configures NewApp.
type AppProps struct {
	// Context is context with the lowest precedence: the CDK CLI's context
	// (cdk.json, cdk.context.json, -c) overrides it. Tests pass cdk.json's
	// context here, since they run without the CLI.
	Context map[string]any
	// Root is the project root, where playbooks/ is. Default ".": the CDK
	// CLI runs the app from there.
	Root string
	// Outdir is the cloud assembly folder. Default: CDK_OUTDIR when the CLI
	// runs the app, a temporary folder otherwise.
	Outdir string
}

// App is the workshop's CDK app with its stacks.
type App struct {
	awscdk.App
	// Config is the validated context.
	Config Config
	// Workshop is WorkshopStack.
	Workshop *WorkshopStack
	// Simulation is SimulationStack, nil when Config.Simulation is false.
	Simulation *SimulationStack
}

// NewApp builds the app: it validates the context settings, creates
// WorkshopStack and (unless disabled) SimulationStack, and runs the cdk-nag
// checks (AddNagChecks) on both.
//
// The synthesis is configured for console deployment: no BootstrapVersion
// parameter or rule, no CDKMetadata resource, no aws:cdk:path metadata, and no
// assets, so the templates deploy in an account that was never bootstrapped.
func NewApp(props *AppProps) (*App, error) {
	if props == nil {
		props = &AppProps{}
	}
	ctx := map[string]any{}
	for k, v := range props.Context {
		ctx[k] = v
	}
	appProps := &awscdk.AppProps{
		Context: &ctx,
		// These win over the CLI's own defaults (it turns path metadata on).
		PostCliContext: &map[string]any{
			"aws:cdk:enable-path-metadata":  false,
			"aws:cdk:enable-asset-metadata": false,
			"aws:cdk:version-reporting":     false,
		},
		AnalyticsReporting: jsii.Bool(false),
		TreeMetadata:       jsii.Bool(false),
	}
	if props.Outdir != "" {
		appProps.Outdir = jsii.String(props.Outdir)
	}
	cdkApp := awscdk.NewApp(appProps)

	all, _ := cdkApp.Node().GetAllContext(nil).(map[string]any)
	cfg, err := ConfigFromContext(all)
	if err != nil {
		return nil, err
	}
	app := &App{App: cdkApp, Config: cfg}
	root := props.Root
	if root == "" {
		root = "."
	}
	files, err := playbook.Queries(root)
	if err != nil {
		return nil, err
	}
	queries := make([]analytics.NamedQuery, len(files))
	for i, q := range files {
		queries[i] = analytics.NamedQuery{Name: q.Playbook + "/" + q.Name, Description: q.Description(), SQL: q.SQL}
	}

	triggers, err := playbook.Triggers(root)
	if err != nil {
		return nil, err
	}

	app.Workshop = NewWorkshopStack(cdkApp, WorkshopStackName, &WorkshopStackProps{
		StackProps:  stackProps("Incident response workshop: central logs, a VPC with an instance to attack, Athena over CloudTrail, VPC Flow and DNS logs, the responders' IAM roles, and GuardDuty alerts that name the playbook to open."),
		Queries:     queries,
		AlertRoutes: AlertRoutes(triggers),
	})
	if cfg.Simulation {
		app.Simulation = NewSimulationStack(cdkApp, SimulationStackName, &SimulationStackProps{
			StackProps: stackProps("Incident response workshop: IAM users whose access keys the threat simulations act with. Sandbox accounts only."),
		})
	}

	AddNagChecks(cdkApp)
	return app, nil
}

// AddNagChecks runs two cdk-nag rule packs on every stack under scope: AWS
// Solutions, and NIST SP 800-53 rev 5, the controls auditors of the
// evidence check. Findings become error and warning annotations: `cdk synth`
// fails on them, and tests read them with assertions.Annotations. A finding
// the workshop accepts is suppressed, with its reason, in the construct that
// raises it; a deliberate weakness with package weakness.
func AddNagChecks(scope constructs.IConstruct) {
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(false)}
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(props), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewNIST80053R5Checks(props), nil)
}

func stackProps(description string) awscdk.StackProps {
	return awscdk.StackProps{
		Description: jsii.String(description),
		Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{
			GenerateBootstrapVersionRule: jsii.Bool(false),
		}),
		AnalyticsReporting: jsii.Bool(false),
	}
}

// StackNames lists the stacks the app defines, in deployment order.
func (a *App) StackNames() []string {
	names := []string{WorkshopStackName}
	if a.Simulation != nil {
		names = append(names, SimulationStackName)
	}
	return names
}

// Stack returns the stack called name, or nil when the app does not define it.
func (a *App) Stack(name string) awscdk.Stack {
	switch {
	case name == WorkshopStackName:
		return a.Workshop.Stack
	case name == SimulationStackName && a.Simulation != nil:
		return a.Simulation.Stack
	}
	return nil
}

// SynthYAML synthesizes the app and returns each stack's template as YAML,
// keyed by stack name.
func (a *App) SynthYAML() (map[string][]byte, error) {
	assembly := a.Synth(nil)
	out := make(map[string][]byte, 2)
	for _, name := range a.StackNames() {
		path := filepath.Join(*assembly.Directory(), name+".template.json")
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading synthesized template of %s: %w", name, err)
		}
		y, err := TemplateYAML(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = y
	}
	return out, nil
}

// WriteYAML synthesizes the app and writes NAME.yaml for each stack into the
// cloud assembly folder, next to the JSON templates. It returns the paths.
func (a *App) WriteYAML() ([]string, error) {
	templates, err := a.SynthYAML()
	if err != nil {
		return nil, err
	}
	dir := *a.Outdir()
	var paths []string
	for _, name := range a.StackNames() {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, templates[name], 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
