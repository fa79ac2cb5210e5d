#!/usr/bin/env bash
# undo-s3-ransomware.sh: undo one run of simulate-s3-ransomware.sh, in an
# order that never leaves a record unreadable: cancel the deletion of the
# intruder's key, restore every record's version from before the run, check
# the records, delete the encrypted copies and the ransom note, and only then
# schedule the key's deletion again.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role, never the simulation users):
#   1. with -s STATE_FILE, reads and checks the whole state file before any
#      AWS call: a missing, empty, garbled or damaged file, or one of another
#      simulation, is refused, naming each problem, and nothing is changed;
#      the refusal prints how to undo by the run's tag instead; with -t
#      RUN_ID, no state file is read: for one that is lost or damaged;
#   2. checks that the credentials belong to the account the state records
#      (with -t, the account is the credentials');
#   3. looks at everything before changing anything: the run's KMS key (the
#      one the state file records, or, when it records none, the key that
#      carries the run's tag ir-workshop:simulation-run=RUN_ID), which must
#      carry that tag; the versions of the data bucket's records; the
#      encrypted copies under ir-ransom-RUN_ID/ and the note
#      RESTORE-YOUR-FILES-RUN_ID.txt. The run's delete markers are those the
#      state file records and, for a run that stopped before it recorded
#      them, every record's latest delete marker made since the run's first
#      encrypted copy;
#   4. cancels the key's deletion, if it is scheduled and a delete marker of
#      the run is left: until every record is back, the copies under the key
#      may be the only readable ones;
#   5. removes the run's delete markers (DeleteObjects with their version
#      IDs), which makes each record's version from before the run its
#      current one again: the version IDs, contents and encryption of the
#      records are those they had;
#   6. checks that every record the run deleted has a current version again;
#      if one has not, it stops, leaving the copies and the key as they are;
#   7. deletes every version of the encrypted copies and of the note;
#   8. last, disables the key if it is enabled and schedules its deletion
#      after the shortest waiting period, 7 days (KMS deletes no key sooner);
#   9. with -s, marks the state file "undone" (it is kept as a record of the
#      run).
#
# It touches nothing else: no other record version, no other key. Something
# already undone is fine: running it twice is safe. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: DescribeKey, ListResourceTags,
# CancelKeyDeletion, DisableKey and ScheduleKeyDeletion (KMS), and
# ListObjectVersions, DeleteObjects (with version IDs) by the caller, with
# userAgent containing app/ir-workshop-RUN_ID-undo.
#
# Undo: none. Until KMS deletes the key, its deletion can be cancelled.
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed (what
# remains is still there to find; run again), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=s3-ransomware
readonly records_prefix=records/
readonly pending_days=7

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]
       $IR_PROG -t RUN_ID [-b BUCKET] [-p PROFILE] [-r REGION]

Undo one run of simulate-s3-ransomware.sh: cancel the deletion of its KMS
key, restore every record it deleted to its version from before the run,
delete its encrypted copies and its note, and schedule its key for deletion
again, last: the run that STATE_FILE records, or RUN_ID.

  -s STATE_FILE  the state file of the run (s3-ransomware-RUN_ID.json)
  -t RUN_ID      without a state file (lost or damaged): the key that carries
                 the tag $IR_TAG_RUN=RUN_ID, and the copies and note
                 named after RUN_ID in the data bucket
  -b BUCKET      with -t, the data bucket (default:
                 ir-workshop-data-ACCOUNT-REGION); with -s, the state file's
  -p PROFILE     AWS CLI profile allowed to manage KMS keys and delete
                 object versions (default: \$AWS_PROFILE, else the default
                 credential chain)
  -r REGION      with -s, must be the region the state file records, which
                 is used; with -t, the run's region (default: \$AWS_REGION,
                 \$AWS_DEFAULT_REGION, then the profile's region)
  -h             show this help
EOF
}

state_file=""
bucket=""
while getopts ':p:r:s:t:b:h' opt; do
  case "$opt" in
    b) check_value b "$OPTARG"; bucket="$OPTARG" ;;
    *) undo_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -n "$bucket" ]]; then
  if [[ -n "$state_file" ]]; then
    usage_error "-b goes with -t only: with -s, the data bucket is the one the state file records"
  fi
  require_pattern b "$bucket" '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' "an S3 bucket name"
fi
undo_begin "$simulation"
account="$caller_account"
encrypted="ir-ransom-$run_id/"
note="RESTORE-YOUR-FILES-$run_id.txt"
key_id="" recorded_markers="[]"
if [[ -n "$state_file" ]]; then
  state_read '(.resources.data_bucket // ""), (.resources.kms_key_id // ""), .resources.delete_markers' \
    bucket key_id recorded_markers
else
  bucket="${bucket:-$(data_bucket_name)}"
fi
log "undoing run $run_id as $caller_arn in account $account, region $aws_region"

# key_tag KEY_ID: the value of the key's tag ir-workshop:simulation-run.
key_tag() {
  local out
  out="$(awsx kms list-resource-tags --key-id "$1")" ||
    aws_die "cannot read the tags of KMS key $1; nothing was changed" kms:ListResourceTags
  jq -r --arg key "$IR_TAG_RUN" '.Tags[]? | select(.TagKey == $key) | .TagValue' <<<"$out"
}

# Step 3: look at everything first. The key: the recorded one, else the one
# with the run's tag.
if [[ -z "$key_id" ]]; then
  if ! keys="$(awsx kms list-keys --query 'Keys[].KeyId')"; then
    aws_die "cannot list the KMS keys to find the run's; nothing was changed" kms:ListKeys
  fi
  while IFS= read -r id; do
    if [[ -n "$id" && "$(key_tag "$id")" == "$run_id" ]]; then
      key_id="$id"
      log "KMS key $key_id carries the run's tag"
      break
    fi
  done < <(jq -r '.[]?' <<<"${keys:-null}")
