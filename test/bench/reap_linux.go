package main

import (
	"os/exec"
	"syscall"
	"time"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
const prSetChildSubreaper = 36

// adoptOrphans makes this process the parent of every process that its
// descendants leave behind, so that their CPU time reaches its children's.
func adoptOrphans() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// reapOrphans waits, at most for limit, until this process has no child
// left; it reports whether some were still running then.
func reapOrphans(limit time.Duration) (left bool) {
	deadline := time.Now().Add(limit)
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR || pid > 0:
			continue
		case err != nil: // ECHILD: none left
			return false
		case time.Now().After(deadline):
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childrenCPU returns the CPU time of every child this process has waited
// for (cmd, and the orphans it adopted), and of their waited-for
// descendants.
func childrenCPU(*exec.Cmd) (user, sys time.Duration) {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &r); err != nil {
		return 0, 0
	}
	return time.Duration(r.Utime.Nano()), time.Duration(r.Stime.Nano())
}
