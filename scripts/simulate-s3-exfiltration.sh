#!/usr/bin/env bash
# simulate-s3-exfiltration.sh: act as an intruder who found the leaked key of
# a workload that reads a data bucket, and takes the data.
#
# What it does, with the leaked key (profile s3_exfiltration: IAM user
# reporting of SimulationStack, which reads the data bucket's records and,
# as a deliberate weakness, may change the bucket's policy and logging and
# stage copies in buckets named ir-exfil-*):
#   1. discovery: lists the account's buckets, and looks at the data bucket
#      (-b, default ir-workshop-data-ACCOUNT-REGION): its server access
#      logging, its Block Public Access settings, its bucket policy, and its
#      records under records/ (fill them first with seed-data-bucket.sh);
#   2. downloads every record in one burst (aws s3 cp --recursive) into the
#      script's private temporary directory, removed when the script ends;
#   3. tries to open the records to everyone: puts the bucket's policy back
#      with one more statement that allows s3:GetObject on records/* to any
#      principal. The bucket's Block Public Access (BlockPublicPolicy) refuses
#      it, and the refusal is the signal. The attempt is made only when the
#      bucket's Block Public Access settings block public policies and the
#      bucket has a policy; should it be accepted all the same, the script
#      puts the previous policy back at once and stops with an error;
#   4. turns off the bucket's server access logging (recording where the logs
#      went first);
#   5. creates bucket ir-exfil-ACCOUNT-RUN_ID in the same account and copies
#      every record into it (CopyObject, server side).
# Nothing leaves the account (the copies stay in it; the downloads stay on
# the machine that runs the script and are deleted) and nothing becomes
# public.
#
# What it creates or changes: the staging bucket (tagged) and its objects;
# the data bucket's server access logging (off). Tags:
# ir-workshop:simulation-run=RUN_ID, ir-workshop:simulation=s3-exfiltration.
# The state file (-s, default ./s3-exfiltration-RUN_ID.json) is created
# before the first change, exclusively (a second run on the same file stops
# there, having changed nothing), and names each change before the call that
# makes it, so undo works after a crash or Ctrl-C; undo also finds the
# staging bucket by its name, which comes from the run ID. Every AWS CLI
# call sends "app/ir-workshop-RUN_ID" in its User-Agent.
#
# What GuardDuty and CloudTrail should show: by IAM user reporting, from an
# address it never used, with userAgent containing app/ir-workshop-RUN_ID:
# ListBuckets, GetBucketLogging, GetBucketPublicAccessBlock,
# GetBucketPolicy, then S3 data events ListObjects and one GetObject per
# record; PutBucketPolicy refused with AccessDenied (Block Public Access);
# PutBucketLogging; CreateBucket, PutBucketTagging and one CopyObject per
# record (data events). GuardDuty may report Discovery:S3/AnomalousBehavior,
# Exfiltration:S3/AnomalousBehavior and Stealth:S3/ServerAccessLoggingDisabled;
# its anomaly detection needs a baseline of the user's usual S3 activity, so
# in a fresh account the anomaly findings can take a while or not appear.
#
# Undo: scripts/undo-s3-exfiltration.sh -s STATE_FILE [-p PROFILE], with a
# profile allowed to delete S3 buckets and change the data bucket's logging
# and policy (break glass); the command is printed, quoted for pasting, at
# the end of the run, or when it stops early.
#
# Test hooks: IR_WORKSHOP_TEST_CRASH_AFTER=STEP makes the script kill itself
# with SIGKILL after STEP (download, policy, logging, bucket, copies) was
# recorded; IR_WORKSHOP_RETRY_DELAY=SECONDS sets the first retry delay.
#
# Exit status: 0 done, 1 a step failed (the state file names what exists;
# undo it), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=s3-exfiltration
readonly records_prefix=records/

