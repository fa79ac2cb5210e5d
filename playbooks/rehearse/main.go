// Command rehearse walks a playbook offline: it writes the logs of a
// sample incident (package samplelogs), loads them into an embedded DuckDB
// with the workshop's Athena tables (package engine), and runs each of the
// playbook's queries, printing the query file's name, its text and its
// result as an aligned table. No AWS account is involved.
//
// Usage:
//
//	go run ./playbooks/rehearse [-w] [-logs DIR] [-seed N] PLAYBOOK
//
// The sample incident's CloudTrail records replay the calls that the
// simulation scripts made against moto, kept in
// testdata/recordings/*.jsonl (package recording).
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/ir-workshop/incident-response-playbooks/constructs/logschema"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/engine"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/samplelogs"
)

// recordings are the scrubbed recordings of the simulation scripts.
//
//go:embed testdata/recordings/*.jsonl
var recordings embed.FS

// DefaultSeed is the seed of the sample incident that the playbooks show.
const DefaultSeed = 20260101

func main() {
	root, err := playbook.Root()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rehearse: %v\n", err)
		os.Exit(1)
	}
	// An interrupt cancels the running query; run then removes the
	// temporary sample logs before the command exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, root, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func usage(w io.Writer, books []string) {
	fmt.Fprintf(w, `Usage: go run ./playbooks/rehearse [-w] [-logs DIR] [-seed N] PLAYBOOK

Rehearse a playbook offline: run each of its Athena queries
(playbooks/PLAYBOOK/queries/*.sql, unmodified) against the logs of a sample
incident in an embedded SQL engine, and print each query's file, text and
result. No AWS account is needed.

  -w         also write each result into playbooks/PLAYBOOK/README.md, in the
             text block right after the query's sql block (added if missing)
  -logs DIR  write the sample logs (AWSLogs/...) into DIR and keep them
             (default: a temporary directory, removed at the end)
  -seed N    seed of the sample incident's random details
             (default: %d, the sample the playbooks show)
  -h         show this help

Playbooks: %s
Exit status: 0 every query ran, 1 a query or the sample failed, 2 bad usage.
`, DefaultSeed, strings.Join(books, ", "))
}

// run is the command with the repository at root; it returns the exit
// status.
func run(ctx context.Context, root string, args []string, stdout, stderr io.Writer) int {
	books, err := playbook.List(root)
	if err != nil {
		fmt.Fprintf(stderr, "rehearse: %v\n", err)
		return 1
	}
	flags := flag.NewFlagSet("rehearse", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	write := flags.Bool("w", false, "")
	logs := flags.String("logs", "", "")
	seed := flags.Uint64("seed", DefaultSeed, "")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, books)
			return 0
		}
		fmt.Fprintf(stderr, "rehearse: %v\n", err)
		usage(stderr, books)
		return 2
	}
	if flags.NArg() != 1 {
		fmt.Fprintf(stderr, "rehearse: want one playbook, got %d arguments\n", flags.NArg())
		usage(stderr, books)
		return 2
	}
	name := flags.Arg(0)
	if !slices.Contains(books, name) {
		fmt.Fprintf(stderr, "rehearse: unknown playbook %q; available: %s\n", name, strings.Join(books, ", "))
		return 2
	}

	s, err := newSession(ctx, *seed, *logs)
	if err != nil {
		fmt.Fprintf(stderr, "rehearse: %v\n", err)
		return 1
	}
	defer s.close()
	fmt.Fprintf(stderr, "rehearse: sample incident (seed %d) in %s: %s\n", *seed, s.dir, s.describe())

	queries, err := playbook.Queries(root, name)
	if err != nil {
		fmt.Fprintf(stderr, "rehearse: %v\n", err)
		return 1
	}
	status := 0
	results := map[string]string{}
	for i, q := range queries {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "== %s/%s ==\n%s\n", q.Playbook, q.File(), strings.TrimRight(q.SQL, "\n"))
		res, err := s.run(ctx, q)
		if err != nil {
			fmt.Fprintf(stdout, "\nERROR: %v\n", err)
			status = 1
			continue
		}
		table := res.Table()
		results[q.Name] = table
		fmt.Fprintf(stdout, "\n%s", table)
	}
	if *write {
		readme := filepath.Join(root, playbook.Dir, name, "README.md")
		if err := writeReadme(readme, queries, results); err != nil {
			fmt.Fprintf(stderr, "rehearse: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "rehearse: wrote the results into %s\n", readme)
	}
	return status
}

// writeReadme writes the results into a playbook's README (playbook.WriteResults).
func writeReadme(path string, queries []playbook.Query, results map[string]string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	out, missing := playbook.WriteResults(string(raw), queries, results)
	if len(missing) > 0 {
		return fmt.Errorf("%s does not show %s in a sql block with the file's exact text; nothing written", path, strings.Join(missing, ", "))
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(out), info.Mode().Perm())
}

// session is a loaded sample incident.
type session struct {
	eng   *engine.Engine
	dir   string
	temp  bool
	sum   samplelogs.Summary
	stats engine.LoadStats
}

// newSession writes the sample incident's logs into dir (a new temporary
// directory if dir is empty) and loads them.
func newSession(ctx context.Context, seed uint64, dir string) (*session, error) {
	calls, err := fixtureCalls()
	if err != nil {
		return nil, err
	}
	s := &session{dir: dir}
	if dir == "" {
		if s.dir, err = os.MkdirTemp("", "ir-rehearse-"); err != nil {
			return nil, err
		}
		s.temp = true
	}
	if s.sum, err = samplelogs.Generate(s.dir, samplelogs.Options{Seed: seed, Calls: calls}); err != nil {
		s.close()
		return nil, fmt.Errorf("writing the sample logs: %w", err)
	}
	if s.eng, err = engine.Open(); err != nil {
		s.close()
		return nil, err
	}
	if s.stats, err = s.eng.Load(ctx, s.dir); err != nil {
		s.close()
		return nil, fmt.Errorf("loading the sample logs: %w", err)
	}
	return s, nil
}

// fixtureCalls reads the embedded recordings, in the order of
// recording.Simulations.
func fixtureCalls() ([]recording.Call, error) {
	var calls []recording.Call
	for _, sim := range recording.Simulations {
		f, err := recordings.Open("testdata/recordings/" + sim.Name + ".jsonl")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("no recording of simulation %s in playbooks/rehearse/testdata/recordings", sim.Name)
			}
			return nil, err
		}
		cs, err := recording.ReadFixture(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("recording of %s: %w", sim.Name, err)
		}
		calls = append(calls, cs...)
	}
	return calls, nil
}

func (s *session) describe() string {
	return fmt.Sprintf("%d CloudTrail records, %d flow records, %d DNS queries",
		s.stats.Rows[logschema.CloudTrailTable], s.stats.Rows[logschema.VPCFlowTable], s.stats.Rows[logschema.DNSTable])
}

// run checks a query (engine.Check) and runs it.
func (s *session) run(ctx context.Context, q playbook.Query) (*engine.Result, error) {
	file := filepath.ToSlash(filepath.Join(playbook.Dir, q.Playbook, q.File()))
	if err := s.eng.Check(ctx, file, q.SQL); err != nil {
		return nil, err
	}
	res, err := s.eng.Query(ctx, q.SQL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return res, nil
}

func (s *session) close() {
	if s.eng != nil {
		s.eng.Close()
	}
	if s.temp {
		os.RemoveAll(s.dir)
	}
}
