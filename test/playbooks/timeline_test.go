package playbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/playbooks/playbook"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/recording"
	"github.com/ir-workshop/incident-response-playbooks/playbooks/rehearse/samplelogs"
)

// timelineScript prints a run's response timeline and its metrics.
const timelineScript = "scripts/incident-timeline.sh"

// timelineColumns are the columns the script reads from a timeline query's
// result.
var timelineColumns = []string{"eventtime", "phase", "actor", "action", "target", "errorcode"}

// runTimeline runs the script from the repository root without AWS
// credentials or configuration, so that it cannot reach AWS.
func runTimeline(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runTimelineWith(t, []string{"PATH=" + os.Getenv("PATH")}, args...)
}

// runTimelineWith runs the script with env, which sets PATH, on top of
// runTimeline's environment.
func runTimelineWith(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{timelineScript}, args...)...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append([]string{
		"HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %v: no answer within 30 s", timelineScript, args)
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// sampleRun is a simulation run of the rehearsal's sample incident: its
// state file as the simulation writes it, and its start.
func sampleRun(t *testing.T, sim recording.Simulation) (stateFile, started string) {
	t.Helper()
	at, err := time.Parse("20060102-150405", strings.Join(strings.Split(sim.RunID, "-")[1:3], "-"))
	if err != nil {
		t.Fatalf("run ID %s: %v", sim.RunID, err)
	}
	started = at.UTC().Format(time.RFC3339)
	state, _ := json.Marshal(map[string]any{
		"simulation": strings.ReplaceAll(sim.Name, "_", "-"), "state_version": 1, "run_id": sim.RunID,
		"region": "us-east-1", "account_id": recording.Account, "status": "complete", "started_at": started,
		"resources": resources[sim.Name],
	})
	return writeFile(t, sim.Name+".json", string(state)), started
}

// detectedAt is when the sample incident's simulations that are incidents
// of their own were detected (samplelogs); the others at 10:45 on its day.
var detectedAt = map[string]string{
	"s3_exfiltration": samplelogs.S3DetectedAt.Format(time.RFC3339),
	"s3_ransomware":   samplelogs.RansomDetectedAt.Format(time.RFC3339),
}

// resources are what each simulation's state file records before its
// first step: the state files the timeline reads are checked whole.
var resources = map[string]map[string]any{
	"credential_exposure": {"iam_user": nil, "attached_policy_arns": []string{}, "access_key_ids": []string{}, "s3_bucket": nil, "s3_object_keys": []string{}},
	"crypto_mining":       {"instance_ids": []string{}},
	"s3_exfiltration":     {"data_bucket": nil, "access_logging": nil, "s3_bucket": nil},
	"s3_ransomware": {"data_bucket": nil, "kms_key_id": nil, "encrypted_prefix": nil, "delete_markers": []string{},
		"ransom_note_key": nil},
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// shownTimeline is the result a playbook shows for its timeline query (the
// rehearsal checks that it is the query's result over the sample incident),
// as athena_query writes an Athena result: tab-separated, a header line,
// NULL as an empty cell.
func shownTimeline(t *testing.T, book string) (*playbook.Table, string) {
	t.Helper()
	qs, err := playbook.Queries(repoRoot(t), book)
	if err != nil {
		t.Fatal(err)
	}
	var timeline []playbook.Query
	for _, q := range qs {
		if strings.HasSuffix(q.Name, "_response_timeline") {
			timeline = append(timeline, q)
		}
	}
	if len(timeline) != 1 {
		t.Fatalf("playbooks/%s: %d NN_response_timeline.sql queries, want one (the script runs it)", book, len(timeline))
	}
	md := playbook.ParseMarkdown([]byte(readFile(t, filepath.Join(repoRoot(t), playbook.Dir, book, "README.md"))))
	shown := playbook.Find(md, timeline)[timeline[0].Name]
	if shown.Result == nil {
		t.Fatalf("playbooks/%s shows no result for %s", book, timeline[0].File())
	}
	table, err := playbook.ParseTable(shown.Result.Text)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(table.Columns, timelineColumns) {
		t.Fatalf("playbooks/%s/%s: columns %q, want %q (what the script reads)", book, timeline[0].File(), table.Columns, timelineColumns)
	}
	var tsv strings.Builder
	tsv.WriteString(strings.Join(table.Columns, "\t") + "\n")
	for _, row := range table.Rows {
		cells := slices.Clone(row)
		for i, c := range cells {
			if c == "NULL" {
				cells[i] = ""
			}
		}
		tsv.WriteString(strings.Join(cells, "\t") + "\n")
	}
	return table, writeFile(t, book+".tsv", tsv.String())
}

// span is how the script prints a duration.
func span(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s%3600/60, s%60)
}

// TestTimelineComputesTheMetricsOfTheSampleIncident runs the script on each
// simulation playbook's timeline result over the sample incident: the
// timeline starts with the run's start and the detection, in time order,
// and the times to detect, contain and recover run from the start to the
// detection and to the last successful call of each phase.
func TestTimelineComputesTheMetricsOfTheSampleIncident(t *testing.T) {
	for _, sim := range recording.Simulations {
		t.Run(sim.Name, func(t *testing.T) {
			detected := "2026-01-01T10:45:00Z"
			if d, ok := detectedAt[sim.Name]; ok {
				detected = d
			}
			state, started := sampleRun(t, sim)
			table, result := shownTimeline(t, sim.Name)
			stdout, stderr, code := runTimeline(t, "-s", state, "-t", result, "-d", detected)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			t0, _ := time.Parse(time.RFC3339, started)
			last := map[string]time.Time{}
			for _, row := range table.Rows {
				at, err := time.Parse(time.RFC3339, row[0])
				if err != nil {
					t.Fatalf("row %q: %v", row, err)
				}
				if row[5] == "NULL" && at.After(last[row[1]]) {
					last[row[1]] = at
				}
			}
			if last["contain"].IsZero() || last["recover"].IsZero() {
				t.Fatalf("the sample's timeline has no contain or recover call: %v", last)
			}
			d, _ := time.Parse(time.RFC3339, detected)
			for _, want := range []string{
				fmt.Sprintf("time to detect   %s  (detection, -d, %s)", span(d.Sub(t0)), detected),
				fmt.Sprintf("time to contain  %s  (last contain call, %s)", span(last["contain"].Sub(t0)), last["contain"].Format(time.RFC3339)),
				fmt.Sprintf("time to recover  %s  (last recover call, %s)", span(last["recover"].Sub(t0)), last["recover"].Format(time.RFC3339)),
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, stdout)
				}
			}
			var times, phases []string
			for _, line := range strings.Split(stdout, "\n") {
				if f := strings.Fields(line); len(f) > 1 && isTime(f[0]) {
					times, phases = append(times, f[0]), append(phases, f[1])
				}
			}
			if len(times) != len(table.Rows)+2 || !slices.IsSorted(times) {
				t.Errorf("timeline of %d rows, want the %d of the result plus start and detection, in time order:\n%s", len(times), len(table.Rows), stdout)
			}
			if len(phases) < 2 || phases[0] != "start" || phases[1] != "detect" || times[0] != started {
				t.Errorf("timeline starts with %v at %v, want start at %s then detect", phases[:min(2, len(phases))], times[:min(1, len(times))], started)
			}
		})
	}
}

