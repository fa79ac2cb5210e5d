#!/usr/bin/env bash
# lock-bucket.sh: lock down an S3 bucket during an incident, the containment
# step of the credential exposure playbook for the bucket the intruder
# staged data in: a bucket policy that denies every S3 action to everyone
# but one principal, the break glass role you act as. An explicit deny wins
# over every allow, so it also ends access that the bucket's own policy or
# ACLs gave to other accounts or to the public. Then you can copy the bucket
# as evidence, knowing nobody else can change it meanwhile.
#
# What it does, with the caller's credentials (-p; the break glass role):
#   1. checks the bucket: it exists, it belongs to the caller's account, it
#      is in the region used, and it is not locked down already; refuses,
#      changing nothing, otherwise;
#   2. keeps the bucket's policy as it is (its exact text, or "no policy")
#      in a new state file, before any change;
#   3. replaces the bucket's policy with
#      playbooks/credential_exposure/policies/lockdown-bucket-policy.json
#      filled in with the bucket and the principal that keeps access, and
#      reads it back.
# The principal that keeps access is the one the caller acts as (for an
# assumed role, the role's ARN): the script refuses to keep another one, as
# the lockdown would then lock the caller out of the bucket and out of its
# own undo. The account's root user can always delete a bucket policy.
#
# What it creates: the state file. What CloudTrail shows, by the caller,
# with app/ir-workshop-RUN_ID in the user agent: GetBucketLocation,
# GetBucketPolicy, PutBucketPolicy.
#
# Undo (once the bucket is copied, or the case allows): restore-bucket-policy.sh
# -s STATE_FILE puts back the policy the bucket had, exactly, or deletes the
# lockdown if it had none.
#
# Exit status: 0 locked down, 1 refused or failed (the state file says what
# was changed), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly kind=bucket-lockdown
readonly lockdown_template="$script_dir/../playbooks/credential_exposure/policies/lockdown-bucket-policy.json"
readonly lockdown_sid=IncidentContainmentDenyAllButBreakGlass
# Attempts until the policy reads back (S3 is eventually consistent).
readonly verify_attempts=5

usage() {
  cat <<EOF
Usage: $IR_PROG -b BUCKET [-n INCIDENT_ID] [-s STATE_FILE] [-p PROFILE] [-r REGION]

Lock down an S3 bucket: replace its bucket policy with one that denies every
S3 action to everyone but the principal you act as (the break glass role),
keeping the policy it had in a state file for restore-bucket-policy.sh.

  -b BUCKET       the bucket, for example amzn-s3-demo-bucket
  -n INCIDENT_ID  incident ID recorded in the state file (default: a new
                  ir-... ID)
  -s STATE_FILE   the new state file (default: ./$kind-RUN_ID.json)
  -p PROFILE      AWS CLI profile of the principal that keeps access
                  (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION       region of the bucket (default: \$AWS_REGION,
                  \$AWS_DEFAULT_REGION, then the profile's region)
  -h              show this help

Undo: restore-bucket-policy.sh -s STATE_FILE
EOF
}

bucket=""
incident=""
state_file=""
while getopts ':b:n:s:p:r:h' opt; do
  case "$opt" in
    b) check_value b "$OPTARG"; bucket="$OPTARG" ;;
    n) check_value n "$OPTARG"; incident="$OPTARG" ;;
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$bucket" ]]; then
  usage_error "missing -b BUCKET"
fi
require_pattern b "$bucket" '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' "an S3 bucket name such as amzn-s3-demo-bucket"
if [[ ! -r "$lockdown_template" ]]; then
  die "cannot read the lockdown policy $lockdown_template"
fi
if [[ -n "$state_file" ]]; then
  require_new_state_file "$state_file"
fi
response_begin
response_run "$kind"
require_new_state_file "$state_file"