usage() {
  cat <<EOF
Usage: $IR_PROG [-p PROFILE] [-r REGION] [-s STATE_FILE] [-b BUCKET]

Simulate data taken from S3 with a workload's leaked key: discovery, a burst
of downloads, a refused attempt to make the records public, server access
logging turned off, and copies in a new bucket of the same account. Undo
with undo-s3-exfiltration.sh.

  -p PROFILE     AWS CLI profile with the leaked key
                 (default: s3_exfiltration; see
                 configure-simulation-profiles.sh)
  -r REGION      region of the data bucket
                 (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
                 profile's region)
  -s STATE_FILE  where to record what the run creates and changes; must not
                 exist (default: ./s3-exfiltration-RUN_ID.json)
  -b BUCKET      the data bucket (default: ir-workshop-data-ACCOUNT-REGION,
                 SimulationStack's output DataBucketName)
  -h             show this help
EOF
}

aws_profile=s3_exfiltration
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
  simulation_at_exit "$1" "$script_dir/undo-s3-exfiltration.sh"
}
simulation_begin "$simulation"
bucket="${bucket:-$(data_bucket_name)}"
staging="ir-exfil-$caller_account-$run_id"
public_sid="IrWorkshopPublicRead${run_id//-/}"

# Step 1: discovery. Nothing changes yet.
if ! listed="$(awsx s3api list-buckets --query 'Buckets[].Name')"; then
  aws_die "step 1: cannot list the account's buckets" s3:ListAllMyBuckets
fi
if [[ "$(jq --arg b "$bucket" 'index($b) != null' <<<"$listed")" != true ]]; then
  die "step 1: the account has no bucket $bucket: deploy SimulationStack in this account, or pass -b BUCKET; nothing was changed"
fi
if ! logging="$(awsx s3api get-bucket-logging --bucket "$bucket" --expected-bucket-owner "$caller_account")"; then
  aws_die "step 1: cannot read the server access logging of $bucket; nothing was changed" s3:GetBucketLogging
fi
logs_to="$(jq -r '.LoggingEnabled // empty | "s3://\(.TargetBucket)/\(.TargetPrefix // "")"' <<<"${logging:-{\}}")"
if blocks="$(awsx s3api get-public-access-block --bucket "$bucket" --expected-bucket-owner "$caller_account")"; then
  blocks_policies="$(jq -r '.PublicAccessBlockConfiguration.BlockPublicPolicy // false' <<<"$blocks")"
elif aws_error_is NoSuchPublicAccessBlockConfiguration; then
  blocks_policies=false
else
  aws_die "step 1: cannot read the Block Public Access settings of $bucket; nothing was changed" s3:GetBucketPublicAccessBlock
fi
if policy="$(awsx s3api get-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --query Policy --output text)"; then
  :
elif aws_error_is NoSuchBucketPolicy; then
  policy=""
else
  aws_die "step 1: cannot read the policy of $bucket; nothing was changed" s3:GetBucketPolicy
fi
# The whole bucket is listed and the records picked by the query, here and
# in the copies below (see list_all_versions in lib/common.sh).
if ! count="$(awsx s3api list-objects-v2 --bucket "$bucket" --expected-bucket-owner "$caller_account" \
  --query "length(Contents[?starts_with(Key, '$records_prefix')] || \`[]\`)")"; then
  aws_die "step 1: cannot list the records of $bucket; nothing was changed" s3:ListBucket
fi
if [[ "$count" == 0 ]]; then
  die "step 1: $bucket holds no records under $records_prefix: fill it with $script_dir/seed-data-bucket.sh (as an administrator); nothing was changed"
fi
log "step 1: $bucket holds $count records; server access logs ${logs_to:-off}; public policies blocked: $blocks_policies"

simulation_state_create "$simulation"
state_set .resources.data_bucket "$bucket"

# Step 2: the burst of downloads.
loot="$IR_TMP/loot"
mkdir "$loot"
if ! awsx s3 cp "s3://$bucket/" "$loot/" --recursive --exclude '*' --include "$records_prefix*" \
  --only-show-errors >/dev/null; then
  aws_die "step 2: cannot download the records of $bucket" s3:GetObject
fi
downloaded="$(find "$loot" -type f | wc -l | tr -d ' ')"
log "step 2: downloaded $downloaded records ($(du -sk "$loot" | cut -f1) KiB), kept only until the script ends"
checkpoint download

# Step 3: try to open the records to everyone. The public statement is added
# to the bucket's own policy, so that nothing of it is lost should the put be
# accepted.
if [[ "$blocks_policies" != true ]]; then
  warn "step 3: $bucket does not block public bucket policies (Block Public Access, BlockPublicPolicy): not trying to make its records public"
elif [[ -z "$policy" ]]; then
  warn "step 3: $bucket has no bucket policy to put back: not trying to make its records public"
else
  public="$(jq -c --arg sid "$public_sid" --arg arn "arn:$(partition):s3:::$bucket/${records_prefix}*" \
    '.Statement += [{Sid: $sid, Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: $arn}]' <<<"$policy")"
  if awsx s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" --policy "$public"; then
    # Block Public Access did not refuse: put the policy back before
    # anything else.
    if ! awsx s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$caller_account" --policy "$policy"; then
      aws_die "step 3: S3 ACCEPTED a policy that makes the records of $bucket public, and putting its previous policy back FAILED: remove the statement $public_sid from its policy now" s3:PutBucketPolicy
    fi
    die "step 3: S3 accepted a policy that makes the records of $bucket public, although its Block Public Access settings block public policies; the previous policy is back"
  elif aws_error_is AccessDenied; then
    log "step 3: making the records public was refused, as Block Public Access does: $(aws_error | head -n 1)"
  else
    aws_die "step 3: trying a public policy on $bucket failed otherwise than with AccessDenied"
  fi
fi
checkpoint policy

# Step 4: no more server access logs.
if [[ -z "$logs_to" ]]; then
  warn "step 4: the server access logging of $bucket is already off"
else
  state_set .resources.access_logging "$logs_to"
  if ! awsx s3api put-bucket-logging --bucket "$bucket" --expected-bucket-owner "$caller_account" \
    --bucket-logging-status '{}'; then
    aws_die "step 4: cannot turn off the server access logging of $bucket" s3:PutBucketLogging
  fi
  log "step 4: turned off the server access logging of $bucket (it went to $logs_to)"
fi
checkpoint logging

# Step 5: a bucket of the intruder's own in the same account, and the copies.
state_set .resources.s3_bucket "$staging"
create_bucket=(s3api create-bucket --bucket "$staging")
if [[ "$aws_region" != us-east-1 ]]; then
  create_bucket+=(--create-bucket-configuration "LocationConstraint=$aws_region")
fi
if ! awsx "${create_bucket[@]}" >/dev/null; then
  aws_die "step 5: cannot create S3 bucket $staging" s3:CreateBucket
fi
if ! retry_while 3 NoSuchBucket awsx s3api put-bucket-tagging --bucket "$staging" \
  --expected-bucket-owner "$caller_account" --tagging "{\"TagSet\": $(simulation_tags "$simulation" "$run_id")}"; then
  aws_die "step 5: cannot tag S3 bucket $staging" s3:PutBucketTagging
fi
log "step 5: created S3 bucket $staging"
checkpoint bucket

if ! awsx s3 cp "s3://$bucket/" "s3://$staging/" --recursive --exclude '*' --include "$records_prefix*" \
  --only-show-errors >/dev/null; then
  aws_die "step 5: cannot copy the records of $bucket to $staging" "s3:GetObject on $bucket, s3:PutObject on $staging"
fi
log "step 5: copied the records to s3://$staging/$records_prefix"
checkpoint copies

state_status complete
cat <<EOF
Simulation $simulation, run $run_id: complete.
  data bucket     $bucket ($count records read, server access logging off)
  staging bucket  s3://$staging/$records_prefix
  state file      $state_file
Undo it with:
  $(shell_quote "$script_dir/undo-s3-exfiltration.sh" -s "$state_file")
EOF
