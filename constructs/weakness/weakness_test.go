package weakness_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/ir-workshop/incident-response-playbooks/constructs/cdktest"
	"github.com/ir-workshop/incident-response-playbooks/constructs/weakness"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// TestSuppressRecordsTheNamedWeaknessOnEachRule suppresses two rules as one
// weakness and reads it back: every suppression carries the same reason,
// the finding filter where given, and Names finds the weakness once.
func TestSuppressRecordsTheNamedWeaknessOnEachRule(t *testing.T) {
	stack := cdktest.NewStack("Weak")
	queue := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	weakness.Suppress(queue, "an unencrypted queue", "The exercise reads its messages in the console.", false,
		weakness.Rule{ID: "AwsSolutions-SQS2"}, weakness.Rule{ID: "AwsSolutions-SQS3", AppliesTo: []string{"Resource::*"}})
	other := awssqs.NewQueue(stack, jsii.String("Other"), nil)
	weakness.Suppress(other, "an unencrypted queue", "A second queue of the same kind.", false, weakness.Rule{ID: "AwsSolutions-SQS2"})
	tmpl := assertions.Template_FromStack(stack, nil)
	reason := "Deliberate weakness: an unencrypted queue. The exercise reads its messages in the console."
	cdktest.Assert(t, "metadata", func() {
		tmpl.HasResource(jsii.String("AWS::SQS::Queue"), assertions.Match_ObjectLike(&map[string]any{
			"Metadata": map[string]any{"cdk_nag": map[string]any{"rules_to_suppress": []any{
				map[string]any{"id": "AwsSolutions-SQS2", "reason": reason},
				map[string]any{"id": "AwsSolutions-SQS3", "reason": reason, "applies_to": []any{"Resource::*"}},
			}}},
		}))
	})
	if got := weakness.Names(cdktest.TemplateJSON(tmpl)); !slices.Equal(got, []string{"an unencrypted queue"}) {
		t.Errorf("Names = %q, want the one weakness", got)
	}
}

func TestNameReadsOnlyDeliberateWeaknesses(t *testing.T) {
	for reason, want := range map[string]string{
		"Deliberate weakness: SSH open. Attack surface.":      "SSH open",
		"Deliberate weakness: v1.2 of a thing. It is so.":     "v1.2 of a thing",
		"Deliberate weakness: no further explanation":         "no further explanation",
		"SSE-S3: server access logging needs it. Deliberate.": "",
	} {
		got, ok := weakness.Name(reason)
		if got != want || ok != (want != "") {
			t.Errorf("Name(%q) = %q, %v; want %q", reason, got, ok, want)
		}
	}
}

func TestMalformedWeaknessStopsSynthesisNamingTheArgument(t *testing.T) {
	stack := cdktest.NewStack("Bad")
	weakness.Suppress(awssqs.NewQueue(stack, jsii.String("Dotted"), nil), "a name. With a sentence", "Why.", false, weakness.Rule{ID: "AwsSolutions-SQS2"})
	weakness.Suppress(awssqs.NewQueue(stack, jsii.String("Empty"), nil), "", "", false)
	msg := cdktest.SynthError(stack)
	t.Log(msg)
	for _, want := range []string{
		`[Bad/Dotted] weakness.Suppress.name is "a name. With a sentence"`,
		`[Bad/Empty] weakness.Suppress.name is ""`,
		"[Bad/Empty] weakness.Suppress.why is required",
		"[Bad/Empty] weakness.Suppress.rules is required",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("synthesis error does not say %q", want)
		}
	}
}
