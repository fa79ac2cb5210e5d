#!/usr/bin/env bash
# undo-credential-exposure.sh: remove what one run of
# simulate-credential-exposure.sh created: the IAM user and the S3 bucket
# named after its run ID, with everything in them.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role, never the simulation users):
#   1. with -s STATE_FILE, reads and checks the whole state file before any
#      AWS call: a missing, empty, garbled or damaged file (a field missing or
#      of the wrong type), one of another simulation, or one that names
#      resources this run never creates is refused, naming each problem, and
#      nothing is deleted; the refusal prints how to undo by the run's tag
#      instead; with -t RUN_ID, no state file is read: for one that is lost
#      or damaged;
#   2. checks that the credentials belong to the account the state records
#      (with -t, the account is the credentials');
#   3. looks at the run's two resources before deleting anything, so that a
#      refusal changes nothing: the IAM user ir-persistence-RUN_ID, which
#      must carry the run's tag ir-workshop:simulation-run=RUN_ID, and the S3
#      bucket ir-recon-ACCOUNT-RUN_ID, which must carry that tag or none (a
#      run stopped between CreateBucket and PutBucketTagging). A bucket these
#      credentials may not read stops the script, naming the missing
#      permission; a bucket of that name that another account owns is not the
#      run's and is left alone;
#   4. deletes the IAM user: first its access keys, its attached managed
#      policies (AdministratorAccess), its inline policies (such as the
#      deny-all policy contain-access-key.sh adds) and its console password,
#      which IAM requires gone before the user can go;
#   5. empties the bucket, every object version and delete marker, and
#      deletes it;
#   6. with -s, marks the state file "undone" (it is kept as a record of the
#      run).
#
# The names come from the run ID, so an interrupted run's user and bucket
# are found even if the state file missed them; the user's keys and policies
# and the bucket's objects are listed, not taken from the state file. It
# touches nothing else, and something already gone is fine: running it twice
# is safe. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: GetUser, ListUserTags,
# DeleteAccessKey, DetachUserPolicy, DeleteUserPolicy, DeleteUser,
# GetBucketTagging, DeleteObjects and DeleteBucket by the caller, with
# userAgent containing app/ir-workshop-RUN_ID-undo. GuardDuty findings about
# the run stay until they are archived.
#
# Undo: none; deleted users, keys and objects cannot be restored.
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed (what
# remains is still there to find; run again), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=credential-exposure

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]
       $IR_PROG -t RUN_ID [-p PROFILE] [-r REGION]

Delete the IAM user, access keys, policy attachments, S3 bucket and objects
of one run of simulate-credential-exposure.sh, named after its run ID: the
run that STATE_FILE records, or RUN_ID.

  -s STATE_FILE  the state file of the run (credential-exposure-RUN_ID.json)
  -t RUN_ID      without a state file (lost or damaged): the user and bucket
                 of run RUN_ID, which must carry the tag
                 $IR_TAG_RUN=RUN_ID
  -p PROFILE     AWS CLI profile allowed to delete IAM users and S3 buckets
                 (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION      with -s, must be the region the state file records, which
                 is used; with -t, the run's region (default: \$AWS_REGION,
                 \$AWS_DEFAULT_REGION, then the profile's region)
  -h             show this help
EOF
}

state_file=""
while getopts ':p:r:s:t:h' opt; do
  undo_option "$opt" "${OPTARG:-}"
done
shift $((OPTIND - 1))
no_operands "$@"
undo_begin "$simulation"
account="$caller_account"
user_name="ir-persistence-$run_id"
bucket="ir-recon-$account-$run_id"
recorded_user="" recorded_bucket="" recorded_keys=()
if [[ -n "$state_file" ]]; then
  state_read '(.resources.iam_user // ""), (.resources.s3_bucket // "")' recorded_user recorded_bucket
  mapfile -t recorded_keys < <(state_get '.resources.access_key_ids[]')
fi
log "undoing run $run_id as $caller_arn in account $account"

# absent WHAT RECORDED: says that WHAT does not exist: already gone if the
# state file recorded it (RECORDED not empty), else maybe never made.
absent() {
  if [[ -n "$2" ]]; then
    echo "$1: already gone"
  else
    echo "$1: does not exist (already gone, or never created)"
  fi
}

