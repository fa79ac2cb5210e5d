#!/usr/bin/env bash
# configure-simulation-profiles.sh: set up the AWS CLI profiles that the threat
# simulations act with.
#
# What it does: reads the access keys of the SimulationStack's IAM users from
# AWS Secrets Manager and writes them as four AWS CLI profiles:
#   credential_exposure  the "leaked" key of IAM user integration (iam:*)
#   crypto_mining        the "pipeline" key of IAM user pipeline (ec2:*)
#   s3_exfiltration      the "leaked" key of IAM user reporting (reads the
#                        data bucket)
#   s3_ransomware        the "leaked" key of IAM user ingest (writes the data
#                        bucket)
#
# What it reads, with the caller's credentials (-p PROFILE or the usual AWS
# environment): the outputs CredentialExposureSecretName,
# CryptoMiningSecretName, S3ExfiltrationSecretName and S3RansomwareSecretName
# of the stack (cloudformation:DescribeStacks), then those four secrets
# (secretsmanager:GetSecretValue), each a JSON object with accessKeyId,
# secretAccessKey and userName.
#
# What it writes: only when every secret was read, the profiles'
# aws_access_key_id and aws_secret_access_key into the AWS CLI's credentials
# file (~/.aws/credentials, or AWS_SHARED_CREDENTIALS_FILE), replacing any
# earlier sections of those profiles and keeping every other line; the file
# is then readable by its owner only (0600). The
# keys never appear in a command's arguments, which any local user can read
# in the process table: bash writes them itself (printf is a builtin), to a
# new file that then replaces the old one. The region of the profiles goes
# into the config file (~/.aws/config, or AWS_CONFIG_FILE) with `aws
# configure set`. It creates nothing in AWS and never prints a secret access
# key. CloudTrail shows the caller's DescribeStacks and four GetSecretValue
# calls.
#
# Undo: delete the profiles' sections ([credential_exposure] and the others)
# from the credentials file and [profile credential_exposure] and the others
# from the config file. The keys themselves go with the stack
# (cdk destroy SimulationStack).
#
# Works against AWS and, through AWS_ENDPOINT_URL, against an emulator; needs
# bash, the AWS CLI (v1 or v2) and jq.
#
# Exit status: 0 profiles written, 1 a stack, output or secret could not be
# read (nothing written), 2 bad usage.
set -euo pipefail

# This script holds secret access keys in variables: never trace it, even
# when run with `bash -x`.
{ set +x; } 2>/dev/null

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly stack_pattern='^[A-Za-z][A-Za-z0-9-]{0,127}$'

