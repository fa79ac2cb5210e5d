package simulation

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// s3Scripts are the scripts of the S3 incidents, with the common interface.
var s3Scripts = []string{
	"seed-data-bucket.sh",
	"simulate-s3-exfiltration.sh", "undo-s3-exfiltration.sh",
	"simulate-s3-ransomware.sh", "undo-s3-ransomware.sh",
}

// runStartedS3 finds the run ID that an S3 simulation announces when it
// starts.
var runStartedS3 = regexp.MustCompile(`run ((?:se|sr)-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}): acting as`)

// TestS3ScriptsRefuseBadInputAndChangeNothing deploys both templates into an
// emulator of its own that checks credentials and IAM policies, seeds the
// data bucket, feeds the S3 incidents' scripts bad input side by side, and
// then checks with one inventory that the account is as it was before.
func TestS3ScriptsRefuseBadInputAndChangeNothing(t *testing.T) {
	t.Parallel()
	w := newS3Workshop(t)
	t.Run("Cases", func(t *testing.T) { testS3BadInput(t, w) })
	requireSameInventory(t, "the account after the bad input", w.baseline, takeInventory(t, w.workshop))
	requireDataBucketAsDeployed(t, w, "after the bad input")
	requireBystandersUntouched(t, w.workshop)
}

