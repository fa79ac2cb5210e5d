#!/usr/bin/env bash
# undo-s3-exfiltration.sh: undo one run of simulate-s3-exfiltration.sh: turn
# the data bucket's server access logging back on, take the run's public
# statement out of the bucket's policy if it is there, and delete the
# staging bucket named after the run ID with everything in it.
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
#   3. looks at everything before changing anything: the staging bucket
#      ir-exfil-ACCOUNT-RUN_ID, which must carry the run's tag or none (a run
#      stopped between CreateBucket and PutBucketTagging); a bucket these
#      credentials may not read stops the script, naming the missing
#      permission; the data bucket's logging and policy;
#   4. turns the data bucket's server access logging back on where it went
#      before the run: to what the state file recorded, or, with -t, to
#      what the bucket's tag ir-workshop:server-access-logs (set by
#      SimulationStack) names; logging that is on already is left as it is;
#   5. removes the statement the run tried to add to the data bucket's
#      policy (IrWorkshopPublicRead + the run ID without dashes), should it
#      be there: Block Public Access refuses it, so normally it is not;
#   6. empties the staging bucket, every object version and delete marker,
#      and deletes it;
#   7. with -s, marks the state file "undone" (it is kept as a record of the
#      run).
#
# It touches nothing else: not the records, not the rest of the bucket
# policy, not the access logs written before the run. Something already
# undone is fine: running it twice is safe. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: GetBucketLogging,
# PutBucketLogging, GetBucketPolicy, GetBucketTagging, ListObjectVersions,
# DeleteObjects and DeleteBucket by the caller, with userAgent containing
# app/ir-workshop-RUN_ID-undo.
#
# Undo: none; the deleted copies cannot be restored (the records they copy
# stay in the data bucket).
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed (what
# remains is still there to find; run again), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=s3-exfiltration
readonly access_logs_tag=ir-workshop:server-access-logs

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]
       $IR_PROG -t RUN_ID [-b BUCKET] [-p PROFILE] [-r REGION]

Undo one run of simulate-s3-exfiltration.sh: the data bucket's server access
logging back on, the run's public statement out of its policy, and the
staging bucket named after the run ID deleted with its objects: the run
that STATE_FILE records, or RUN_ID.

  -s STATE_FILE  the state file of the run (s3-exfiltration-RUN_ID.json)
  -t RUN_ID      without a state file (lost or damaged): the staging bucket
                 of run RUN_ID, which must carry the tag
                 $IR_TAG_RUN=RUN_ID or none, and the data bucket
  -b BUCKET      with -t, the data bucket (default:
                 ir-workshop-data-ACCOUNT-REGION); with -s, the state file's
  -p PROFILE     AWS CLI profile allowed to delete S3 buckets and change the
                 data bucket's logging and policy (default: \$AWS_PROFILE,
                 else the default credential chain)
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
staging="ir-exfil-$account-$run_id"
public_sid="IrWorkshopPublicRead${run_id//-/}"
recorded_staging="" logs_to=""
if [[ -n "$state_file" ]]; then
  state_read '(.resources.s3_bucket // ""), (.resources.access_logging // ""), (.resources.data_bucket // "")' \
    recorded_staging logs_to bucket
fi
log "undoing run $run_id as $caller_arn in account $account"

# Look at everything before changing anything.
find_run_bucket "$staging"
data_found=""
if [[ -n "$bucket" || -z "$state_file" ]]; then
  bucket="${bucket:-$(data_bucket_name)}"
  if awsx s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account" >/dev/null; then
    data_found=1
  elif ! aws_error_is 404 NoSuchBucket; then
    aws_die "cannot read the data bucket $bucket; nothing was changed" s3:ListBucket
  fi
fi
if [[ -n "$data_found" ]]; then
  if ! logging="$(awsx s3api get-bucket-logging --bucket "$bucket" --expected-bucket-owner "$account")"; then
    aws_die "cannot read the server access logging of $bucket; nothing was changed" s3:GetBucketLogging
  fi
  logs_now="$(jq -r '.LoggingEnabled // empty | "s3://\(.TargetBucket)/\(.TargetPrefix // "")"' <<<"${logging:-{\}}")"
  if [[ -z "$logs_to" && -z "$logs_now" && -z "$state_file" ]]; then
    # -t: where the stack says the logs go.
    if ! tags="$(awsx s3api get-bucket-tagging --bucket "$bucket" --expected-bucket-owner "$account")" &&
      ! aws_error_is NoSuchTagSet; then
      aws_die "cannot read the tags of $bucket; nothing was changed" s3:GetBucketTagging
    fi
    logs_to="$(jq -r --arg key "$access_logs_tag" '.TagSet[]? | select(.Key == $key) | .Value' <<<"${tags:-{\}}")"
    if [[ -n "$logs_to" && ! "$logs_to" =~ ^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/ ]]; then
      die "the tag $access_logs_tag of $bucket is '$logs_to', not s3://BUCKET/PREFIX; nothing was changed"
    fi
  fi
  if policy="$(awsx s3api get-bucket-policy --bucket "$bucket" --expected-bucket-owner "$account" \
    --query Policy --output text)"; then
    :
  elif aws_error_is NoSuchBucketPolicy; then
    policy=""
  else
    aws_die "cannot read the policy of $bucket; nothing was changed" s3:GetBucketPolicy
  fi
fi

if [[ -n "$data_found" ]]; then
  if [[ -n "$logs_now" ]]; then
    echo "S3 bucket $bucket: server access logging is on (to $logs_now)"
  elif [[ -n "$logs_to" ]]; then
    target="${logs_to#s3://}"
    status="$(jq -cn --arg b "${target%%/*}" --arg p "${target#*/}" '{LoggingEnabled: {TargetBucket: $b, TargetPrefix: $p}}')"
    if ! awsx s3api put-bucket-logging --bucket "$bucket" --expected-bucket-owner "$account" \
      --bucket-logging-status "$status"; then
      aws_die "cannot turn the server access logging of $bucket back on" s3:PutBucketLogging
    fi
    echo "S3 bucket $bucket: turned server access logging back on, to $logs_to"
  elif [[ -n "$state_file" ]]; then
    echo "S3 bucket $bucket: server access logging is off; the run did not turn it off (it records no logging it changed)"
  else
    warn "S3 bucket $bucket logs nowhere, and its tag $access_logs_tag does not say where its logs went: turn server access logging on yourself"
  fi
  if [[ -n "$policy" ]] && jq -e --arg sid "$public_sid" 'any(.Statement[]?; .Sid == $sid)' <<<"$policy" >/dev/null; then
    if ! awsx s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$account" \
      --policy "$(jq -c --arg sid "$public_sid" '.Statement |= map(select(.Sid != $sid))' <<<"$policy")"; then
      aws_die "cannot remove the statement $public_sid from the policy of $bucket" s3:PutBucketPolicy
    fi
    echo "S3 bucket $bucket: removed the statement $public_sid from its policy"
  fi
elif [[ -n "$bucket" ]]; then
  echo "S3 bucket $bucket: does not exist, so there is no logging or policy to put back"
fi

if [[ -n "$run_bucket_found" ]]; then
  delete_run_bucket "$staging"
elif [[ -n "$recorded_staging" ]]; then
  echo "S3 bucket $staging: already gone"
else
  echo "S3 bucket $staging: does not exist (already gone, or never created)"
fi
if [[ -n "$state_file" ]]; then
  state_status undone
  echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
else
  echo "Run $run_id of $simulation is undone (by its tag; no state file was read or written)."
fi
