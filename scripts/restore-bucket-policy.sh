#!/usr/bin/env bash
# restore-bucket-policy.sh: undo lock-bucket.sh: put back the bucket policy
# that a bucket had before its lockdown, from the lockdown's state file, once
# the bucket is copied as evidence or the case allows.
#
# What it does, with the caller's credentials (-p; the principal that the
# lockdown kept, the break glass role):
#   1. reads and checks the whole state file before any AWS call, and checks
#      that the credentials belong to its account;
#   2. reads the bucket's policy now: if it is still the lockdown, puts back
#      the policy the state file keeps, its exact text, or deletes the
#      lockdown if the bucket had no policy, and reads the result back; if
#      it is already the policy from before, changes nothing; if someone
#      changed it since the lockdown, changes nothing and says so (exit 1):
#      that newer policy is not overwritten;
#   3. marks the state file "undone".
# Running it again changes nothing.
#
# What CloudTrail shows, by the caller, with app/ir-workshop-RUN_ID-restore
# in the user agent: GetBucketPolicy, then PutBucketPolicy or
# DeleteBucketPolicy.
#
# Exit status: 0 restored (or nothing left to restore), 1 refused or failed
# (nothing was changed unless it says so), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly kind=bucket-lockdown
# Attempts until the policy reads back (S3 is eventually consistent).
readonly verify_attempts=5

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]

Undo lock-bucket.sh: put back the bucket policy the bucket had before the
lockdown (exactly), or delete the lockdown if it had none, from the
lockdown's state file.

  -s STATE_FILE  the lockdown's state file ($kind-RUN_ID.json)
  -p PROFILE     AWS CLI profile of the principal that kept access
                 (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION      must be the region the state file records, which is used
  -h             show this help
EOF
}

state_file=""
while getopts ':s:p:r:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$state_file" ]]; then
  usage_error "missing -s STATE_FILE"
fi
check_region_option
ir_init
state_load "$state_file" "$kind"
declare bucket lockdown had_policy before_policy status undone_at
state_read '.bucket, .lockdown_policy, .before.policy != null, .before.policy, .status,
  (.undone_at // "an earlier run")' bucket lockdown had_policy before_policy status undone_at
if [[ "$status" == undone ]]; then
  echo "bucket $bucket: the lockdown that $state_file records was undone at $undone_at; nothing to do"
  exit 0
fi
state_region_and_account
set_app_id "$run_id-restore"

# current_policy: the bucket's policy text; "" (and success) if it has none.
current_policy() {
  local out
  if out="$(awsx s3api get-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" \
    --query Policy --output text)"; then
    printf '%s\n' "$out"
  elif aws_error_is NoSuchBucketPolicy; then
    return 0
  else
    return 1
  fi
}
# is_before TEXT: true if TEXT is the policy the bucket had ("" for none).
is_before() {
  if [[ "$had_policy" == true ]]; then
    [[ -n "$1" ]] && jq -e --argjson text "$1" '.before.policy | fromjson == $text' "$IR_STATE_FILE" >/dev/null 2>&1
  else
    [[ -z "$1" ]]
  fi
}

if ! now="$(current_policy)"; then
  if aws_error_is NoSuchBucket; then
    die "bucket $bucket does not exist any more; nothing to restore; nothing was changed"
  fi
  aws_die "cannot read the policy of bucket $bucket; nothing was changed" s3:GetBucketPolicy
fi
if is_before "$now"; then
  echo "bucket $bucket: its policy is already the one it had before the lockdown; nothing changed"
elif [[ -n "$now" ]] && jq -e --argjson want "$lockdown" '. == $want' <<<"$now" >/dev/null 2>&1; then
  if [[ "$had_policy" == true ]]; then
    if ! awsx s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" \
      --policy "$before_policy"; then
      aws_die "cannot put back the policy of bucket $bucket" s3:PutBucketPolicy
    fi
  elif ! awsx s3api delete-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account"; then
    aws_die "cannot delete the lockdown policy of bucket $bucket" s3:DeleteBucketPolicy
  fi
  restored() {
    local got
    got="$(current_policy)" || return 1
    is_before "$got"
  }
  if ! retry "$verify_attempts" restored; then
    aws_die "the policy of bucket $bucket does not read back as it was before the lockdown"
  fi
  if [[ "$had_policy" == true ]]; then
    echo "bucket $bucket: the policy it had before the lockdown is back"
  else
    echo "bucket $bucket: lockdown policy deleted; it has no bucket policy, as before"
  fi
else
  die "bucket $bucket has a policy that is neither the lockdown nor the one it had before: someone changed it since the lockdown; nothing was changed" \
    "the policy it had before is .before.policy in $state_file"
fi
state_status undone
echo "Lockdown of bucket $bucket undone (run $run_id)."
