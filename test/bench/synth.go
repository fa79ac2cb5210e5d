package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// run is one synthesis: wall time and CPU time (the program and Node.js).
type run struct {
	wall, cpu time.Duration
}

// synth runs the app and the floor in alternating pairs and prints the
// median ratios.
func synth(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ExitOnError)
	app := fs.String("app", "", "the built CDK app (go build -o BIN .)")
	floor := fs.String("floor", "", "the built floor (go build -o BIN ./test/bench/floor)")
	pairs := fs.Int("pairs", 5, "how many pairs to run")
	root := fs.String("root", ".", "the project root, with cdk.json")
	fs.Parse(args)
	if *app == "" || *floor == "" || *pairs < 1 {
		return errors.New("synth needs -app BIN, -floor BIN and -pairs of at least 1")
	}
	if os.Getenv("JSII_NODE") == "" {
		return errors.New("JSII_NODE is not set: run through make, which points it at the project's Node.js")
	}
	context, err := cdkContext(filepath.Join(*root, "cdk.json"))
	if err != nil {
		return err
	}

	fmt.Printf("Synthesis as the CDK CLI runs it (CDK_OUTDIR, CDK_CONTEXT_JSON), %d pairs, the order alternating:\n", *pairs)
	fmt.Printf("%4s %10s %10s %10s %10s %8s %8s\n", "pair", "app wall", "floor wall", "app cpu", "floor cpu", "wall x", "cpu x")
	var wallRatios, cpuRatios []float64
	for i := range *pairs {
		var a, f run
		first, second := &f, &a
		firstBin, secondBin := *floor, *app
		if i%2 == 1 {
			first, second = &a, &f
			firstBin, secondBin = *app, *floor
		}
		if *first, err = synthOnce(firstBin, context); err != nil {
			return err
		}
		if *second, err = synthOnce(secondBin, context); err != nil {
			return err
		}
		w, c := ratio(a.wall, f.wall), ratio(a.cpu, f.cpu)
		wallRatios, cpuRatios = append(wallRatios, w), append(cpuRatios, c)
		fmt.Printf("%4d %9.2fs %9.2fs %9.2fs %9.2fs %8.2f %8.2f\n", i+1, a.wall.Seconds(), f.wall.Seconds(), a.cpu.Seconds(), f.cpu.Seconds(), w, c)
	}
	fmt.Printf("synth ratio, app / floor, median of %d pairs: %.2f wall, %.2f CPU\n", *pairs, median(wallRatios), median(cpuRatios))
	return nil
}

// synthOnce runs a CDK app binary into a fresh output folder.
func synthOnce(bin, context string) (run, error) {
	out, err := os.MkdirTemp("", "bench-synth-")
	if err != nil {
		return run{}, err
	}
	defer os.RemoveAll(out)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+context)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return run{}, fmt.Errorf("%s: %v\n%s", bin, err, stderr.String())
	}
	wall := time.Since(start)
	return run{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

// cdkContext returns the "context" of cdk.json as JSON, which the CLI
// passes to the app in CDK_CONTEXT_JSON.
func cdkContext(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var cdk struct {
		Context json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(b, &cdk); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return string(cdk.Context), nil
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return a.Seconds() / b.Seconds()
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
