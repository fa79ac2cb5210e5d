package simulation

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ir-workshop/incident-response-playbooks/test/moto"
)

// TestS3RansomwareRunsAndIsUndoneLeavingNothing deploys both templates into an
// emulator of its own that checks credentials and IAM policies, seeds the
// data bucket, runs the ransomware cases one after the other (they act on
// the one data bucket), and at the end checks with one inventory (IAM, S3
// with every object version, KMS keys and their states, EC2) that nothing of
// any run is left but the runs' keys, pending deletion, and that what was
// made before and outside the runs, the records with every version among
// it, is as it was.
func TestS3RansomwareRunsAndIsUndoneLeavingNothing(t *testing.T) {
	t.Parallel()
	w := newS3Workshop(t)
	testS3Ransomware(t, w)
	requireRunsUndone(t, w.workshop)
	requireBystandersUntouched(t, w.workshop)
}

// testS3Ransomware runs the ransomware simulation three times on the data bucket,
// one run after the other, and undoes each:
//  1. a complete run with the ingest user's key: its own KMS key, scheduled
//     for deletion in 7 days; every record copied encrypted under it and
//     deleted, its versions kept; the note. Undone with the command it
//     printed, pasted (the state file's path has a space and a quote): the
//     key's deletion cancelled before any record is touched and scheduled
//     again after the last copy is gone, and every record's version from
//     before the run current again; then once more: already undone;
//  2. a run killed (SIGKILL: no trap runs) after it recorded the records'
//     delete markers and before the note, undone from its state file;
//  3. a run interrupted by Ctrl-C just after it deleted the records, before
//     it recorded their delete markers, undone by its run ID alone (-t),
//     which finds the key by its tag and the delete markers by their time.
//
// After each, the data bucket's records, with every version, are as the
// seed left them.
func testS3Ransomware(t *testing.T, w *s3Workshop) {
	s, env := w.s, w.env
	seeded := objectVersions(t, w)

	t.Run("CompleteRunEncryptsAndDeletesAndIsUndoneInOrder", func(t *testing.T) {
		path := filepath.Join(w.awkwardDir(t), "s3 ransomware.json")
		res := runScript(t, "", env, "simulate-s3-ransomware.sh", "-s", path)
		mustSucceed(t, res, "simulate-s3-ransomware.sh")
		requireNoSecret(t, "the simulation's output or state file", res.stdout, res.stderr, readFile(t, path))
		st := readS3State(t, path)
		r := st.Resources
		if st.Status != "complete" || !strings.HasSuffix(st.ActorArn, ":user/ingest") || r.DataBucket != w.bucket ||
			r.EncryptedPrefix != "ir-ransom-"+st.RunID+"/" || r.RansomNoteKey != "RESTORE-YOUR-FILES-"+st.RunID+".txt" {
			t.Fatalf("state file: %+v", st)
		}

		key := describeKey(t, w, r.KMSKeyID)
		if key.KeyState != "PendingDeletion" || tagValue(key.tags, runTagKey) != st.RunID {
			t.Errorf("KMS key %s: %s, tags %v; want PendingDeletion with the run's tag", r.KMSKeyID, key.KeyState, key.tags)
		}
		if days := key.DeletionDate.Sub(key.CreationDate.Time).Hours() / 24; days < 6.9 || days > 7.1 {
			t.Errorf("KMS key %s is to be deleted %.1f days after its creation, want 7", r.KMSKeyID, days)
		}
		var copies struct {
			Contents []struct{ Key string }
		}
		s.MustAWSJSON(t, env, &copies, "s3api", "list-objects-v2", "--bucket", w.bucket, "--query", "{Contents: Contents[?starts_with(Key, '"+r.EncryptedPrefix+"')]}")
		if len(copies.Contents) != len(w.records) {
			t.Fatalf("%d encrypted copies under %s, want the %d records", len(copies.Contents), r.EncryptedPrefix, len(w.records))
		}
		var head struct{ ServerSideEncryption, SSEKMSKeyId string }
		s.MustAWSJSON(t, env, &head, "s3api", "head-object", "--bucket", w.bucket, "--key", copies.Contents[0].Key)
		if head.ServerSideEncryption != "aws:kms" || !strings.HasSuffix(head.SSEKMSKeyId, r.KMSKeyID) {
			t.Errorf("copy %s is encrypted %s under %s, want aws:kms under the run's key %s", copies.Contents[0].Key, head.ServerSideEncryption, head.SSEKMSKeyId, r.KMSKeyID)
		}
		after := objectVersions(t, w)
		var markers []string
		for _, v := range after {
			if strings.HasSuffix(v, " latest marker") {
				k, rest, _ := strings.Cut(v, " ")
				id, _, _ := strings.Cut(rest, " ")
				markers = append(markers, k+"#"+id)
			}
		}
		slices.Sort(markers)
		if !slices.Equal(markers, sortedCopy(r.DeleteMarkers)) || len(markers) != len(w.records) {
			t.Errorf("latest delete markers %v; state records %v; want one for each of the %d records", markers, r.DeleteMarkers, len(w.records))
		}
		for _, v := range seeded {
			old := strings.TrimSuffix(v, " latest") + " old"
			if !slices.Contains(after, old) {
				t.Errorf("version %q of the seed is gone or not kept as an old version after the run", v)
			}
		}
		s.MustAWS(t, env, "s3api", "head-object", "--bucket", w.bucket, "--key", r.RansomNoteKey)

		undo := printedCommand(res.stdout, "Undo it with:")
		undone := paste(t, env, undo)
		mustSucceed(t, undone, "the undo command the simulation printed, pasted: "+undo)
		if got := objectVersions(t, w); !slices.Equal(got, seeded) {
			t.Errorf("after undo the records' versions differ from the seed's:\n%s", diffLines(seeded, got))
		}
		requireDataBucketAsDeployed(t, w, "after undo")
		if got := describeKey(t, w, r.KMSKeyID).KeyState; got != "PendingDeletion" {
			t.Errorf("KMS key %s is %s after undo, want PendingDeletion", r.KMSKeyID, got)
		}
		requireUndoOrder(t, w, st.RunID, true, 3)

		again := runScript(t, "", env, "undo-s3-ransomware.sh", "-s", path)
		mustSucceed(t, again, "undo-s3-ransomware.sh, twice")
		if !strings.Contains(again.stdout, "deletion already scheduled") || strings.Contains(again.stdout, "removed the run's") {
			t.Errorf("undo after undo does more than say it is undone:\n%s", again)
		}
		if got := readS3State(t, path).Status; got != "undone" {
			t.Errorf("state file status %q after undo, want undone", got)
		}
		w.expectUndone(t, st.RunID)
	})

	t.Run("CrashedAfterTheDeletesIsUndoneFromItsStateFile", func(t *testing.T) {
		dir := t.TempDir()
		res := runScript(t, dir, moto.WithEnv(env, "IR_WORKSHOP_TEST_CRASH_AFTER=delete"), "simulate-s3-ransomware.sh")
		if res.code != -1 || !strings.Contains(res.stderr, "crashing after step delete") {
			t.Fatalf("want the script killed after step delete\n%s", res)
		}
		path := onlyStateFile(t, dir, "s3-ransomware-")
		st := readS3State(t, path)
		if st.Status != "running" || st.Resources.KMSKeyID == "" || len(st.Resources.DeleteMarkers) != len(w.records) || st.Resources.RansomNoteKey != "" {
			t.Fatalf("state after a crash: %s, %+v; want running (no trap runs on SIGKILL), the key and a delete marker for each of the %d records, no note", st.Status, st.Resources, len(w.records))
		}
		if got := describeKey(t, w, st.Resources.KMSKeyID).KeyState; got != "Enabled" {
			t.Fatalf("KMS key %s is %s after a crash before step schedule, want Enabled", st.Resources.KMSKeyID, got)
		}
		mustSucceed(t, runScript(t, "", env, "undo-s3-ransomware.sh", "-s", path), "undo-s3-ransomware.sh -s STATE_FILE after a crash")
		if got := objectVersions(t, w); !slices.Equal(got, seeded) {
			t.Errorf("after undo of the crashed run the records' versions differ from the seed's:\n%s", diffLines(seeded, got))
		}
		requireDataBucketAsDeployed(t, w, "after undo of the crashed run")
		requireUndoOrder(t, w, st.RunID, false, 2)
		w.expectUndone(t, st.RunID)
	})

	t.Run("InterruptedBeforeRecordingItsDeletesIsUndoneByRunID", func(t *testing.T) {
		hook := moto.NewHook(t, env)
		hook.InterruptAfter(t, "s3api delete-objects")
		dir := t.TempDir()
		res := runScript(t, dir, hook.Env(env), "simulate-s3-ransomware.sh")
		if res.code != 130 {
			t.Fatalf("want exit 130 after SIGINT\n%s", res)
		}
		st := readS3State(t, onlyStateFile(t, dir, "s3-ransomware-"))
		if len(st.Resources.DeleteMarkers) != 0 || st.Resources.KMSKeyID == "" {
			t.Fatalf("state after Ctrl-C: %+v; want the key and no delete marker recorded", st.Resources)
		}
		if got := objectVersions(t, w); slices.Equal(got, seeded) {
			t.Fatal("the interrupted run deleted no record")
		}
		res = runScript(t, "", env, "undo-s3-ransomware.sh", "-t", st.RunID)
		mustSucceed(t, res, "undo-s3-ransomware.sh -t RUN_ID")
		if !strings.Contains(res.stderr, "KMS key "+st.Resources.KMSKeyID+" carries the run's tag") {
			t.Errorf("undo by run ID does not say it found the key by its tag:\n%s", res)
		}
		if got := objectVersions(t, w); !slices.Equal(got, seeded) {
			t.Errorf("after undo by run ID the records' versions differ from the seed's:\n%s", diffLines(seeded, got))
		}
		requireDataBucketAsDeployed(t, w, "after undo by run ID")
		requireUndoOrder(t, w, st.RunID, false, 2)
		w.expectUndone(t, st.RunID)
	})
}