// fakeAthena is an aws command that answers the three Athena calls the
// script makes: the query starts, has SUCCEEDED when asked, and its result
// is the file RESULT_JSON. It appends its arguments to CALLS, separated by
// the unit separator, each call ended by the record separator.
const fakeAthena = `#!/usr/bin/env bash
printf '%s\x1f' "$@" >>"$CALLS"
printf '\x1e' >>"$CALLS"
case "$1 $2" in
  "athena start-query-execution") echo query-1 ;;
  "athena get-query-execution") echo SUCCEEDED ;;
  "athena get-query-results") cat "$RESULT_JSON" ;;
  *) echo "fake aws: unexpected call: $*" >&2; exit 255 ;;
esac
`

// TestTimelineRunsThePlaybooksQueryInAthena runs the script's Athena path
// against a stand-in for the aws command (moto_server has no Athena): the
// playbook's timeline query goes to the workgroup with the run's day and
// start in place of the placeholders, as the analyst profile in the state
// file's region, and the result Athena returns makes the same timeline as
// the saved result does. Whether Athena itself accepts the query, the
// rehearsal's DuckDB check and the named query's deployment stand for.
func TestTimelineRunsThePlaybooksQueryInAthena(t *testing.T) {
	for _, sim := range recording.Simulations {
		t.Run(sim.Name, func(t *testing.T) { timelineThroughAthena(t, sim) })
	}
}

