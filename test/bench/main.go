// Command bench measures where the project's time goes, for `make bench`:
//
//	bench synth -app BIN -floor BIN [-pairs N]
//	    runs the synthesized app and the floor (test/bench/floor) in N
//	    alternating pairs, as the CDK CLI runs an app, and prints each
//	    pair's wall and CPU time and the median of the app/floor ratios;
//	bench exec TESTBINARY ARGS...
//	    for `go test -exec`: runs a test binary and prints, last, the CPU
//	    time of it and of every process it started (moto_server, the AWS
//	    CLI, Node.js), so that the package's output in `go test -json`
//	    carries it;
//	bench report [-top N] [FILE]
//	    reads `go test -json` output (FILE or standard input) and prints
//	    the packages by wall time with their CPU time, the slowest tests,
//	    and the tests with the most AWS CLI calls (test/moto logs them);
//	    exit 1 if a test failed.
//
// CPU seconds are the steadier figure on a shared machine: wall time grows
// with everything else that runs, CPU time much less.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "synth":
		err = synth(os.Args[2:])
	case "exec":
		err = execTest(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: bench synth -app BIN -floor BIN [-pairs N]
       bench exec TESTBINARY [ARGS...]
       bench report [-top N] [FILE]`)
	os.Exit(2)
}