# find_user: sets user_found if the run's IAM user exists; exit 1 if it
# exists without the run's tag, or cannot be read.
find_user() {
  local out tag
  user_found=""
  if ! awsx iam get-user --user-name "$user_name" >/dev/null; then
    if aws_error_is NoSuchEntity; then
      return 0
    fi
    aws_die "cannot read IAM user $user_name; nothing was changed" iam:GetUser
  fi
  out="$(awsx iam list-user-tags --user-name "$user_name")" ||
    aws_die "cannot read the tags of IAM user $user_name; nothing was changed" iam:ListUserTags
  tag="$(jq -r --arg key "$IR_TAG_RUN" '.Tags[]? | select(.Key == $key) | .Value' <<<"$out")"
  if [[ "$tag" != "$run_id" ]]; then
    die "IAM user $user_name exists but its tag $IR_TAG_RUN is '$tag', not $run_id: it is not this run's user; nothing was changed"
  fi
  user_found=1
}

# delete_user: the persistence user and everything IAM requires gone first.
delete_user() {
  local out key arn policy keys=() attached=() inline=()
  out="$(awsx iam list-access-keys --user-name "$user_name")" ||
    aws_die "cannot list the access keys of $user_name" iam:ListAccessKeys
  mapfile -t keys < <(jq -r '.AccessKeyMetadata[]?.AccessKeyId' <<<"$out")
  for key in "${keys[@]}"; do
    if ! awsx iam delete-access-key --user-name "$user_name" --access-key-id "$key" && ! aws_error_is NoSuchEntity; then
      aws_die "cannot delete access key $key of $user_name" iam:DeleteAccessKey
    fi
    echo "IAM user $user_name: deleted access key $key"
  done
  for key in "${recorded_keys[@]}"; do
    if [[ " ${keys[*]} " != *" $key "* ]]; then
      echo "IAM user $user_name: access key $key already gone"
    fi
  done

  out="$(awsx iam list-attached-user-policies --user-name "$user_name")" ||
    aws_die "cannot list the managed policies of $user_name" iam:ListAttachedUserPolicies
  mapfile -t attached < <(jq -r '.AttachedPolicies[]?.PolicyArn' <<<"$out")
  for arn in "${attached[@]}"; do
    if ! awsx iam detach-user-policy --user-name "$user_name" --policy-arn "$arn" && ! aws_error_is NoSuchEntity; then
      aws_die "cannot detach $arn from $user_name" iam:DetachUserPolicy
    fi
    echo "IAM user $user_name: detached $arn"
  done

  out="$(awsx iam list-user-policies --user-name "$user_name")" ||
    aws_die "cannot list the inline policies of $user_name" iam:ListUserPolicies
  mapfile -t inline < <(jq -r '.PolicyNames[]?' <<<"$out")
  for policy in "${inline[@]}"; do
    if ! awsx iam delete-user-policy --user-name "$user_name" --policy-name "$policy" && ! aws_error_is NoSuchEntity; then
      aws_die "cannot delete inline policy $policy of $user_name" iam:DeleteUserPolicy
    fi
    echo "IAM user $user_name: deleted inline policy $policy"
  done

  if ! awsx iam delete-login-profile --user-name "$user_name" && ! aws_error_is NoSuchEntity; then
    aws_die "cannot delete the console password of $user_name" iam:DeleteLoginProfile
  fi

  # IAM may still see a just-removed key or policy for a moment.
  if ! retry_while 5 DeleteConflict awsx iam delete-user --user-name "$user_name" && ! aws_error_is NoSuchEntity; then
    aws_die "cannot delete IAM user $user_name" iam:DeleteUser
  fi
  echo "IAM user $user_name: deleted"
}

# Look at both before deleting anything.
find_user
find_run_bucket "$bucket"
if [[ -n "$user_found" ]]; then
  delete_user
else
  absent "IAM user $user_name" "$recorded_user"
fi
if [[ -n "$run_bucket_found" ]]; then
  delete_run_bucket "$bucket"
else
  absent "S3 bucket $bucket" "$recorded_bucket"
fi
if [[ -n "$state_file" ]]; then
  state_status undone
  echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
else
  echo "Run $run_id of $simulation is undone (by its tag; no state file was read or written)."
fi
