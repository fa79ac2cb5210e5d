// Package workshop assembles the incident response workshop: the CDK app, its
// context settings, WorkshopStack and the optional SimulationStack, and the
// console-ready YAML templates written next to the cloud assembly.
//
// The stacks are thin: they compose the L3 constructs of the sibling packages
// and declare parameters and outputs. workshop.go (package main) and the tests
// in test/ both build the app through NewApp, so tests exercise the real stacks.
package workshop

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Names of the two stacks. Playbooks, scripts and users refer to them.
const (
	WorkshopStackName   = "WorkshopStack"
	SimulationStackName = "SimulationStack"
)

// ContextSimulation is the context key the app reads, with
// `cdk -c simulation=false` or in cdk.json.
const ContextSimulation = "simulation"

// removedSettings are context settings the app no longer reads, with what
// took their place.
var removedSettings = map[string]string{
	"natGateways": "the NAT gateway count is WorkshopStack's NatGateways parameter now: " +
		"cdk deploy WorkshopStack --parameters NatGateways=0, or the console's parameter page",
}

// Config holds the app's context settings after validation.
type Config struct {
	// Simulation includes SimulationStack. Default true.
	Simulation bool
}

// DefaultConfig is what the app builds when no context setting is given.
func DefaultConfig() Config {
	return Config{Simulation: true}
}

// settingHelp lists every context setting the app knows with its allowed
// values, for error messages.
var settingHelp = map[string]string{
	ContextSimulation: "true or false",
}

// ConfigFromContext validates the app's context settings. ctx is the whole
// context the CDK app sees (feature flags and CLI settings included); keys
// that CDK itself owns (with a ':' or '/' in them, or starting with '@') are
// ignored, any other unknown key is reported as a likely typo.
func ConfigFromContext(ctx map[string]any) (Config, error) {
	cfg := DefaultConfig()
	var problems []string
	for key, value := range ctx {
		switch key {
		case ContextSimulation:
			b, err := parseBool(value)
			if err != nil {
				problems = append(problems, badValue(key, value))
				continue
			}
			cfg.Simulation = b
		default:
			if instead, removed := removedSettings[key]; removed {
				problems = append(problems, fmt.Sprintf("context setting %s was removed: %s", key, instead))
				continue
			}
			if strings.ContainsAny(key, ":/@") {
				continue
			}
			problems = append(problems, fmt.Sprintf("unknown context setting %q; known settings: %s", key, knownSettings()))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Config{}, fmt.Errorf("invalid context: %s", strings.Join(problems, "; "))
	}
	return cfg, nil
}

// Context renders cfg as context values, the way `cdk -c` passes them.
func (c Config) Context() map[string]any {
	return map[string]any{
		ContextSimulation: strconv.FormatBool(c.Simulation),
	}
}

func badValue(key string, value any) string {
	return fmt.Sprintf("context setting %s=%v is not valid; allowed values: %s", key, value, settingHelp[key])
}

func knownSettings() string {
	keys := make([]string, 0, len(settingHelp))
	for k := range settingHelp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("not a boolean: %v", v)
}
