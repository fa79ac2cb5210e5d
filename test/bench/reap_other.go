//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// adoptOrphans does nothing here: only Linux has child subreapers, so the
// CPU time of processes that outlive the test binary is not counted.
func adoptOrphans() {}

// reapOrphans has nothing to wait for.
func reapOrphans(time.Duration) bool { return false }

// childrenCPU returns the CPU time of cmd and its waited-for descendants.
func childrenCPU(cmd *exec.Cmd) (user, sys time.Duration) {
	return cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
}