usage() {
  cat <<EOF
Usage: $IR_PROG [-r REGION] [-p PROFILE] [-s STACK]

Write the AWS CLI profiles credential_exposure, crypto_mining,
s3_exfiltration and s3_ransomware from the access keys that STACK keeps in
AWS Secrets Manager.

  -r REGION   region of the stack and of the new profiles
              (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
              profile's configured region)
  -p PROFILE  AWS CLI profile to read the stack and secrets with
              (default: \$AWS_PROFILE, else the default credential chain)
  -s STACK    simulation stack name (default: SimulationStack)
  -h          show this help
EOF
}

stack=SimulationStack
while getopts ':hr:p:s:' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; stack="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"

require_tools aws jq

if [[ ! "$stack" =~ $stack_pattern ]]; then
  usage_error "stack name '$stack' is not a CloudFormation stack name"
fi

resolve_region
ir_init

if ! stack_json="$(awsx cloudformation describe-stacks --stack-name "$stack")"; then
  aws_die "cannot read stack $stack in $aws_region: is it deployed (cdk deploy $stack), and may these credentials describe it?" \
    cloudformation:DescribeStacks
fi

# stack_output KEY: the value of output KEY of the stack, or nothing.
stack_output() {
  jq -r --arg key "$1" \
    '[.Stacks[0].Outputs // [] | .[] | select(.OutputKey == $key) | .OutputValue][0] // empty' \
    <<<"$stack_json"
}

# read_secret PROFILE OUTPUT: reads the secret that stack output OUTPUT names
# into the globals key_id, secret_key and user_name, for profile PROFILE.
read_secret() {
  local new_profile="$1" output="$2" name secret_json
  name="$(stack_output "$output")"
  if [[ -z "$name" ]]; then
    die "stack $stack in $aws_region has no output $output; is $stack the simulation stack?"
  fi
  if ! secret_json="$(awsx secretsmanager get-secret-value --secret-id "$name" --query SecretString --output text)"; then
    aws_die "cannot read secret $name (output $output of stack $stack) for profile $new_profile; no profile was written" \
      secretsmanager:GetSecretValue
  fi
  # jq reads the secret on stdin; its own errors could quote the input, so
  # they are dropped. A field that is missing or not a string reads as "".
  key_id="" secret_key="" user_name=""
  json_read '(.accessKeyId? | strings) // "", (.secretAccessKey? | strings) // "", (.userName? | strings) // ""' \
    key_id secret_key user_name <<<"$secret_json" 2>/dev/null || true
  if [[ -z "$key_id" || -z "$secret_key" ]]; then
    die "secret $name is not a JSON object with accessKeyId and secretAccessKey; no profile was written"
  fi
}

# The profiles and the stack outputs that name their secrets.
profiles=(credential_exposure crypto_mining s3_exfiltration s3_ransomware)
outputs=(CredentialExposureSecretName CryptoMiningSecretName S3ExfiltrationSecretName S3RansomwareSecretName)

# Read every secret before writing anything, so that a missing one leaves the
# AWS CLI configuration as it was.
key_ids=() secret_keys=() user_names=()
for i in "${!profiles[@]}"; do
  read_secret "${profiles[i]}" "${outputs[i]}"
  key_ids+=("$key_id") secret_keys+=("$secret_key") user_names+=("$user_name")
done
unset key_id secret_key user_name

# credentials_file: the AWS CLI's credentials file, as the CLI finds it; a
# symbolic link is followed, so that its target is what gets written.
credentials_file="${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"
credentials_file="${credentials_file/#\~/$HOME}"
if [[ -L "$credentials_file" ]]; then
  credentials_file="$(readlink -f -- "$credentials_file")" ||
    die "cannot follow the symbolic link $credentials_file; no profile was written"
fi

# write_credentials: replaces the two profiles' sections of the credentials
# file. awk copies every other line of the old file (it never sees a key);
# bash's printf, a builtin, so no process's arguments, appends the keys; the
# new file, made by mktemp under umask 077 (mode 0600), then replaces the
# old one.
write_credentials() {
  local dir tmp
  dir="$(dirname -- "$credentials_file")"
  mkdir -p -- "$dir" || die "cannot create $dir; no profile was written"
  tmp="$(mktemp "$credentials_file.XXXXXX")" || die "cannot write next to $credentials_file; no profile was written"
  if [[ -e "$credentials_file" ]] && ! awk -v drop="${profiles[*]}" '
    BEGIN { n = split(drop, names, " "); for (i = 1; i <= n; i++) dropped[names[i]] = 1 }
    /^[[:space:]]*\[[^]]*\][[:space:]]*$/ {
      name = $0
      sub(/^[[:space:]]*\[[[:space:]]*/, "", name)
      sub(/[[:space:]]*\][[:space:]]*$/, "", name)
      skipping = (name in dropped)
    }
    !skipping { print }
  ' "$credentials_file" >"$tmp"; then
    rm -f "$tmp"
    die "cannot read $credentials_file; no profile was written"
  fi
  if ! for i in "${!profiles[@]}"; do
    printf '\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
      "${profiles[i]}" "${key_ids[i]}" "${secret_keys[i]}"
  done >>"$tmp"; then
    rm -f "$tmp"
    die "cannot write $tmp; no profile was written"
  fi
  chmod 600 "$tmp"
  mv -f -- "$tmp" "$credentials_file" || die "cannot replace $credentials_file; no profile was written"
}

write_credentials
unset secret_keys
for i in "${!profiles[@]}"; do
  aws configure set region "$aws_region" --profile "${profiles[i]}"
done
for i in "${!profiles[@]}"; do
  printf 'profile %s: IAM user %s, region %s\n' "${profiles[i]}" "${user_names[i]:-(unnamed)}" "$aws_region"
done
echo "Wrote them to $credentials_file (mode 0600)."
echo "Use them with --profile NAME; each simulation uses its own by default."