func timelineThroughAthena(t *testing.T, sim recording.Simulation) {
	// A run on another day than every query's example day and start, so
	// that the replacement shows.
	parts := strings.Split(sim.RunID, "-")
	sim.RunID = parts[0] + "-20260315-101112-" + parts[3]
	state, started := sampleRun(t, sim)
	table, saved := shownTimeline(t, sim.Name)
	rows := []any{}
	for _, row := range append([][]string{table.Columns}, table.Rows...) {
		var data []any
		for _, c := range row {
			if c == "NULL" {
				data = append(data, map[string]any{})
			} else {
				data = append(data, map[string]any{"VarCharValue": c})
			}
		}
		rows = append(rows, map[string]any{"Data": data})
	}
	result, _ := json.Marshal(map[string]any{"ResultSet": map[string]any{"Rows": rows}})
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAthena), 0o755); err != nil {
		t.Fatal(err)
	}
	calls := filepath.Join(t.TempDir(), "calls")
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"CALLS=" + calls, "RESULT_JSON=" + writeFile(t, "result.json", string(result)),
	}
	const detected = "2026-03-15T11:00:00Z"
	viaAthena, stderr, code := runTimelineWith(t, env, "-s", state, "-d", detected)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	fromFile, _, _ := runTimeline(t, "-s", state, "-t", saved, "-d", detected)
	if viaAthena != fromFile {
		t.Errorf("through Athena:\n%s\nfrom the saved result:\n%s", viaAthena, fromFile)
	}
	var lines [][]string
	for _, l := range strings.Split(strings.TrimSuffix(readFile(t, calls), "\x1e"), "\x1e") {
		lines = append(lines, strings.Split(strings.TrimSuffix(l, "\x1f"), "\x1f"))
	}
	if len(lines) != 3 {
		t.Fatalf("%d aws calls, want start, state, results:\n%q", len(lines), lines)
	}
	start := lines[0]
	arg := func(call []string, name string) string {
		if i := slices.Index(call, name); i >= 0 && i+1 < len(call) {
			return call[i+1]
		}
		return ""
	}
	for name, want := range map[string]string{"--work-group": "ir-workshop", "--profile": "ir-analyst", "--region": "us-east-1"} {
		if got := arg(start, name); got != want {
			t.Errorf("start-query-execution %s %q, want %q", name, got, want)
		}
	}
	sql := arg(start, "--query-string")
	day := strings.ReplaceAll(started[:10], "-", "/")
	// The query's own example day and start, replaced by the run's: the
	// sample's run starts at another time than any query's example start.
	if !strings.Contains(sql, "date_partition >= '"+day+"'") || !strings.Contains(sql, "eventtime >= '"+started+"'") ||
		exampleStart.MatchString(strings.ReplaceAll(sql, "'"+started+"'", "")) {
		t.Errorf("the query sent does not start at the run's day %s and time %s:\n%s", day, started, sql)
	}
	if arg(lines[1], "--query-execution-id") != "query-1" || arg(lines[2], "--query-execution-id") != "query-1" {
		t.Errorf("the state and results calls are not for the query started: %q", lines[1:])
	}
}

// exampleStart finds a start time left in a timeline query.
var exampleStart = regexp.MustCompile(`eventtime >= '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'`)

// TestTimelineWithoutDetectionSaysHowToGiveIt: without -d, the time to
// detect is not made up.
func TestTimelineWithoutDetectionSaysHowToGiveIt(t *testing.T) {
	state, _ := sampleRun(t, recording.Simulations[0])
	_, result := shownTimeline(t, recording.Simulations[0].Name)
	stdout, stderr, code := runTimeline(t, "-s", state, "-t", result)
	if code != 0 || !strings.Contains(stdout, "time to detect   not known: pass -d") {
		t.Errorf("exit %d, want 0 and the time to detect not known\n%s%s", code, stdout, stderr)
	}
}

