// Package simulation runs the threat simulations, their undo scripts and the
// response helpers in scripts/ against a local moto_server into which the
// committed templates (cdk.out/*.yaml) are deployed. It checks what each
// simulation creates, that undo leaves nothing of it behind (also after an
// interrupted run) and touches nothing else, how the scripts refuse bad
// input, and what the response helpers change. Everything talks only to
// 127.0.0.1.
package simulation

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// moto 5 has no AWS managed policies (AdministratorAccess, which the
	// credential exposure simulation attaches) unless asked to load them;
	// moto.Start passes this process's environment to moto_server.
	if err := os.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