fi
key_state=""
if [[ -n "$key_id" ]]; then
  if key_state="$(awsx kms describe-key --key-id "$key_id" --query KeyMetadata.KeyState --output text)"; then
    if [[ "$(key_tag "$key_id")" != "$run_id" ]]; then
      die "KMS key $key_id does not carry the tag $IR_TAG_RUN=$run_id: it is not this run's key; nothing was changed"
    fi
  elif aws_error_is NotFoundException; then
    key_state=""
  else
    aws_die "cannot read KMS key $key_id; nothing was changed" kms:DescribeKey
  fi
fi

bucket_found=""
if [[ -n "$bucket" ]]; then
  if awsx s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account" >/dev/null; then
    bucket_found=1
  elif ! aws_error_is 404 NoSuchBucket; then
    aws_die "cannot read the data bucket $bucket; nothing was changed" s3:ListBucket
  fi
fi
markers="[]"
if [[ -n "$bucket_found" ]]; then
  versions="$IR_TMP/versions.json"
  list_all_versions "$bucket" "$versions" ||
    aws_die "cannot list the object versions of $bucket; nothing was changed" s3:ListBucketVersions
  # The run's markers: those recorded, if they still exist, and the records'
  # latest markers made since its first copy (the run copies, then deletes).
  # shellcheck disable=SC2016 # jq variables
  markers="$(jq -c --argjson recorded "$recorded_markers" --arg records "$records_prefix" --arg copies "$encrypted" '
    ([.Versions // [] | .[] | select(.Key | startswith($copies)) | .LastModified] | min) as $since
    | [(.DeleteMarkers // [])[] | select(.Key | startswith($records))
       | select(("\(.Key)#\(.VersionId)" as $m | $recorded | index($m))
                or (.IsLatest and $since != null and .LastModified >= $since))
       | {Key, VersionId}] | unique' "$versions")"
fi

# Step 4: the key stays until the records are back. With no delete marker
# of the run left (undone already, or a run stopped before it deleted), no
# record needs it, and a deletion already scheduled keeps its date.
count="$(jq 'length' <<<"$markers")"
if [[ "$key_state" == PendingDeletion && "$count" != 0 ]]; then
  if ! awsx kms cancel-key-deletion --key-id "$key_id" >/dev/null; then
    aws_die "cannot cancel the deletion of KMS key $key_id" kms:CancelKeyDeletion
  fi
  key_state=Disabled
  echo "KMS key $key_id: cancelled its deletion (disabled until the records are back)"
fi

# Step 5: the records' versions from before the run, current again.
if [[ "$count" != 0 ]]; then
  request="$IR_TMP/restore.json"
  jq -c '{Objects: ., Quiet: true}' <<<"$markers" >"$request"
  if ! errors="$(awsx s3api delete-objects --bucket "$bucket" --expected-bucket-owner "$account" \
    --delete "file://$request" | jq -s '.[0].Errors // [] | length')"; then
    aws_die "cannot remove the run's delete markers in $bucket" s3:DeleteObjectVersion
  fi
  if [[ "$errors" != 0 ]]; then
    die "S3 refused to remove $errors of the run's delete markers in $bucket; run again"
  fi
  echo "S3 bucket $bucket: removed the run's $count delete markers"
fi

# Step 6: every record back before anything else goes.
if [[ -n "$bucket_found" ]]; then
  list_all_versions "$bucket" "$versions" || aws_die "cannot list the record versions of $bucket" s3:ListBucketVersions
  missing="$(jq -r --argjson restored "$markers" '
    [(.Versions // [])[] | select(.IsLatest) | .Key] as $current
    | [$restored[].Key] | unique | map(select(. as $k | $current | index($k) | not)) | .[]' "$versions")"
  if [[ -n "$missing" ]]; then
    die "records the run deleted have no current version after their delete markers were removed; the encrypted copies under s3://$bucket/$encrypted and KMS key ${key_id:-(none)} are left as they are:" \
      "$missing"
  fi
  if [[ "$count" != 0 ]]; then
    echo "S3 bucket $bucket: the $(jq '[.[].Key] | unique | length' <<<"$markers") records the run deleted are back, as they were before it"
  fi

  # Step 7: what the run wrote.
  delete_object_versions "$bucket" "$encrypted"
  delete_object_versions "$bucket" "$note"
elif [[ -n "$bucket" ]]; then
  echo "S3 bucket $bucket: does not exist, so there are no records to restore"
fi

# Step 8: the key, last.
if [[ -z "$key_state" ]]; then
  echo "KMS key: ${key_id:-none of the run} is not there (never created, or deleted)"
elif [[ "$key_state" == PendingDeletion ]]; then
  echo "KMS key $key_id: deletion already scheduled"
else
  if [[ "$key_state" == Enabled ]]; then
    if ! awsx kms disable-key --key-id "$key_id"; then
      aws_die "cannot disable KMS key $key_id" kms:DisableKey
    fi
  fi
  if ! deletion="$(awsx kms schedule-key-deletion --key-id "$key_id" --pending-window-in-days "$pending_days" \
    --query DeletionDate --output text)"; then
    aws_die "cannot schedule the deletion of KMS key $key_id" kms:ScheduleKeyDeletion
  fi
  echo "KMS key $key_id: disabled, deletion scheduled for $(iso_time "$deletion") ($pending_days days, the shortest KMS allows)"
fi

if [[ -n "$state_file" ]]; then
  state_status undone
  echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
else
  echo "Run $run_id of $simulation is undone (by its tag; no state file was read or written)."
fi
