package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// cpuLine is what execTest prints last; cpuPattern reads it back.
const cpuLine = "bench: cpu %.2f s user, %.2f s sys, test binary and every process it started\n"

var cpuPattern = regexp.MustCompile(`bench: cpu ([0-9.]+) s user, ([0-9.]+) s sys`)

// orphanWait bounds how long execTest waits for processes that outlive the
// test binary (drivers that end when their input closes).
const orphanWait = 30 * time.Second

// execTest runs a test binary with its arguments, passing its output and
// exit status on, and prints the CPU time of the binary and of every
// process it started, also those it left to end on their own: on Linux,
// this process adopts them (a child subreaper) and waits for them.
func execTest(args []string) error {
	if len(args) == 0 {
		usage()
	}
	adoptOrphans()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return runErr
	}
	left := reapOrphans(orphanWait)
	user, sys := childrenCPU(cmd)
	fmt.Printf(cpuLine, user.Seconds(), sys.Seconds())
	if left {
		fmt.Printf("bench: processes that the test started were still running %s after it; their CPU time is not counted\n", orphanWait)
	}
	if exit != nil {
		os.Exit(exit.ExitCode())
	}
	return nil
}

// parseCPU reads a cpuLine: user and system seconds.
func parseCPU(line string) (user, sys float64, ok bool) {
	m := cpuPattern.FindStringSubmatch(line)
	if m == nil {
		return 0, 0, false
	}
	user, _ = strconv.ParseFloat(m[1], 64)
	sys, _ = strconv.ParseFloat(m[2], 64)
	return user, sys, true
}
