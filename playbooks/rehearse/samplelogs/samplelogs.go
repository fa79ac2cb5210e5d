// Package samplelogs writes the logs of a sample incident, laid out as AWS
// delivers them into the workshop's log bucket under AWSLogs/: CloudTrail
// files, VPC Flow Logs files and Route 53 Resolver query log files, gzipped.
//
// The incident is the workshop's first two simulations on 2026-01-01 (UTC), with
// the playbooks' placeholders (account 111122223333, leaked key
// AKIAIOSFODNN7EXAMPLE of user integration, attacker addresses in
// 198.51.100.0/24, mining instance i-1234567890abcdef0), in two days
// (2025-12-31 and 2026-01-01) of benign background activity:
//
//   - the attacker's CloudTrail records are derived from the calls that
//     moto recorded of the simulation scripts (package recording), one record
//     per call, in the recorded order, from the run's start time on;
//   - the mining instance's DNS lookups follow the user data that the
//     recorded RunInstances call carried: its pool names, its random names,
//     its rounds per minute;
//   - the response follows the playbooks: containment is done at 12:00:00
//     (the time the playbooks' after containment queries use): the leaked
//     key, the keys made with it and the launching key go inactive, the
//     staging bucket is locked and copied, the mining instance is isolated;
//     eradication deletes the user and bucket the intruder made at 13:00 and
//     terminates the instance at 13:30; recovery gives both workloads new
//     keys at 14:30, and their old keys are deleted at 20:00;
//   - the background is each simulation key's owner running its job from
//     its usual address (the integration job also reads its secret, its
//     parameter and a file in S3), the workshop instance's SSM agent, an
//     administrator signing in to the console and an analyst using Athena
//     (with a mistake or two), the instances' traffic to package
//     repositories and AWS endpoints, and SSH scans and console sign-in
//     guesses from the internet.
//
// The S3 exfiltration simulation is an incident of its own the day before,
// at 08:30 on 2025-12-31, with the key AKIAREPORTINGEXAMPLE of user
// reporting from 198.51.100.140; the reporting job reads two records from
// its usual address twice a day, and the response follows the S3
// exfiltration playbook (detected at 10:45, contained at 11:45, eradicated
// at 13:15, recovered at 14:45; see s3incident.go).
//
// The S3 ransomware simulation is an incident of its own two days before,
// at 07:15 on 2025-12-30, with the key AKIAINGESTKEYEXAMPLE of user ingest
// from 198.51.100.201 and the intruder's KMS key
// 1234abcd-12ab-34cd-56ef-1234567890ab; the ingest job writes a record from
// its usual address before the run and after recovery, and the response
// follows the S3 ransomware playbook (detected at 08:40, contained at
// 09:30, recovered at 10:30, eradicated at 11:30; see s3ransomware.go).
//
// Output is a function of the seed and the recorded calls only: the same
// input writes the same bytes.
package samplelogs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
)

// The sample incident's facts, as the playbooks name them.
const (
	Account = recording.Account
	Region  = "us-east-1"
	// Day is the incident's day; the background starts the day before.
	Day = "2026-01-01"
)

// Times of the response, UTC on Day.
var (
	start       = mustTime("2025-12-31T00:00:00Z")
	end         = mustTime("2026-01-01T23:59:59Z")
	ContainedAt = mustTime("2026-01-01T12:00:00Z")
	EradicateAt = mustTime("2026-01-01T13:00:00Z")
	TerminateAt = mustTime("2026-01-01T13:30:00Z")
	RecoveredAt = mustTime("2026-01-01T14:30:00Z")
	// OldKeysDeletedAt is when the workloads' old keys are deleted, once
	// the jobs have run on the new ones.
	OldKeysDeletedAt = mustTime("2026-01-01T20:00:00Z")
)

// Network of the sample: the workshop VPC (192.168.0.0/16) and its
// instances. The VPC, subnets and mining instance IDs are the placeholders
// that recording.Scrub gives moto's IDs, in the order the recording test
// lists them: the workshop VPC, public subnets by zone, private subnets by
// zone, then the instances a run launched.
var (
	VPCID            = recording.IDPlaceholder("vpc", 0)
	publicSubnets    = []string{recording.IDPlaceholder("subnet", 0), recording.IDPlaceholder("subnet", 1)}
	MiningInstance   = recording.IDPlaceholder("i", 0)
	WorkshopInstance = "i-0a1b2c3d4e5f67890"
)

// Addresses. Documentation ranges only: 198.51.100.0/24 is the attacker,
// 192.0.2.0/24 the benign internet (the owners' pipelines, the analyst, AWS
// endpoints, package repositories), 203.0.113.0/24 mining pools and
// scanners.
const (
	credentialExposureIP = "198.51.100.23"
	cryptoMiningIP       = "198.51.100.77"
	s3ExfiltrationIP     = "198.51.100.140"
	s3RansomwareIP       = "198.51.100.201"
	integrationCIIP      = "192.0.2.10"
	pipelineCIIP         = "192.0.2.11"
	analystIP            = "192.0.2.20"
)

// Options are the generator's input.
type Options struct {
	// Seed fixes every random choice: request IDs, file name suffixes,
	// ports, byte counts, jitter.
	Seed uint64
	// Calls are the recorded calls of the simulations (recording fixtures),
	// each simulation's calls in order.
	Calls []recording.Call
}

// Summary counts what Generate wrote, by log source: "cloudtrail",
// "vpcflowlogs", "vpcdnsquerylogs".
type Summary struct {
	Files, Records map[string]int
}

// Generate writes the sample incident's log files under root, which stands
// for the log bucket.
func Generate(root string, opts Options) (Summary, error) {
	sum := Summary{Files: map[string]int{}, Records: map[string]int{}}
	g := &generator{opts: opts, root: root, sum: &sum}
	sims, err := splitSimulations(opts.Calls)
	if err != nil {
		return sum, err
	}
	ct, mining, err := g.cloudTrail(sims)
	if err != nil {
		return sum, err
	}
	if err := g.writeCloudTrail(ct); err != nil {
		return sum, err
	}
	flows, dns, err := g.network(mining)
	if err != nil {
		return sum, err
	}
	if err := g.writeFlows(flows); err != nil {
		return sum, err
	}
	if err := g.writeDNS(dns); err != nil {
		return sum, err
	}
	return sum, nil
}

type generator struct {
	opts Options
	root string
	sum  *Summary
}

// rng returns a random source for one purpose: each purpose draws from its
// own stream, so that a change in one part of the sample leaves the others'
// bytes as they were.
func (g *generator) rng(purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(g.opts.Seed, h.Sum64()))
}

// write writes content gzipped to the slash-separated key under root.
func (g *generator) write(key string, content []byte) error {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return err
	}
	// No name or time in the header: the bytes depend on content only.
	if _, err := zw.Write(content); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	p := filepath.Join(g.root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}

// dayPath is the yyyy/MM/dd folder of a time.
func dayPath(t time.Time) string { return t.UTC().Format("2006/01/02") }

// stamp is the yyyymmddThhmmZ of AWS log file names.
func stamp(t time.Time) string { return t.UTC().Format("20060102T1504Z") }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// alnum returns n random letters and digits.
func alnum(r *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// hex returns n random lower-case hexadecimal digits.
func hex(r *rand.Rand, n int) string {
	const chars = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// uuid returns a random version 4 UUID.
func uuid(r *rand.Rand) string {
	h := hex(r, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// window is the start of the delivery window of length d that holds t.
func window(t time.Time, d time.Duration) time.Time { return t.Truncate(d) }