// TestTimelineRejectsBadInput: each bad argument, state file or result
// stops the script with a message that names it, before any AWS call (the
// script has no credentials here): exit 2 for usage, 1 for files.
func TestTimelineRejectsBadInput(t *testing.T) {
	state, _ := sampleRun(t, recording.Simulations[0])
	_, result := shownTimeline(t, recording.Simulations[0].Name)
	base := map[string]any{}
	if err := json.Unmarshal([]byte(readFile(t, state)), &base); err != nil {
		t.Fatal(err)
	}
	stateWith := func(name string, change func(map[string]any)) string {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		change(m)
		b, _ := json.Marshal(m)
		return writeFile(t, name, string(b))
	}
	unknown := stateWith("unknown.json", func(m map[string]any) { m["simulation"] = "ransomware" })
	noStart := stateWith("no-start.json", func(m map[string]any) { delete(m, "started_at") })
	noRun := stateWith("no-run.json", func(m map[string]any) { m["run_id"] = "" })
	garbled := writeFile(t, "garbled.json", `{"simulation": "credential-exposure",`)
	fewColumns := writeFile(t, "few-columns.tsv", "eventtime\tphase\n2026-01-01T12:00:00Z\tcontain\n")
	noTime := writeFile(t, "no-time.tsv", strings.Join(timelineColumns, "\t")+"\nsoon\tcontain\tsomeone\tiam:UpdateAccessKey\tAKIAIOSFODNN7EXAMPLE\t\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"NoStateFile", nil, 2, "missing -s STATE_FILE"},
		{"UnknownOption", []string{"-x"}, 2, "unknown option -x"},
		{"OptionWithoutValue", []string{"-s"}, 2, "option -s needs a value"},
		{"OptionEatsTheNext", []string{"-s", "-t", result}, 2, "option -s needs a value"},
		{"Operand", []string{"-s", state, "-t", result, "extra"}, 2, "unexpected argument: extra"},
		{"DetectedNotATime", []string{"-s", state, "-t", result, "-d", "yesterday"}, 2, "option -d: 'yesterday' is not a UTC time"},
		{"ResultAndQuery", []string{"-s", state, "-t", result, "-q", result}, 2, "options -t and -q exclude each other"},
		{"BadWorkgroup", []string{"-s", state, "-w", "ir workshop"}, 2, "option -w: 'ir workshop' is not an Athena workgroup name"},
		{"BadRegion", []string{"-s", state, "-r", "moon-1"}, 2, "option -r: 'moon-1' is not an AWS region name"},
		{"StateFileMissing", []string{"-s", filepath.Join(t.TempDir(), "none.json"), "-t", result}, 1, "does not exist"},
		{"StateFileGarbled", []string{"-s", garbled, "-t", result}, 1, "is not one JSON object"},
		{"StateFileOfAnotherSimulation", []string{"-s", unknown, "-t", result}, 1, "names no simulation this script knows (simulation: 'ransomware')"},
		{"StateFileWithoutStart", []string{"-s", noStart, "-t", result}, 1, "has no started_at time"},
		{"StateFileWithoutRunID", []string{"-s", noRun, "-t", result}, 1, "run_id is ''"},
		{"DetectedBeforeTheStart", []string{"-s", state, "-t", result, "-d", "2025-12-31T23:00:00Z"}, 1, "before the run started"},
		{"ResultMissing", []string{"-s", state, "-t", filepath.Join(t.TempDir(), "none.tsv")}, 1, "(-t) is not a readable file"},
		{"ResultOfAnotherQuery", []string{"-s", state, "-t", fewColumns}, 1, "the result has no column actor, action, target, errorcode"},
		{"ResultRowWithoutTime", []string{"-s", state, "-t", noTime}, 1, "a row of the result has no time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runTimeline(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", code, tt.code, tt.stderr, stderr)
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("printed on failure:\n%s", stdout)
			}
		})
	}
}

// isTime tells whether s is a time as the script prints it (RFC 3339).
func isTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
