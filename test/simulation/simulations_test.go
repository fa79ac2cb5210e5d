package simulation

import "testing"

// TestScriptsAgainstTheEmulatedWorkshop deploys both templates into one
// account of the emulator, which checks credentials and IAM policies, and
// then, in order:
//  1. runs each simulation with its simulation user's profile and checks what
//     it created;
//  2. feeds every script bad input and checks that the account did not
//     change;
//  3. side by side: undoes both runs in turn with a profile lacking
//     permissions, by the run's tag and with the command each printed, and
//     checks that nothing of them remains; interrupts other runs part-way (a
//     crash between steps, a denied call, Ctrl-C, a lost network, a second
//     run on the same state file) and checks that undo still leaves nothing;
//     overrides the VPC; runs the response helpers;
//
// and at the end checks, with one inventory, that nothing of any run is
// left, and that what was made before and outside the simulations is as it
// was.
func TestScriptsAgainstTheEmulatedWorkshop(t *testing.T) {
	t.Parallel()
	w := newWorkshop(t)

	var exposure, mining completeRun
	simulated := t.Run("Simulate", func(t *testing.T) {
		t.Run("CredentialExposureCreatesAdminUserWithKeyAndReconBucket", func(t *testing.T) {
			t.Parallel()
			exposure = runCredentialExposure(t, w)
		})
		t.Run("CryptoMiningLaunchesInstancesOnlyInTheWorkshopVpc", func(t *testing.T) {
			t.Parallel()
			mining = runCryptoMining(t, w)
		})
	})
	if !simulated {
		t.FailNow()
	}

	t.Run("BadInputIsRefusedAndChangesNothing", func(t *testing.T) {
		testBadInput(t, w, exposure.path, mining.path)
	})

	// Undo, the interrupted runs and the response helpers touch disjoint
	// resources (each run has its own ID), so they run side by side.
	t.Run("AfterTheRuns", func(t *testing.T) {
		t.Run("CredentialExposureUndoLeavesNothingAndRunsTwice", func(t *testing.T) {
			t.Parallel()
			undoCredentialExposure(t, w, exposure)
		})
		t.Run("CryptoMiningUndoTerminatesTheInstancesAndRunsTwice", func(t *testing.T) {
			t.Parallel()
			undoCryptoMining(t, w, mining)
		})
		testFaults(t, w)
		testInterruptions(t, w)
		testResponse(t, w)
	})

	requireRunsUndone(t, w)
	requireBystandersUntouched(t, w)
}
