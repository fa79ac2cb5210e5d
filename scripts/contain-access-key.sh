#!/usr/bin/env bash
# contain-access-key.sh: contain an exposed IAM user access key, the
# containment step of the credential exposure playbook.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role), checking each step before the next:
#   1. finds the IAM user that owns the key (iam get-access-key-last-used)
#      unless -u names it, and then checks that the key is one of that user's;
#      it refuses to contain the caller's own user;
#   2. deactivates the key (status Inactive; it can be reactivated, and
#      CloudTrail still shows what it did);
#   3. attaches the inline policy ir-containment-deny-all, which denies every
#      action, to the user: it also stops the user's other keys, its console
#      session and the temporary credentials it obtained;
#   4. tags the user ir-workshop:incident-id=INCIDENT_ID and
#      ir-workshop:contained-access-key=ACCESS_KEY_ID.
# It prints what it did. It deletes nothing: evidence stays.
#
# What it creates: the inline policy and the tags; the key's status changes.
# What CloudTrail shows: GetAccessKeyLastUsed, UpdateAccessKey, PutUserPolicy
# and TagUser by the caller. GuardDuty: nothing new; later calls with the key
# fail with InvalidClientTokenId, with the user's other credentials with
# AccessDenied.
#
# Undo (after the investigation):
#   aws iam delete-user-policy --user-name USER --policy-name ir-containment-deny-all
#   aws iam update-access-key --user-name USER --access-key-id KEY --status Active
#   aws iam untag-user --user-name USER --tag-keys ir-workshop:incident-id ir-workshop:contained-access-key
# or, for the simulation's persistence user, undo-credential-exposure.sh.
#
# Exit status: 0 contained, 1 a step failed or did not take effect, 2 bad
# usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly policy_name=ir-containment-deny-all
readonly deny_all='{"Version":"2012-10-17","Statement":[{"Sid":"IncidentContainmentDenyAll","Effect":"Deny","Action":"*","Resource":"*"}]}'
readonly key_tag=ir-workshop:contained-access-key
# Attempts until a change shows when read back (IAM is eventually consistent).
readonly verify_attempts=5

usage() {
  cat <<EOF
Usage: $IR_PROG -k ACCESS_KEY_ID [-u USER_NAME] [-n INCIDENT_ID] [-p PROFILE] [-r REGION]

Contain an exposed IAM access key: deactivate it, deny its user every action
with the inline policy $policy_name, and tag the user with the incident.

  -k ACCESS_KEY_ID  the exposed key, for example AKIAIOSFODNN7EXAMPLE
  -u USER_NAME      the key's IAM user (default: looked up from the key)
  -n INCIDENT_ID    incident ID for the tags (default: a new ir-... ID)
  -p PROFILE        AWS CLI profile allowed to change IAM users
                    (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION         region for the calls (IAM is global)
                    (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
                    profile's region)
  -h                show this help
EOF
}

key_id=""
user_name=""
incident=""
while getopts ':k:u:n:p:r:h' opt; do
  case "$opt" in
    k) check_value k "$OPTARG"; key_id="$OPTARG" ;;
    u) check_value u "$OPTARG"; user_name="$OPTARG" ;;
    n) check_value n "$OPTARG"; incident="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$key_id" ]]; then
  usage_error "missing -k ACCESS_KEY_ID"
fi
if [[ "$key_id" =~ ^ASIA ]]; then
  usage_error "$key_id is a temporary (STS) key: IAM cannot deactivate it; revoke the role's sessions instead"
fi
require_pattern k "$key_id" '^AKIA[A-Z0-9]{16}$' "an IAM user access key ID such as AKIAIOSFODNN7EXAMPLE"
if [[ -n "$user_name" ]]; then
  require_pattern u "$user_name" '^[A-Za-z0-9+=,.@_-]{1,64}$' "an IAM user name"
fi
response_begin

# Step 1: the key's user.
if [[ -z "$user_name" ]]; then
  if ! user_name="$(awsx iam get-access-key-last-used --access-key-id "$key_id" --query UserName --output text)"; then
    aws_die "cannot find access key $key_id in account $caller_account (pass -u USER_NAME if it is a user's key)"
  fi
  if [[ -z "$user_name" || "$user_name" == None ]]; then
    die "IAM returned no user for access key $key_id"
  fi
fi
# key_status: the key's status (Active, Inactive), empty if the user has no
# such key.
key_status() {
  awsx iam list-access-keys --user-name "$user_name" |
    jq -r --arg key "$key_id" '.AccessKeyMetadata[] | select(.AccessKeyId == $key) | .Status'
}
if ! status="$(key_status)"; then
  aws_die "cannot list the access keys of IAM user $user_name"
fi
if [[ -z "$status" ]]; then
  die "access key $key_id is not a key of IAM user $user_name"
fi
if ! user_arn="$(awsx iam get-user --user-name "$user_name" --query User.Arn --output text)"; then
  aws_die "cannot read IAM user $user_name"
fi
if [[ "$user_arn" == "$caller_arn" ]]; then
  die "access key $key_id belongs to $user_arn, the user running this script: containing it would lock you out; use other credentials"
fi
echo "access key $key_id: belongs to IAM user $user_name (status $status); incident $incident"

# Step 2: deactivate, then read back.
if ! awsx iam update-access-key --user-name "$user_name" --access-key-id "$key_id" --status Inactive; then
  aws_die "cannot deactivate access key $key_id"
fi
key_inactive() {
  [[ "$(key_status)" == Inactive ]]
}
if ! retry "$verify_attempts" key_inactive; then
  aws_die "access key $key_id does not read back as Inactive"
fi
echo "access key $key_id: deactivated (status Inactive)"

# Step 3: deny everything, then read back.
if ! awsx iam put-user-policy --user-name "$user_name" --policy-name "$policy_name" --policy-document "$deny_all"; then
  aws_die "cannot attach inline policy $policy_name to $user_name"
fi
policy_present() {
  local document
  document="$(awsx iam get-user-policy --user-name "$user_name" --policy-name "$policy_name" --query PolicyDocument)" || return 1
  # The CLI decodes the URL-encoded document; some versions leave it a string.
  jq -e 'if type == "string" then fromjson else . end
    | any(.Statement[]; .Effect == "Deny" and .Action == "*" and .Resource == "*")' <<<"$document" >/dev/null
}
if ! retry "$verify_attempts" policy_present; then
  aws_die "inline policy $policy_name does not read back on $user_name"
fi
echo "IAM user $user_name: inline policy $policy_name denies every action"

# Step 4: tags, then read back.
if ! awsx iam tag-user --user-name "$user_name" --tags "$(incident_tags "$incident" "$key_tag" "$key_id")"; then
  aws_die "cannot tag IAM user $user_name"
fi
tagged() {
  awsx iam list-user-tags --user-name "$user_name" |
    jq -e --arg key "$IR_TAG_INCIDENT" --arg value "$incident" 'any(.Tags[]; .Key == $key and .Value == $value)' >/dev/null
}
if ! retry "$verify_attempts" tagged; then
  aws_die "IAM user $user_name does not read back with tag $IR_TAG_INCIDENT=$incident"
fi
echo "IAM user $user_name: tagged $IR_TAG_INCIDENT=$incident, $key_tag=$key_id"
echo "Contained access key $key_id of IAM user $user_name for incident $incident."