# The principal that keeps access: the role or user the caller acts as.
case "$caller_arn" in
  arn:*:sts::*:assumed-role/*/*)
    role_name="${caller_arn#*:assumed-role/}"
    role_name="${role_name%%/*}"
    # The role's ARN with its path, as aws:PrincipalArn has it.
    if ! principal_arn="$(awsx iam get-role --role-name "$role_name" --query Role.Arn --output text)"; then
      aws_die "cannot read role $role_name, which you act as; nothing was changed" iam:GetRole
    fi ;;
  arn:*:iam::*:user/* | arn:*:iam::*:root)
    principal_arn="$caller_arn" ;;
  *)
    die "you act as $caller_arn, which a bucket policy cannot name as the one principal to keep access; act as the break glass role; nothing was changed" ;;
esac

# Step 1: the bucket, checked.
if ! location="$(awsx s3api get-bucket-location --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --query LocationConstraint --output text)"; then
  if aws_error_is NoSuchBucket; then
    die "bucket $bucket does not exist; nothing was changed"
  fi
  aws_die "cannot find bucket $bucket in account $caller_account (it may belong to another account); nothing was changed" s3:GetBucketLocation
fi
case "$location" in
  None | null | "") bucket_region=us-east-1 ;;
  EU) bucket_region=eu-west-1 ;;
  *) bucket_region="$location" ;;
esac
if [[ "$bucket_region" != "$aws_region" ]]; then
  die "bucket $bucket is in region $bucket_region, not $aws_region: pass -r $bucket_region; nothing was changed"
fi

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
if ! before="$(current_policy)"; then
  aws_die "cannot read the policy of bucket $bucket; nothing was changed" s3:GetBucketPolicy
fi
# shellcheck disable=SC2016 # jq variable
if [[ -n "$before" ]] && jq -e --arg sid "$lockdown_sid" 'any(.Statement[]?; .Sid == $sid)' <<<"$before" >/dev/null 2>&1; then
  die "bucket $bucket is locked down already (its policy has statement $lockdown_sid); nothing was changed" \
    "the lockdown's state file keeps the policy it had: undo it with restore-bucket-policy.sh -s STATE_FILE"
fi

# shellcheck disable=SC2016 # jq variables
lockdown="$(jq -c --arg partition "$(partition)" --arg bucket "$bucket" --arg principal "$principal_arn" '
  .Statement[0].Resource = ["arn:\($partition):s3:::\($bucket)", "arn:\($partition):s3:::\($bucket)/*"]
  | .Statement[0].Condition.ArnNotEquals["aws:PrincipalArn"] = $principal' "$lockdown_template")" ||
  die "cannot read the lockdown policy $lockdown_template"

# Step 2: the state file, with the policy as it was.
# shellcheck disable=SC2016 # jq variables
response_state_create "$kind" "$(jq -n --arg bucket "$bucket" --arg principal "$principal_arn" \
  --arg before "$before" --arg lockdown "$lockdown" '{
    bucket: $bucket, principal_arn: $principal, lockdown_policy: $lockdown,
    before: {policy: (if $before == "" then null else $before end)}
  }')"
state_file="$IR_STATE_FILE"
if [[ -n "$before" ]]; then
  log "bucket $bucket: its policy, as it was, is in $state_file"
else
  log "bucket $bucket: it has no bucket policy; $state_file says so"
fi

at_exit() {
  local profile=()
  if [[ "$1" != 0 && "$(state_get .status)" == running ]]; then
    (state_status failed) 2>/dev/null || true
    if [[ -n "$aws_profile" ]]; then
      profile=(-p "$aws_profile")
    fi
    log "the lockdown failed part-way; put the policy back as it was with:"
    printf '  %s\n' "$(shell_quote "$script_dir/restore-bucket-policy.sh" -s "$IR_STATE_FILE" "${profile[@]}")" >&2
  fi
}

# Step 3: the lockdown, read back.
if ! awsx s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" --policy "$lockdown"; then
  aws_die "cannot put the lockdown policy on bucket $bucket" s3:PutBucketPolicy
fi
locked() {
  local now
  now="$(current_policy)" || return 1
  [[ -n "$now" ]] && jq -e --argjson want "$lockdown" '. == $want' <<<"$now" >/dev/null 2>&1
}
if ! retry "$verify_attempts" locked; then
  aws_die "the lockdown policy does not read back on bucket $bucket"
fi
state_status complete

restore=("$script_dir/restore-bucket-policy.sh" -s "$state_file")
if [[ -n "$aws_profile" ]]; then
  restore+=(-p "$aws_profile")
fi
echo "Locked down bucket $bucket for incident $incident (run $run_id, state file $state_file):"
echo "every S3 action is denied to everyone but $principal_arn."
echo "Once the case allows, put back the policy it had with:"
echo "  $(shell_quote "${restore[@]}")"
