// Package cdktest holds what the tests of this project's constructs share,
// beside each construct and in test/: running on the project's pinned
// Node.js, one small test stack synthesized once per test binary, the logical
// ID of a construct, assertions that fail a test instead of panicking, and
// the message that stops a synthesis.
package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/internal/projectnode"
)

// root is the project root as seen from a construct package's folder,
// constructs/NAME, where go test runs its tests.
const root = "../.."

// Main runs a construct package's tests (call it from TestMain) on the
// project's Node.js, and closes jsii after them.
func Main(m *testing.M) {
	projectnode.Use(root)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// NewStack returns a stack named id in a new app with default settings: what
// a user of a construct starts from.
func NewStack(id string) awscdk.Stack {
	return awscdk.NewStack(awscdk.NewApp(nil), jsii.String(id), nil)
}

// Fixture builds a test stack once per test binary and keeps its template:
// every synthesis costs a second or more through jsii, so the tests of a
// package share one.
type Fixture[T any] struct {
	// Build adds the constructs under test to a fresh stack and returns
	// what the tests inspect.
	Build func(stack awscdk.Stack) T

	once     sync.Once
	stack    awscdk.Stack
	value    T
	template assertions.Template
	err      any
}

// Get builds and synthesizes the stack on first use and returns what Build
// returned, the stack and its template.
func (f *Fixture[T]) Get(t testing.TB) (T, awscdk.Stack, assertions.Template) {
	t.Helper()
	f.once.Do(func() {
		defer func() { f.err = recover() }()
		f.stack = NewStack("Test")
		f.value = f.Build(f.stack)
		f.template = assertions.Template_FromStack(f.stack, nil)
	})
	if f.err != nil {
		t.Fatalf("building the test stack: %v", f.err)
	}
	return f.value, f.stack, f.template
}

// Assert runs calls to the assertions library, which panic when a check
// fails, and turns the first failure into a test error named what.
func Assert(t testing.TB, what string, checks func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	checks()
}

// LogicalID returns the CloudFormation logical ID of c: c itself when it is
// a CloudFormation element, otherwise its default child (an L2's resource).
func LogicalID(c constructs.IConstruct) string {
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		el = c.Node().DefaultChild().(awscdk.CfnElement)
	}
	return *awscdk.Stack_Of(c).GetLogicalId(el)
}

// Ref is the template JSON of a Ref to c.
func Ref(c constructs.IConstruct) map[string]any {
	return map[string]any{"Ref": LogicalID(c)}
}

// GetAtt is the template JSON of an Fn::GetAtt of c's attribute.
func GetAtt(c constructs.IConstruct, attribute string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{LogicalID(c), attribute}}
}

// SynthError synthesizes the app that holds stack and returns the error
// that stops it, or "" when synthesis succeeds.
func SynthError(stack awscdk.Stack) (message string) {
	defer func() {
		if r := recover(); r != nil {
			message = fmt.Sprint(r)
		}
	}()
	awscdk.Stage_Of(stack).Synth(nil)
	return ""
}

// TemplateJSON returns a template as plain Go values (maps, slices,
// strings, float64 and bool), as encoding/json decodes it.
func TemplateJSON(tmpl assertions.Template) map[string]any {
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		panic(fmt.Sprintf("encoding the template: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("decoding the template: %v", err))
	}
	return out
}