// testS3BadInput runs the S3 incidents' scripts with bad arguments, state
// files and buckets, and checks that each is refused with a clear message,
// leaves no state file, and sends only requests that read.
func testS3BadInput(t *testing.T, w *s3Workshop) {
	valid := func(sim string) string {
		return strings.Join([]string{`{"simulation": "` + sim + `", "state_version": 1, "run_id": "`,
			map[string]string{"s3-exfiltration": "se", "s3-ransomware": "sr"}[sim], `-20260101-093000-0a1b2c3d", `,
			`"region": "us-east-1", "account_id": "123456789012", "status": "complete", "resources": RESOURCES}`}, "")
	}
	exfiltration := func(resources string) string {
		return writeFile(t, "state.json", strings.Replace(valid("s3-exfiltration"), "RESOURCES", resources, 1))
	}
	ransomware := func(resources string) string {
		return writeFile(t, "state.json", strings.Replace(valid("s3-ransomware"), "RESOURCES", resources, 1))
	}
	type badInput struct {
		name   string
		script string
		args   []string
		env    []string // changes to the responder's environment
		code   int
		want   string // in stderr, or in stdout for code 0
	}
	tests := []badInput{
		{name: "SeedMalformedBucket", script: "seed-data-bucket.sh", args: []string{"-b", "Not_A_Bucket"}, code: 2, want: "-b: 'Not_A_Bucket' is not an S3 bucket name"},
		{name: "SeedUnversionedBucket", script: "seed-data-bucket.sh", args: []string{"-b", w.other.bucket}, code: 1, want: "is not versioned"},
		{name: "ExfiltrationMalformedBucket", script: "simulate-s3-exfiltration.sh", args: []string{"-b", "x"}, code: 2, want: "-b: 'x' is not an S3 bucket name"},
		{name: "ExfiltrationBucketItMayNotRead", script: "simulate-s3-exfiltration.sh", args: []string{"-b", w.other.bucket},
			code: 1, want: "cannot read the server access logging of " + w.other.bucket},
		{name: "ExfiltrationBucketNotInTheAccount", script: "simulate-s3-exfiltration.sh", args: []string{"-b", "no-such-bucket-here"},
			code: 1, want: "the account has no bucket no-such-bucket-here"},
		{name: "ExfiltrationUnknownOption", script: "simulate-s3-exfiltration.sh", args: []string{"-n", "3"}, code: 2, want: "unknown option -n"},
		{name: "ExfiltrationUndoWithoutArguments", script: "undo-s3-exfiltration.sh", code: 2, want: "missing -s STATE_FILE"},
		{name: "ExfiltrationUndoBucketWithStateFile", script: "undo-s3-exfiltration.sh", args: []string{"-s", "x.json", "-b", w.bucket},
			code: 2, want: "-b goes with -t only"},
		{name: "ExfiltrationUndoMalformedRunID", script: "undo-s3-exfiltration.sh", args: []string{"-t", "sr-20260101-093000-0a1b2c3d"},
			code: 2, want: "is not a run ID of s3-exfiltration"},
		{name: "ExfiltrationStateFileNamingAnotherBucket", script: "undo-s3-exfiltration.sh",
			args: []string{"-s", exfiltration(`{"data_bucket": "` + w.bucket + `", "access_logging": null, "s3_bucket": "` + w.other.bucket + `"}`)},
			code: 1, want: "resources.s3_bucket is '" + w.other.bucket + "', want ir-exfil-123456789012-se-20260101-093000-0a1b2c3d"},
		{name: "ExfiltrationStateFileOfRansomware", script: "undo-s3-exfiltration.sh",
			args: []string{"-s", ransomware(`{}`)}, code: 1, want: "records a s3-ransomware simulation, not s3-exfiltration"},
		{name: "RansomwareMalformedBucket", script: "simulate-s3-ransomware.sh", args: []string{"-b", "Records"}, code: 2, want: "-b: 'Records' is not an S3 bucket name"},
		{name: "RansomwareBucketItMayNotRead", script: "simulate-s3-ransomware.sh", args: []string{"-b", w.other.bucket},
			code: 1, want: "cannot read the versioning of " + w.other.bucket},
		{name: "RansomwareMissingStateFileValue", script: "simulate-s3-ransomware.sh", args: []string{"-s", "-b", w.bucket}, code: 2, want: "option -s needs a value"},
		{name: "RansomwareUndoBucketWithStateFile", script: "undo-s3-ransomware.sh", args: []string{"-s", "x.json", "-b", w.bucket},
			code: 2, want: "-b goes with -t only"},
		{name: "RansomwareUndoMalformedRunID", script: "undo-s3-ransomware.sh", args: []string{"-t", "se-20260101-093000-0a1b2c3d"},
			code: 2, want: "is not a run ID of s3-ransomware"},
		{name: "RansomwareStateFileWithAMalformedKeyAndMarker", script: "undo-s3-ransomware.sh",
			args: []string{"-s", ransomware(`{"data_bucket": "` + w.bucket + `", "kms_key_id": "alias/aws/s3", "encrypted_prefix": null,
				"delete_markers": ["customers.csv"], "ransom_note_key": null}`)},
			code: 1, want: "resources.kms_key_id is 'alias/aws/s3', want the ID of the KMS key the run creates"},
		{name: "RansomwareStateFileWithAnUnknownField", script: "undo-s3-ransomware.sh",
			args: []string{"-s", ransomware(`{"data_bucket": null, "kms_key_id": null, "encrypted_prefix": null,
				"delete_markers": [], "ransom_note_key": null, "s3_bucket": "` + w.other.bucket + `"}`)},
			code: 1, want: "resources.s3_bucket is there, but s3-ransomware creates no such thing"},
	}
	// The endpoint cannot be reached: every script says so first (the
	// undo scripts by run ID, which needs no state file).
	for _, script := range s3Scripts {
		args := map[string][]string{
			"undo-s3-exfiltration.sh": {"-t", "se-20260101-093000-0a1b2c3d"},
			"undo-s3-ransomware.sh":   {"-t", "sr-20260101-093000-0a1b2c3d"},
		}[script]
		tests = append(tests,
			badInput{name: "HelpOf" + strings.TrimSuffix(script, ".sh"), script: script, args: []string{"-h"}, code: 0, want: "Usage: " + script},
			badInput{name: "UnreachableEndpointFor" + strings.TrimSuffix(script, ".sh"), script: script, args: args, env: moto.UnreachableEnv(),
				code: 1, want: cannotReach(script)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			res := runScript(t, dir, moto.WithEnv(w.env, tt.env...), tt.script, tt.args...)
			output := res.stderr
			if tt.code == 0 {
				output = res.stdout
			}
			if res.code != tt.code || !strings.Contains(output, tt.want) {
				t.Errorf("%s %v: want exit %d with %q\n%s", tt.script, tt.args, tt.code, tt.want, res)
			}
			if tt.code == 2 && !strings.Contains(res.stderr, "Usage:") {
				t.Errorf("usage error without the usage on stderr:\n%s", res)
			}
			if m := runStartedS3.FindStringSubmatch(res.stderr); m != nil {
				requireOnlyReads(t, w.workshop, m[1], tt.name)
			}
			noStateFiles(t, dir)
		})
	}

	t.Run("SecondRunOnAStateFileThatExists", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "taken.json")
		state := exfiltration(`{"data_bucket": null, "access_logging": null, "s3_bucket": null}`)
		if err := os.WriteFile(path, []byte(readFile(t, state)), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, script := range []string{"simulate-s3-exfiltration.sh", "simulate-s3-ransomware.sh"} {
			res := runScript(t, "", w.env, script, "-s", path)
			if res.code != 1 || !strings.Contains(res.stderr, "already exists") || !strings.Contains(res.stderr, "nothing was changed") {
				t.Errorf("%s on a state file that exists: want exit 1, nothing changed\n%s", script, res)
			}
		}
		if readFile(t, path) != readFile(t, state) {
			t.Error("the state file of another run changed")
		}
	})
}
