#!/usr/bin/env bash
# undo-credential-exposure.sh: remove what one run of
# simulate-credential-exposure.sh created, as its state file records it.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role, never the simulation users):
#   1. reads and checks the state file before any AWS call: a missing, empty
#      or garbled file, one of another simulation, or one that names
#      resources this simulation never creates is refused, and nothing is
#      deleted;
#   2. checks that the credentials belong to the account the state records;
#   3. deletes the persistence IAM user ir-persistence-RUN_ID, after checking
#      that it carries the run's tag: first its access keys, its attached
#      managed policies (AdministratorAccess), its inline policies (such as
#      the deny-all policy contain-access-key.sh adds) and its console
#      password, which IAM requires gone before the user can go;
#   4. empties the bucket ir-recon-ACCOUNT-RUN_ID, every object version and
#      delete marker, and deletes it;
#   5. marks the state file "undone" (it is kept as a record of the run).
#
# It touches nothing the state file does not name, and something already gone
# is fine: running it twice is safe. A run that stopped part-way is undone
# the same way. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: DeleteAccessKey,
# DetachUserPolicy, DeleteUserPolicy, DeleteUser, DeleteObjects and
# DeleteBucket by the caller, with userAgent containing
# app/ir-workshop-RUN_ID-undo. GuardDuty findings about the run stay until
# they are archived.
#
# Undo: none; deleted users, keys and objects cannot be restored.
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed (what
# remains is still named by the state file; run again), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=credential-exposure

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]

Delete the IAM user, access keys, policy attachment, S3 bucket and objects
that one run of simulate-credential-exposure.sh recorded in STATE_FILE.

  -s STATE_FILE  the state file of the run (credential-exposure-RUN_ID.json)
  -p PROFILE     AWS CLI profile allowed to delete IAM users and S3 buckets
                 (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION      must be the region the state file records, which is used
                 (default: that region)
  -h             show this help
EOF
}

state_file=""
while getopts ':p:r:s:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
undo_begin "$simulation"
account="$(state_get '.account_id')"
user_name="$(state_get '.resources.iam_user // "" | strings')"
bucket="$(state_get '.resources.s3_bucket // "" | strings')"
mapfile -t recorded_keys < <(state_get '.resources.access_key_ids // [] | .[]')
mapfile -t policy_arns < <(state_get '.resources.attached_policy_arns // [] | .[]')

# Refuse a state file that names anything this simulation never creates, so
# that an edited file cannot point undo at other resources.
refuse() {
  die "state file $state_file names $1, which run $run_id of $simulation never creates; nothing was changed"
}
if [[ -n "$user_name" && "$user_name" != "ir-persistence-$run_id" ]]; then
  refuse "IAM user '$user_name'"
fi
if [[ -n "$bucket" && "$bucket" != "ir-recon-$account-$run_id" ]]; then
  refuse "S3 bucket '$bucket'"
fi
for key in "${recorded_keys[@]}"; do
  [[ "$key" =~ ^AKIA[A-Z0-9]{16}$ ]] || refuse "access key '$key'"
done
for arn in "${policy_arns[@]}"; do
  [[ "$arn" =~ ^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$ ]] || refuse "policy '$arn'"
done

state_region_and_account
set_app_id "$run_id-undo"
log "undoing run $run_id as $caller_arn in account $caller_account"