// kmsKey is what the tests read of a KMS key.
type kmsKey struct {
	KeyState                   string
	CreationDate, DeletionDate jsonTime
	tags                       []tag
}

// describeKey returns a key's state, dates and tags.
func describeKey(t *testing.T, w *s3Workshop, id string) kmsKey {
	t.Helper()
	var out struct{ KeyMetadata kmsKey }
	w.s.MustAWSJSON(t, w.env, &out, "kms", "describe-key", "--key-id", id)
	var tags struct {
		Tags []struct{ TagKey, TagValue string }
	}
	w.s.MustAWSJSON(t, w.env, &tags, "kms", "list-resource-tags", "--key-id", id)
	for _, tg := range tags.Tags {
		out.KeyMetadata.tags = append(out.KeyMetadata.tags, tag{tg.TagKey, tg.TagValue})
	}
	return out.KeyMetadata
}

// requireUndoOrder fails the test unless the undo of run runID made its
// deletes calls (DeleteObjects: the delete markers, the copies, the note if
// the run wrote one) and then scheduled the key's deletion, last, and, when
// the run had scheduled it (pending), cancelled it before the first delete;
// when the run had not, the undo cancels nothing. At no moment is the key to
// be deleted while a record is readable only through it.
func requireUndoOrder(t *testing.T, w *s3Workshop, runID string, pending bool, deletes int) {
	t.Helper()
	var order []string
	for _, r := range appRequests(t, w.s, runID+"-undo") {
		switch {
		case strings.HasSuffix(r.action(), ".CancelKeyDeletion"), strings.HasSuffix(r.action(), ".ScheduleKeyDeletion"):
			order = append(order, r.action()[strings.LastIndex(r.action(), ".")+1:])
		case r.action() == "" && r.Method == "POST" && strings.Contains(r.URL, "?delete"):
			order = append(order, "DeleteObjects")
		}
	}
	var want []string
	for range deletes {
		want = append(want, "DeleteObjects")
	}
	want = append(want, "ScheduleKeyDeletion")
	if pending {
		want = append([]string{"CancelKeyDeletion"}, want...)
	}
	if !slices.Equal(order, want) {
		t.Errorf("undo of run %s made %v; want %v", runID, order, want)
	}
}

// jsonTime reads the times of the AWS CLI's JSON output: RFC 3339, or
// seconds since the epoch.
type jsonTime struct{ time.Time }

func (j *jsonTime) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		j.Time = time.Unix(0, int64(f*float64(time.Second)))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	j.Time = parsed
	return err
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