# delete_user: the persistence user and everything IAM requires gone first.
delete_user() {
  local out tag key arn policy keys=() attached=() inline=()
  if ! awsx iam get-user --user-name "$user_name" >/dev/null; then
    if aws_error_is NoSuchEntity; then
      echo "IAM user $user_name: already gone"
      return 0
    fi
    die "cannot read IAM user $user_name" "$(aws_error)"
  fi
  out="$(awsx iam list-user-tags --user-name "$user_name")" ||
    die "cannot read the tags of IAM user $user_name" "$(aws_error)"
  tag="$(jq -r --arg key "$IR_TAG_RUN" '.Tags[]? | select(.Key == $key) | .Value' <<<"$out")"
  if [[ "$tag" != "$run_id" ]]; then
    die "IAM user $user_name exists but its tag $IR_TAG_RUN is '$tag', not $run_id: it is not this run's user, so it was left alone"
  fi

  out="$(awsx iam list-access-keys --user-name "$user_name")" ||
    die "cannot list the access keys of $user_name" "$(aws_error)"
  mapfile -t keys < <(jq -r '.AccessKeyMetadata[]?.AccessKeyId' <<<"$out")
  for key in "${keys[@]}"; do
    if ! awsx iam delete-access-key --user-name "$user_name" --access-key-id "$key" && ! aws_error_is NoSuchEntity; then
      die "cannot delete access key $key of $user_name" "$(aws_error)"
    fi
    echo "IAM user $user_name: deleted access key $key"
  done
  for key in "${recorded_keys[@]}"; do
    if [[ " ${keys[*]} " != *" $key "* ]]; then
      echo "IAM user $user_name: access key $key already gone"
    fi
  done

  out="$(awsx iam list-attached-user-policies --user-name "$user_name")" ||
    die "cannot list the managed policies of $user_name" "$(aws_error)"
  mapfile -t attached < <(jq -r '.AttachedPolicies[]?.PolicyArn' <<<"$out")
  for arn in "${attached[@]}"; do
    if ! awsx iam detach-user-policy --user-name "$user_name" --policy-arn "$arn" && ! aws_error_is NoSuchEntity; then
      die "cannot detach $arn from $user_name" "$(aws_error)"
    fi
    echo "IAM user $user_name: detached $arn"
  done

  out="$(awsx iam list-user-policies --user-name "$user_name")" ||
    die "cannot list the inline policies of $user_name" "$(aws_error)"
  mapfile -t inline < <(jq -r '.PolicyNames[]?' <<<"$out")
  for policy in "${inline[@]}"; do
    if ! awsx iam delete-user-policy --user-name "$user_name" --policy-name "$policy" && ! aws_error_is NoSuchEntity; then
      die "cannot delete inline policy $policy of $user_name" "$(aws_error)"
    fi
    echo "IAM user $user_name: deleted inline policy $policy"
  done

  if ! awsx iam delete-login-profile --user-name "$user_name" && ! aws_error_is NoSuchEntity; then
    die "cannot delete the console password of $user_name" "$(aws_error)"
  fi

  # IAM may still see a just-removed key or policy for a moment.
  if ! retry_while 5 DeleteConflict awsx iam delete-user --user-name "$user_name" && ! aws_error_is NoSuchEntity; then
    die "cannot delete IAM user $user_name" "$(aws_error)"
  fi
  echo "IAM user $user_name: deleted"
}

# delete_bucket: every version and delete marker in the bucket, then the
# bucket.
delete_bucket() {
  local round batch errors emptied="" versions="$IR_TMP/versions.json" batches="$IR_TMP/batches" request="$IR_TMP/delete.json"
  if ! awsx s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account" >/dev/null; then
    if aws_error_is 404 NoSuchBucket; then
      echo "S3 bucket $bucket: already gone"
      return 0
    fi
    die "cannot reach S3 bucket $bucket (403 means it exists but is not this account's)" "$(aws_error)"
  fi
  # A listing is complete (the CLI follows every page), but objects written
  # meanwhile need another round; a bounded number of rounds.
  for round in 1 2 3 4 5; do
    if ! awsx s3api list-object-versions --bucket "$bucket" --expected-bucket-owner "$account" >"$versions"; then
      die "cannot list the objects of S3 bucket $bucket" "$(aws_error)"
    fi
    jq -c '[(.Versions // [])[], (.DeleteMarkers // [])[] | {Key, VersionId}]
      | . as $all | range(0; length; 1000) | {Objects: $all[.:. + 1000], Quiet: true}' \
      "$versions" >"$batches"
    if [[ ! -s "$batches" ]]; then
      emptied=1
      break
    fi
    while IFS= read -r batch; do
      printf '%s\n' "$batch" >"$request"
      if ! errors="$(awsx s3api delete-objects --bucket "$bucket" --expected-bucket-owner "$account" \
        --delete "file://$request" | jq -s '.[0].Errors // [] | length')"; then
        die "cannot delete objects in S3 bucket $bucket" "$(aws_error)"
      fi
      if [[ "$errors" != 0 ]]; then
        die "S3 refused to delete $errors object versions in bucket $bucket"
      fi
      echo "S3 bucket $bucket: deleted $(jq '.Objects | length' "$request") object versions"
    done <"$batches"
  done
  if [[ -z "$emptied" ]]; then
    die "S3 bucket $bucket still had objects after $round rounds of deletes; run again"
  fi
  if ! retry_while 4 BucketNotEmpty awsx s3api delete-bucket --bucket "$bucket" --expected-bucket-owner "$account" &&
    ! aws_error_is NoSuchBucket 404; then
    die "cannot delete S3 bucket $bucket" "$(aws_error)"
  fi
  echo "S3 bucket $bucket: deleted"
}

if [[ -n "$user_name" ]]; then
  delete_user
fi
if [[ -n "$bucket" ]]; then
  delete_bucket
fi
state_status undone
echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
