# shellcheck shell=bash
# lib/common.sh: helpers shared by the simulation, undo and response scripts
# in scripts/. Source it, do not run it:
#
#   script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
#   # shellcheck source=lib/common.sh
#   source "$script_dir/lib/common.sh"
#
# A script defines usage() (the help text on stdout) and parses its options
# with getopts, handing -p, -r, -h and getopts' errors to common_option. The
# library then gives it:
#   messages and exits   log, warn, die (exit 1), usage_error (usage, exit 2),
#                        shell_quote (commands printed for the user to paste)
#   arguments            common_option, check_value, no_operands,
#                        resolve_region, require_pattern, check_region_option
#   set-up and exit      ir_init (tools, private temporary directory, exit
#                        trap that runs the script's at_exit)
#   how scripts begin    simulation_begin, simulation_state_create and
#                        simulation_at_exit (simulations),
#                        undo_option and undo_begin (undo scripts: -s
#                        STATE_FILE or -t RUN_ID), response_begin (response
#                        scripts that tag with an incident ID), response_run
#                        and response_state_create (response scripts that
#                        record what they change, to put it back)
#   the AWS CLI          awsx (profile, region, JSON output, errors kept for
#                        aws_error, aws_error_is, aws_unreachable, aws_die),
#                        awsx_key (signed with a key held in memory),
#                        check_identity (credentials and region), partition
#   IDs and tags         new_id, simulation_prefix, response_prefix,
#                        state_prefix, set_app_id, tag_list, simulation_tags,
#                        incident_tags, now, iso_time
#   S3 of a run          find_run_bucket, delete_object_versions,
#                        delete_run_bucket, data_bucket_name
#   state files          simulation_resources (what a state file records),
#                        state_checks (a response record's own fields),
#                        require_new_state_file, state_create (exclusive),
#                        state_set, state_append, state_status,
#                        state_update, state_get, state_read, state_load
#                        (checks the whole file), state_region_and_account
#   JSON                 json_read (several fields with one jq)
#   eventual consistency retry, retry_while (bounded, with backoff)
#   test hook            checkpoint
#
# Everything runs with bash, the AWS CLI (v1 or v2) and jq, in AWS CloudShell
# as on a workstation, and against an emulator through AWS_ENDPOINT_URL.

if [[ -n "${IR_COMMON_SH:-}" ]]; then
  return 0
fi
readonly IR_COMMON_SH=1

# The AWS CLI v2 pages output through less unless told not to; v1 ignores it.
export AWS_PAGER=""

IR_PROG="${0##*/}"
readonly IR_PROG
# bash 4.2 or later: the scripts use mapfile and printf's %(...)T. macOS
# ships bash 3.2; CloudShell and Linux distributions have bash 5.
if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 2))); then
  printf '%s: needs bash 4.2 or later, and this is bash %s; on macOS, install a newer bash (brew install bash) and run the script with it\n' "$IR_PROG" "$BASH_VERSION" >&2
  exit 1
fi
# The script's own path, absolute, for the commands it prints.
IR_SCRIPT="$(cd "$(dirname -- "$0")" && pwd)/$IR_PROG"
readonly IR_SCRIPT
readonly IR_REGION_PATTERN='^[a-z]{2}(-[a-z]+)+-[0-9]+$'
# new_id writes PREFIX-YYYYMMDD-HHMMSS-8 hex digits.
readonly IR_ID_PATTERN='^[a-z]{2,8}-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$'
readonly IR_TAG_RUN='ir-workshop:simulation-run'
readonly IR_TAG_SIMULATION='ir-workshop:simulation'
readonly IR_TAG_INCIDENT='ir-workshop:incident-id'
readonly IR_STATE_VERSION=1

# Set by common_option and resolve_region; awsx applies them.
aws_profile="${AWS_PROFILE:-}"
aws_region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
# The -r value, empty when the region comes from the environment.
region_option=""
# Set by check_identity.
caller_account=""
caller_arn=""
# The state file that state_update writes, set by state_create or state_load.
IR_STATE_FILE=""
# Set by undo_option: the run ID of -t RUN_ID.
tag_run_id=""

# ---------------------------------------------------------------------------
# Messages and exits

# log MESSAGE: a progress line on stderr; stdout is kept for results.
log() {
  printf '%s: %s\n' "$IR_PROG" "$*" >&2
}

# warn MESSAGE: a warning line on stderr.
warn() {
  printf '%s: warning: %s\n' "$IR_PROG" "$*" >&2
}

# die MESSAGE [DETAIL]...: the message and indented details on stderr, exit 1.
die() {
  printf '%s: %s\n' "$IR_PROG" "$1" >&2
  shift
  if (($# > 0)); then
    printf '%s\n' "$@" | sed 's/^/  /' >&2
  fi
  exit 1
}

# usage_error MESSAGE: the message and the script's usage on stderr, exit 2.
usage_error() {
  printf '%s: %s\n' "$IR_PROG" "$1" >&2
  usage >&2
  exit 2
}

# shell_quote WORD...: the words as one line that any POSIX shell reads back
# as the same words: a word of only safe characters as it is, any other in
# single quotes. For every command a script prints for the user to paste.
shell_quote() {
  local word out=() q="'\\''" IFS=' '
  for word in "$@"; do
    if [[ -n "$word" && "$word" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=("$word")
    else
      out+=("'${word//\'/$q}'")
    fi
  done
  printf '%s\n' "${out[*]}"
}

# require_tools TOOL...: exit 1 unless every tool is on PATH.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool is not installed; this script needs bash, the AWS CLI (v1 or v2) and jq"
  done
}

# ---------------------------------------------------------------------------
# Arguments

# check_value OPTION VALUE: usage error unless VALUE is a value, not empty and
# not the next option (as in "-s -p", where -s lost its value).
check_value() {
  if [[ -z "$2" || "$2" == -* ]]; then
    usage_error "option -$1 needs a value"
  fi
}

# common_option OPT OPTARG: the getopts cases every script shares: -p PROFILE,
# -r REGION, -h, a missing value and an unknown option. Call it from the
# default branch of the script's case statement.
common_option() {
  local opt="$1" arg="${2:-}"
  case "$opt" in
    p) check_value p "$arg"; aws_profile="$arg" ;;
    r) check_value r "$arg"; aws_region="$arg"; region_option="$arg" ;;
    h) usage; exit 0 ;;
    :) usage_error "option -$arg needs a value" ;;
    *) usage_error "unknown option -$arg" ;;
  esac
}

# no_operands ARG...: usage error if getopts left any operand.
no_operands() {
  if (($# > 0)); then
    usage_error "unexpected argument: $1"
  fi
}

# require_pattern OPTION VALUE REGEX WHAT: usage error unless VALUE matches.
require_pattern() {
  if [[ ! "$2" =~ $3 ]]; then
    usage_error "option -$1: '$2' is not $4"
  fi
}

# check_region_option: usage error if -r gave a malformed region. For scripts
# that take the region from elsewhere (a state file) and only compare -r.
check_region_option() {
  if [[ -n "$region_option" && ! "$region_option" =~ $IR_REGION_PATTERN ]]; then
    usage_error "region '$region_option' is not an AWS region name such as us-east-1"
  fi
}

# resolve_region: the region from -r, else AWS_REGION, AWS_DEFAULT_REGION or
# the profile's configured region; usage error if none or malformed.
resolve_region() {
  if [[ -z "$aws_region" ]]; then
    if [[ -n "$aws_profile" ]]; then
      aws_region="$(aws configure get region --profile "$aws_profile" 2>/dev/null || true)"
    else
      aws_region="$(aws configure get region 2>/dev/null || true)"
    fi
  fi
  if [[ -z "$aws_region" ]]; then
    usage_error "no region: pass -r REGION or set AWS_REGION"
  fi
  if [[ ! "$aws_region" =~ $IR_REGION_PATTERN ]]; then
    usage_error "region '$aws_region' is not an AWS region name such as us-east-1"
  fi
}

# ---------------------------------------------------------------------------
# Temporary files and exit

# ir_init: checks the tools and creates the private temporary directory
# IR_TMP, removed on exit. Scripts may define at_exit STATUS, run first.
ir_init() {
  require_tools aws jq od
  umask 077
  IR_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ir-workshop.XXXXXX")"
  IR_ERR="$IR_TMP/aws-error"
  : >"$IR_ERR"
  trap 'ir_on_exit' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

ir_on_exit() {
  local status=$?
  trap - EXIT
  if declare -F at_exit >/dev/null; then
    at_exit "$status" || true
  fi
  rm -rf "$IR_TMP"
  exit "$status"
}

# ---------------------------------------------------------------------------
# The AWS CLI

# awsx ARGS...: the AWS CLI with the profile and region of the command line,
# JSON output unless ARGS choose --output, and its error output kept in
# IR_ERR for aws_error.
awsx() {
  local extra=() arg endpoint has_output=""
  for arg in "$@"; do
    if [[ "$arg" == --output ]]; then
      has_output=1
    fi
  done
  if [[ -z "$has_output" ]]; then
    extra+=(--output json)
  fi
  if [[ -n "$aws_profile" ]]; then
    extra+=(--profile "$aws_profile")
  fi
  if [[ -n "$aws_region" ]]; then
    extra+=(--region "$aws_region")
  fi
  # AWS CLI v1 replaces the SQS endpoint with its legacy queue.amazonaws.com
  # name unless --endpoint-url is given, ignoring AWS_ENDPOINT_URL: pass a
  # configured endpoint on.
  if [[ "$1" == sqs ]]; then
    endpoint="${AWS_ENDPOINT_URL_SQS:-${AWS_ENDPOINT_URL:-}}"
    if [[ -n "$endpoint" ]]; then
      extra+=(--endpoint-url "$endpoint")
    fi
  fi
  aws "$@" "${extra[@]}" 2>"$IR_ERR"
}

# awsx_key KEY_ID SECRET_KEY ARGS...: awsx signed with the given access key
# instead of the profile. The key goes to the AWS CLI through its environment:
# it is never written to disk and never appears in a process's arguments.
awsx_key() {
  local aws_profile=""
  (
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
    export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2"
    shift 2
    awsx "$@"
  )
}

# aws_error [PERMISSION]: the last AWS CLI error (first lines), with a hint
# when the cause is a known one. PERMISSION names the IAM action the failed
# call needs, for the hint when it was denied.
aws_error() {
  local text
  text="$(grep -v '^[[:space:]]*$' "$IR_ERR" 2>/dev/null | head -n 6 || true)"
  printf '%s\n' "${text:-(the AWS CLI printed no error)}"
  case "$text" in
    *InvalidClientTokenId* | *SignatureDoesNotMatch* | *AuthFailure* | *UnrecognizedClient* | \
      *"Unable to locate credentials"* | *ExpiredToken* | *"could not be found"*)
      echo "hint: the credentials were rejected; check the profile (-p) or the AWS_* environment variables" ;;
    *AccessDenied* | *UnauthorizedOperation* | *"not authorized"* | *"(403)"*)
      if [[ -n "${1:-}" ]]; then
        echo "hint: these credentials lack the permission $1"
      else
        echo "hint: these credentials are not allowed this action"
      fi ;;
  esac
}

# aws_unreachable: true if the last AWS CLI call reached no AWS endpoint at
# all (no network, a wrong AWS_ENDPOINT_URL, a region with no endpoint), as
# opposed to an answer from AWS.
aws_unreachable() {
  grep -q -e 'Could not connect to the endpoint URL' -e 'Connect timeout on endpoint URL' \
    -e 'Name or service not known' -e 'nodename nor servname' "$IR_ERR" 2>/dev/null
}

# aws_endpoint: the endpoint URL that the last AWS CLI error names, else
# AWS_ENDPOINT_URL, else the region's.
aws_endpoint() {
  local url
  url="$(sed -n 's/.*endpoint URL: "\([^"]*\)".*/\1/p' "$IR_ERR" 2>/dev/null | head -n 1)"
  printf '%s\n' "${url:-${AWS_ENDPOINT_URL:-the AWS endpoints of region $aws_region}}"
}

# aws_die MESSAGE [PERMISSION]: die after a failed AWS CLI call, with MESSAGE
# and the CLI's error (aws_error PERMISSION). When AWS could not be reached
# at all, that comes first: the call never got an answer, so MESSAGE is no
# finding about the account.
aws_die() {
  if aws_unreachable; then
    die "cannot reach AWS at $(aws_endpoint): check the network, any proxy, AWS_ENDPOINT_URL and the region ($aws_region); so: $1" \
      "$(aws_error)"
  fi
  die "$1" "$(aws_error "${2:-}")"
}

# aws_error_code: the error code of the last AWS CLI error, if it named one.
aws_error_code() {
  sed -n 's/.*An error occurred (\([^)]*\)).*/\1/p' "$IR_ERR" 2>/dev/null | head -n 1
}

# aws_error_is CODE...: true if the last AWS CLI error has one of the codes.
aws_error_is() {
  local code want
  code="$(aws_error_code)"
  for want in "$@"; do
    if [[ "$code" == "$want" ]]; then
      return 0
    fi
  done
  return 1
}

# check_identity: calls STS GetCallerIdentity, which needs no permission, to
# check the credentials before anything else happens, and sets
# caller_account and caller_arn. STS is regional, so on AWS a region that
# does not exist or is not enabled fails here too.
check_identity() {
  local out who="credentials from the environment"
  if [[ -n "$aws_profile" ]]; then
    who="profile $aws_profile"
  fi
  # The two fields as one line of text, so that no jq needs to start.
  if ! out="$(awsx sts get-caller-identity --query '[Account, Arn]' --output text)"; then
    if aws_error_is InvalidClientTokenId SignatureDoesNotMatch AuthFailure UnrecognizedClientException ExpiredToken; then
      die "the AWS credentials ($who) were rejected in region $aws_region (an opt-in region must be enabled first); nothing was changed" "$(aws_error)"
    fi
    aws_die "cannot call AWS in region $aws_region with $who; nothing was changed"
  fi
  IFS=$'\t' read -r caller_account caller_arn <<<"$out"
  if [[ ! "$caller_account" =~ ^[0-9]{12}$ ]]; then
    die "STS returned no account ID for these credentials"
  fi
}

# partition: the ARN partition of the caller (aws, aws-cn, aws-us-gov).
partition() {
  local p="${caller_arn#arn:}"
  printf '%s\n' "${p%%:*}"
}

# ---------------------------------------------------------------------------
# IDs and tags

# new_id PREFIX: PREFIX-YYYYMMDD-HHMMSS-RANDOM, RANDOM 8 hex digits from
# /dev/urandom (no uuidgen in every shell). Lower case, so that it fits in
# S3 bucket names.
new_id() {
  local random
  random="$(od -An -N4 -tx1 /dev/urandom)"
  TZ=UTC0 printf '%s-%(%Y%m%d-%H%M%S)T-%s\n' "$1" -1 "${random//[[:space:]]/}"
}

# simulation_prefix SIMULATION: the prefix of the simulation's run IDs.
simulation_prefix() {
  case "$1" in
    credential-exposure) echo ce ;;
    crypto-mining) echo cm ;;
    s3-exfiltration) echo se ;;
    s3-ransomware) echo sr ;;
    *) die "internal error: no simulation $1" ;;
  esac
}

# response_prefix KIND: the prefix of the run IDs of a response script that
# keeps a state file (what it changed, so that it can be put back): KIND is
# instance-isolation (isolate-instance.sh) or bucket-lockdown
# (lock-bucket.sh). Fails, printing nothing, for any other KIND.
response_prefix() {
  case "$1" in
    instance-isolation) echo iso ;;
    bucket-lockdown) echo lock ;;
    *) return 1 ;;
  esac
}

# state_prefix KIND: the run ID prefix of a simulation or of a response KIND.
state_prefix() {
  response_prefix "$1" || simulation_prefix "$1"
}

# state_kind_field KIND: the state file field that names KIND: "response"
# for a response script's record, else "simulation".
state_kind_field() {
  if response_prefix "$1" >/dev/null; then
    echo response
  else
    echo simulation
  fi
}

# state_kind_phrase KIND: KIND in a sentence.
state_kind_phrase() {
  case "$1" in
    instance-isolation) echo "an instance isolation" ;;
    bucket-lockdown) echo "a bucket lockdown" ;;
    *) echo "a $1 simulation" ;;
  esac
}

# state_undo_script KIND: the script that undoes what a state file of KIND
# records.
state_undo_script() {
  case "$1" in
    instance-isolation) echo restore-instance.sh ;;
    bucket-lockdown) echo restore-bucket-policy.sh ;;
    *) echo "undo-$1.sh" ;;
  esac
}

# set_app_id RUN_ID: makes every AWS CLI call send "app/ir-workshop-RUN_ID"
# in its User-Agent, which CloudTrail records as userAgent.
set_app_id() {
  export AWS_SDK_UA_APP_ID="ir-workshop-$1"
}

# tag_list KEY VALUE [KEY VALUE]...: the tags as a JSON list of Key/Value
# objects, the shape IAM, S3 and EC2 take.
tag_list() {
  jq -cn '[$ARGS.positional | range(0; length; 2) as $i | {Key: .[$i], Value: .[$i + 1]}]' --args "$@"
}

# simulation_tags SIMULATION RUN_ID [KEY VALUE]...: the tags of every
# resource a simulation run creates, as tag_list.
simulation_tags() {
  tag_list "$IR_TAG_RUN" "$2" "$IR_TAG_SIMULATION" "$1" "${@:3}"
}

# incident_tags INCIDENT_ID [KEY VALUE]...: the tags a response script puts
# on what it contains or preserves, as tag_list.
incident_tags() {
  tag_list "$IR_TAG_INCIDENT" "$1" "${@:2}"
}

# now: the current UTC time, ISO 8601.
now() {
  TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' -1
}

# iso_time TIME: a timestamp as the AWS CLI prints it (ISO 8601, or seconds
# since the epoch, as AWS CLI v1 prints some) in ISO 8601, UTC.
iso_time() {
  if [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' "$((10#${1%%.*}))"
  else
    printf '%s\n' "$1"
  fi
}

# ---------------------------------------------------------------------------
# JSON

# json_read [--arg[json] VAR VALUE]... FILTER NAME... <JSON: several fields
# with one jq: sets each variable NAME, in order, to one value that the jq
# FILTER gives on the JSON on standard input, as "$(jq -rc FILTER)" would
# give that value alone: a string as it is (less trailing newlines),
# anything else as compact JSON. The options are jq's.
# It fails, setting no NAME, if jq fails (with jq's status) or FILTER does
# not give one value for each NAME (status 1):
#   json_read '.run_id, .region' run_id region <"$state_file"
json_read() {
  local json_options=() json_filter json_quoted json_values=() json_i
  while [[ "$1" == --arg || "$1" == --argjson ]]; do
    json_options+=("$1" "$2" "$3")
    shift 3
  done
  json_filter="$1"
  shift
  # @sh quotes each value for the shell, whatever characters it has.
  json_quoted="$(jq -r "${json_options[@]}" "[($json_filter) | if type == \"string\" then . else tojson end] | @sh")" || return
  eval "json_values=($json_quoted)"
  if ((${#json_values[@]} != $#)); then
    printf '%s: json_read: %s gives %d values for the %d names %s\n' "$IR_PROG" "$json_filter" "${#json_values[@]}" $# "$*" >&2
    return 1
  fi
  for ((json_i = 0; json_i < $#; json_i++)); do
    while [[ "${json_values[json_i]}" == *$'\n' ]]; do
      json_values[json_i]="${json_values[json_i]%$'\n'}"
    done
    printf -v "${*:json_i+1:1}" '%s' "${json_values[json_i]}"
  done
}

# ---------------------------------------------------------------------------
# State files
#
# A state file is one JSON object: simulation (for a response script's
# record, response: what it changed, as it was, to put it back),
# state_version, run_id, region, account_id, status (running, complete,
# failed, undone), times, and "resources", what the run created, in the shape
# simulation_resources gives. A run creates its state file exclusively before its first change
# (simulation_state_create), so two runs never share one. Every later write
# goes to a temporary file in the same directory that then replaces the
# state file (mv), so a crash leaves the previous or the next version, never
# half of one.

# simulation_resources KIND: the "resources" of the state files of a
# simulation or response KIND, as a JSON object: for each field, whether it
# is a list of names or one name (or null until it exists), the pattern of a
# name, in which RUN_ID and ACCOUNT stand for the run's ID and account, and
# what a name is, for messages. simulation_state_create and
# response_state_create write a new state file's resources from it;
# state_load checks a state file against it.
simulation_resources() {
  case "$1" in
    credential-exposure)
      cat <<'JSON'
{
  "iam_user": {"list": false, "pattern": "^ir-persistence-RUN_ID$",
               "what": "ir-persistence-RUN_ID, the one IAM user the run creates"},
  "attached_policy_arns": {"list": true, "pattern": "^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$",
                           "what": "the ARN of the AWS managed policy AdministratorAccess"},
  "access_key_ids": {"list": true, "pattern": "^AKIA[A-Z0-9]{16}$", "what": "an access key ID"},
  "s3_bucket": {"list": false, "pattern": "^ir-recon-ACCOUNT-RUN_ID$",
                "what": "ir-recon-ACCOUNT-RUN_ID, the one bucket the run creates"},
  "s3_object_keys": {"list": true, "pattern": "^recon/RUN_ID\\.json$", "what": "recon/RUN_ID.json"}
}
JSON
      ;;
    crypto-mining)
      echo '{"instance_ids": {"list": true, "pattern": "^i-[0-9a-f]{8,17}$", "what": "an instance ID"}}'
      ;;
    instance-isolation)
      # What isolation used or made: the shared isolation group and
      # quarantine network ACL of the VPC, the subnets it put behind that
      # ACL, the snapshots, the roles it gave a session revocation, and the
      # evidence files next to the state file.
      cat <<'JSON'
{
  "isolation_group": {"list": false, "pattern": "^sg-[0-9a-f]{8,17}$", "what": "a security group ID"},
  "quarantine_acl": {"list": false, "pattern": "^acl-[0-9a-f]{8,17}$", "what": "a network ACL ID"},
  "quarantined_subnets": {"list": true, "pattern": "^subnet-[0-9a-f]{8,17}$", "what": "a subnet ID"},
  "snapshot_ids": {"list": true, "pattern": "^snap-[0-9a-f]{8,17}$", "what": "a snapshot ID"},
  "revoked_roles": {"list": true, "pattern": "^[A-Za-z0-9+=,.@_-]{1,64}$", "what": "an IAM role name"},
  "evidence_files": {"list": true, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                     "what": "the name of a file next to the state file"}
}
JSON
      ;;
    bucket-lockdown)
      # A lockdown creates nothing: it replaces the bucket's policy.
      echo '{}'
      ;;
    s3-exfiltration)
      cat <<'JSON'
{
  "data_bucket": {"list": false, "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                  "what": "the name of the data bucket the run read and changed"},
  "access_logging": {"list": false, "pattern": "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/-]*$",
                     "what": "s3://BUCKET/PREFIX, where the data bucket's server access logs went before the run turned them off"},
  "s3_bucket": {"list": false, "pattern": "^ir-exfil-ACCOUNT-RUN_ID$",
                "what": "ir-exfil-ACCOUNT-RUN_ID, the one bucket the run creates"}
}
JSON
      ;;
    s3-ransomware)
      cat <<'JSON'
{
  "data_bucket": {"list": false, "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                  "what": "the name of the data bucket the run encrypted and deleted records in"},
  "kms_key_id": {"list": false, "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                 "what": "the ID of the KMS key the run creates"},
  "encrypted_prefix": {"list": false, "pattern": "^ir-ransom-RUN_ID/$",
                       "what": "ir-ransom-RUN_ID/, the prefix of the encrypted copies"},
  "delete_markers": {"list": true, "pattern": "^records/[^#]+#[^#]+$",
                     "what": "KEY#VERSION_ID, a delete marker the run put on a record"},
  "ransom_note_key": {"list": false, "pattern": "^RESTORE-YOUR-FILES-RUN_ID\\.txt$",
                      "what": "RESTORE-YOUR-FILES-RUN_ID.txt, the ransom note"}
}
JSON
      ;;
    *) die "internal error: no simulation $1" ;;
  esac
}

# state_checks KIND: a jq expression that names each problem of the fields
# of KIND's state files other than the ones every state file has and
# resources (state_load checks those). It sees $doc, the state file, and
# need($object; $key; $prefix; $want; condition), which names a missing key
# or a value for which the condition is false.
state_checks() {
  case "$1" in
    instance-isolation)
      cat <<'JQ'
def id($prefix): type == "string" and test("^\($prefix)-[0-9a-f]{8,17}$");
need($doc; "incident_id"; ""; "an incident ID"; type == "string" and test("^[A-Za-z0-9][A-Za-z0-9_.:/=+@-]{0,127}$")),
need($doc; "instance_id"; ""; "an instance ID such as i-0123456789abcdef0"; id("i")),
need($doc; "vpc_id"; ""; "a VPC ID such as vpc-0123456789abcdef0"; id("vpc")),
need($doc; "steps"; ""; "a list of the steps done"; type == "array" and all(.[]; type == "string")),
need($doc; "revoked_before"; ""; "null or a time such as 2026-01-01T12:00:00Z";
     . == null or (type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))),
need($doc; "options"; ""; "an object"; type == "object"),
need($doc; "before"; ""; "an object: the instance as it was"; type == "object"),
(($doc.options | objects) as $o
 | need($o; "quarantine_acl"; "options."; "auto, always or never"; IN("auto", "always", "never")),
   need($o; "keep_capacity"; "options."; "true or false"; type == "boolean"),
   need($o; "revoke_all_sessions"; "options."; "true or false"; type == "boolean")),
(($doc.before | objects) as $b
 | need($b; "network_interfaces"; "before."; "a list of {id, groups}, one for each network interface";
        type == "array" and length > 0
        and all(.[]; type == "object" and (.id | id("eni")) and (.groups | type == "array" and all(.[]; id("sg"))))),
   need($b; "subnets"; "before."; "a list of {subnet_id, network_acl_id, other_interfaces}";
        type == "array" and length > 0
        and all(.[]; type == "object" and (.subnet_id | id("subnet")) and (.network_acl_id | id("acl"))
                     and (.other_interfaces | type == "array" and all(.[]; type == "string")))),
   need($b; "termination_protection"; "before."; "true or false"; type == "boolean"),
   need($b; "shutdown_behavior"; "before."; "stop or terminate"; IN("stop", "terminate")),
   need($b; "auto_scaling_group"; "before."; "null, or {name, lifecycle_state, desired, min, max}";
        . == null or (type == "object" and (.name | type == "string" and length > 0)
                      and (.lifecycle_state | IN("InService", "Standby"))
                      and ([.desired, .min, .max] | all(type == "number")))),
   need($b; "target_groups"; "before."; "a list of {arn, id, port}";
        type == "array" and all(.[]; type == "object" and (.arn | type == "string" and test(":targetgroup/"))
                                and (.id | type == "string") and (.port | . == null or type == "number"))),
   need($b; "load_balancers"; "before."; "a list of Classic Load Balancer names"; type == "array" and all(.[]; type == "string")),
   need($b; "instance_profile_arn"; "before."; "null or an instance profile ARN";
        . == null or (type == "string" and test("^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/"))),
   need($b; "roles"; "before."; "a list of IAM role names";
        type == "array" and all(.[]; type == "string" and test("^[A-Za-z0-9+=,.@_-]{1,64}$"))))
JQ
      ;;
    bucket-lockdown)
      cat <<'JQ'
need($doc; "incident_id"; ""; "an incident ID"; type == "string" and test("^[A-Za-z0-9][A-Za-z0-9_.:/=+@-]{0,127}$")),
need($doc; "bucket"; ""; "an S3 bucket name"; type == "string" and test("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")),
need($doc; "principal_arn"; ""; "the ARN of the IAM role or user that keeps access";
     type == "string" and test("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/")),
need($doc; "lockdown_policy"; ""; "the lockdown bucket policy as a JSON string";
     type == "string" and (try (fromjson | type == "object") catch false)),
need($doc; "before"; ""; "an object: the bucket's policy as it was"; type == "object"),
(($doc.before | objects) as $b
 | need($b; "policy"; "before."; "null (no policy) or a bucket policy as a JSON string";
        . == null or (type == "string" and (try (fromjson | type == "object") catch false))))
JQ
      ;;
    *) echo empty ;;
  esac
}

# state_in_use FILE: why FILE cannot be a new state file, naming the run it
# records, if it is readable.
state_in_use() {
  local run status started
  run="$(jq -r '.run_id // empty | strings' "$1" 2>/dev/null || true)"
  status="$(jq -r '.status // empty | strings' "$1" 2>/dev/null || true)"
  started="$(jq -r '.started_at // empty | strings' "$1" 2>/dev/null || true)"
  case "$status" in
    "")
      echo "state file $1 already exists; it may record an earlier run: undo that run, or pass another -s STATE_FILE; nothing was changed" ;;
    running)
      echo "state file $1 is in use by run $run, running since ${started:-its start} (in another terminal?): let it end, or pass another -s STATE_FILE; nothing was changed" ;;
    *)
      echo "state file $1 already exists: it records run $run ($status): undo that run, or pass another -s STATE_FILE; nothing was changed" ;;
  esac
}

# require_new_state_file FILE: exit 1 unless FILE can be a new state file:
# one that exists records another run, which must not be lost. A quick check
# before any AWS call; state_create makes sure.
require_new_state_file() {
  if [[ -e "$1" || -L "$1" ]]; then
    die "$(state_in_use "$1")"
  fi
  if [[ ! -d "$(dirname -- "$1")" ]]; then
    die "cannot write state file $1: its directory does not exist; nothing was changed"
  fi
}

# state_create FILE JSON: creates the state file FILE with its first
# version, JSON, and makes it the state file. The file appears whole, and
# only if no file of that name exists: it is written next to FILE and then
# hard-linked to FILE, which fails if FILE exists, whichever run got there
# first. Exit 1 naming the run that holds FILE otherwise.
state_create() {
  local file="$1" tmp
  require_new_state_file "$file"
  tmp="$(mktemp "$file.XXXXXX")" || die "cannot write state file $file; nothing was changed"
  # shellcheck disable=SC2016 # $doc is a jq variable
  if ! jq -n --argjson doc "$2" --arg now "$(now)" '$doc | .updated_at = $now' >"$tmp"; then
    rm -f "$tmp"
    die "cannot write state file $file; nothing was changed"
  fi
  if ! ln -- "$tmp" "$file" 2>/dev/null; then
    # No hard links on this file system: the shell's noclobber creates the
    # file only if it does not exist, though it is empty for a moment.
    if [[ -e "$file" ]] || ! (set -o noclobber && cat "$tmp" >"$file") 2>/dev/null; then
      rm -f "$tmp"
      die "$(state_in_use "$file")"
    fi
  fi
  rm -f "$tmp"
  IR_STATE_FILE="$file"
}

# state_update FILTER [JQ OPTION]...: replaces the state file with the
# output of the jq FILTER on it (options such as --arg NAME VALUE come after
# the filter) and sets updated_at.
state_update() {
  local filter="$1" tmp
  shift
  tmp="$(mktemp "$IR_STATE_FILE.XXXXXX")" || die "cannot write next to state file $IR_STATE_FILE"
  if ! jq "$@" --arg now "$(now)" "($filter) | .updated_at = \$now" "$IR_STATE_FILE" >"$tmp" || [[ ! -s "$tmp" ]]; then
    rm -f "$tmp"
    die "cannot write state file $IR_STATE_FILE"
  fi
  mv -f "$tmp" "$IR_STATE_FILE"
}

# state_set PATH VALUE: sets the jq PATH (.resources.iam_user) to the string
# VALUE in the state file.
state_set() {
  state_update "$1 = \$value" --arg value "$2"
}

# state_append PATH VALUE: appends the string VALUE to the list at PATH.
state_append() {
  state_update "$1 += [\$value]" --arg value "$2"
}

# state_status STATUS: sets status, and STATUS_at to the current time.
state_status() {
  state_update ".status = \$value | .[\$value + \"_at\"] = \$now" --arg value "$1"
}

# state_get FILTER [JQ OPTION]...: the filter's raw output on the state file.
state_get() {
  local filter="$1"
  shift
  jq -r "$@" "$filter" "$IR_STATE_FILE"
}

# state_read FILTER NAME...: json_read on the state file.
state_read() {
  json_read "$@" <"$IR_STATE_FILE"
}

# state_load FILE KIND: checks that FILE is a whole, undamaged state file of
# KIND, a simulation or a response script's record (response_prefix), and
# makes it the state file; exit 1 before any AWS call otherwise. Checked: one
# JSON object; simulation (or response); state_version; run_id, a run ID of
# KIND; region; account_id; status; resources, each of its fields as
# simulation_resources describes it, and no other; and KIND's own fields
# (state_checks). Every problem is named; for an undo script (undo_begin),
# with how to undo by the run's tag instead (undo -t).
state_load() {
  local file="$1" want="$2" got problems kind_field
  kind_field="$(state_kind_field "$want")"
  if [[ ! -e "$file" ]]; then
    die "state file $file does not exist; nothing was changed"
  fi
  if [[ ! -f "$file" || ! -r "$file" ]]; then
    die "state file $file is not a readable file; nothing was changed"
  fi
  if [[ ! -s "$file" ]]; then
    die "state file $file is empty; it records no run, so nothing was changed"
  fi
  if ! got="$(jq -r -s 'if length == 1 and (.[0] | type == "object") then .[0] | (.simulation // .response // "") | strings
    else error("not one object") end' "$file" 2>/dev/null)"; then
    state_damaged "$file" "it is not one JSON object (garbled, cut short, or not a state file)"
  fi
  if [[ -n "$got" && "$got" != "$want" ]]; then
    die "state file $file records $(state_kind_phrase "$got"), not $want: use $(state_undo_script "$got") for it; nothing was changed"
  fi
  # shellcheck disable=SC2016 # jq variables
  problems="$(jq -r --arg sim "$want" --arg prefix "$(state_prefix "$want")" --arg kind "$kind_field" \
    --argjson version "$IR_STATE_VERSION" --arg region_re "$IR_REGION_PATTERN" \
    --argjson shape "$(simulation_resources "$want")" '
    def typename: {"array": "a list", "object": "an object", "null": "null", "string": "a string",
                   "number": "a number", "boolean": "a boolean"}[type];
    def show: if type == "string" then "\u0027\(.)\u0027" elif type == "number" or type == "null" then tojson
              else "\(typename) \(tojson | .[0:60])" end;
    def need($object; $key; $prefix; $want; ok): if ($object | has($key)) | not then "\($prefix)\($key) is missing"
        elif ($object[$key] | ok) then empty else "\($prefix)\($key) is \($object[$key] | show), want \($want)" end;
    . as $doc
    | def field($name; $want; ok): need($doc; $name; ""; $want; ok);
    def text: if type == "string" then . else null end;
    ($doc.run_id | text) as $run | ($doc.account_id | text) as $account
    | field($kind; $sim; . == $sim),
      field("state_version"; $version; . == $version),
      field("run_id"; "a run ID of \($sim), \($prefix)-YYYYMMDD-HHMMSS-XXXXXXXX";
            type == "string" and test("^\($prefix)-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")),
      field("region"; "an AWS region name such as us-east-1"; type == "string" and test($region_re)),
      field("account_id"; "a 12-digit AWS account ID, as a string"; type == "string" and test("^[0-9]{12}$")),
      field("status"; "running, complete, failed or undone"; IN("running", "complete", "failed", "undone")),
      field("resources"; "an object"; type == "object"),
      (select(($doc.resources | type) == "object") | $doc.resources as $res
       | ($shape | to_entries[]
          | .key as $key | .value as $f | "resources.\($key)" as $path
          | ($f.what | gsub("RUN_ID"; $run // "RUN_ID") | gsub("ACCOUNT"; $account // "ACCOUNT")) as $what
          # A name made of a run ID or account that the file lacks is only
          # checked to be a string: its own problem is named above.
          | ($f.pattern | if (test("RUN_ID") and $run == null) or (test("ACCOUNT") and $account == null) then ""
                          else gsub("RUN_ID"; $run) | gsub("ACCOUNT"; $account) end) as $re
          | if ($res | has($key)) | not then "\($path) is missing"
            elif $f.list then
              if ($res[$key] | type) != "array" then "\($path) is \($res[$key] | show), want a list, each \($what)"
              else $res[$key] | to_entries[] | select((.value | type) != "string" or (.value | test($re) | not))
                | "\($path)[\(.key)] is \(.value | show), want \($what)" end
            elif $res[$key] == null or (($res[$key] | type) == "string" and ($res[$key] | test($re))) then empty
            else "\($path) is \($res[$key] | show), want \($what), or null" end),
        ($res | keys[] as $key | select(($shape | has($key)) | not)
         | "resources.\($key) is there, but \($sim) creates no such thing")),
      ('"$(state_checks "$want")"')
    ' "$file")"
  if [[ -n "$problems" ]]; then
    state_damaged "$file" "$problems"
  fi
  IR_STATE_FILE="$file"
}

# state_damaged FILE PROBLEMS: exit 1: FILE is no state file to act on, for
# PROBLEMS (lines); with the command that undoes the run by its tag instead,
# when the run ID and region can be read.
state_damaged() {
  local file="$1" run region command=("$IR_SCRIPT" -t)
  if [[ -z "${IR_UNDO_BY_TAG:-}" ]]; then
    {
      printf '%s: state file %s is damaged; nothing was done:\n' "$IR_PROG" "$file"
      printf '%s\n' "$2" | sed 's/^/  /'
    } >&2
    exit 1
  fi
  run="$(jq -r '.run_id // empty | strings' "$file" 2>/dev/null || true)"
  region="$(jq -r '.region // empty | strings' "$file" 2>/dev/null || true)"
  if [[ ! "$run" =~ $IR_ID_PATTERN ]]; then
    run=RUN_ID
  fi
  command+=("$run")
  if [[ "$region" =~ $IR_REGION_PATTERN ]]; then
    command+=(-r "$region")
  elif [[ -n "$region_option" ]]; then
    command+=(-r "$region_option")
  fi
  if [[ -n "$aws_profile" ]]; then
    command+=(-p "$aws_profile")
  fi
  {
    printf '%s: state file %s is damaged, so it cannot say what the run made; nothing was changed:\n' "$IR_PROG" "$file"
    printf '%s\n' "$2" | sed 's/^/  /'
    printf "To remove instead what carries the run's tag %s=%s, run:\n" "$IR_TAG_RUN" "$run"
    printf '  %s\n' "$(shell_quote "${command[@]}")"
    if [[ "$run" == RUN_ID ]]; then
      printf "with the run's ID for RUN_ID: the simulation printed it, and named its state file after it.\n"
    fi
  } >&2
  exit 1
}

# state_region_and_account: after state_load, sets run_id to the state's
# run ID, makes the state's region the region (-r, if given, must agree) and
# checks, with check_identity, that the credentials belong to the state's
# account.
state_region_and_account() {
  local state_region state_account
  state_read '.run_id, .region, .account_id' run_id state_region state_account
  if [[ -n "$region_option" && "$region_option" != "$state_region" ]]; then
    usage_error "region $region_option (-r) is not the region $state_region that state file $IR_STATE_FILE records"
  fi
  aws_region="$state_region"
  check_identity
  if [[ "$caller_account" != "$state_account" ]]; then
    die "state file $IR_STATE_FILE records account $state_account, but these credentials are for account $caller_account; nothing was changed"
  fi
}

# ---------------------------------------------------------------------------
# How scripts begin

# simulation_begin SIMULATION: the start of a simulation run, after ir_init:
# a new run ID in the global run_id, sent in every AWS CLI call's User-Agent
# (set_app_id); the global state_file, if -s left it empty, becomes
# ./SIMULATION-RUN_ID.json; the credentials are checked (check_identity)
# and the run announced.
simulation_begin() {
  run_id="$(new_id "$(simulation_prefix "$1")")"
  set_app_id "$run_id"
  state_file="${state_file:-$PWD/$1-$run_id.json}"
  check_identity
  log "run $run_id: acting as $caller_arn in account $caller_account, region $aws_region"
}

# simulation_state_create SIMULATION [JSON]: after simulation_begin and
# before the run's first change, creates its state file (state_create,
# exclusive: a second run on the same file stops here, having changed
# nothing), recording the run ID, which every resource of the run will carry
# as its tag ir-workshop:simulation-run, no resource yet
# (simulation_resources), and the fields of the object JSON.
simulation_state_create() {
  # shellcheck disable=SC2016 # jq variables
  state_create "$state_file" "$(jq -n \
    --arg simulation "$1" --argjson version "$IR_STATE_VERSION" \
    --arg run_id "$run_id" --arg region "$aws_region" --arg account "$caller_account" \
    --arg actor "$caller_arn" --arg started "$(now)" --argjson shape "$(simulation_resources "$1")" \
    --argjson extra "${2:-{\}}" '{
      simulation: $simulation, state_version: $version, run_id: $run_id,
      region: $region, account_id: $account, actor_arn: $actor,
      status: "running", started_at: $started
    } + $extra + {resources: ($shape | map_values(if .list then [] else null end))}')"
  log "state file: $state_file"
}

# simulation_at_exit STATUS UNDO_SCRIPT: what a simulation's at_exit does: a
# run that stops early (STATUS not 0) after creating its state file is
# marked failed, and the command that removes what it created, UNDO_SCRIPT
# -s STATE_FILE, is printed, quoted for pasting.
simulation_at_exit() {
  if [[ "$1" != 0 && -n "$IR_STATE_FILE" && -s "$IR_STATE_FILE" ]]; then
    (state_status failed) 2>/dev/null || true
    log "the run stopped before its end; remove what it created with:"
    printf '  %s\n' "$(shell_quote "$2" -s "$IR_STATE_FILE")" >&2
  fi
}

# undo_option OPT OPTARG: the getopts cases every undo script shares: -s
# STATE_FILE, -t RUN_ID, then common_option's.
undo_option() {
  case "$1" in
    s) check_value s "${2:-}"; state_file="$2" ;;
    t) check_value t "${2:-}"; tag_run_id="$2" ;;
    *) common_option "$@" ;;
  esac
}

# undo_begin SIMULATION: the start of an undo script, after its options are
# parsed (undo_option). Usage error unless exactly one of -s STATE_FILE and
# -t RUN_ID was given, well formed. With -s: the state file is loaded and
# checked (state_load) before any AWS call, its region used (-r may only
# repeat it), and the credentials must be for its account. With -t: no state
# file; the region is resolved (resolve_region) and the account is the
# credentials'. Then run_id is set, and the undo's AWS calls
# send app/ir-workshop-RUN_ID-undo in their User-Agent. The run's account
# is caller_account.
undo_begin() {
  local sim="$1" prefix
  prefix="$(simulation_prefix "$sim")"
  if [[ -n "$state_file" && -n "$tag_run_id" ]]; then
    usage_error "-s and -t exclude each other: -s undoes what a state file names, -t what carries a run's tag"
  fi
  if [[ -n "$tag_run_id" ]]; then
    require_pattern t "$tag_run_id" "^$prefix-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\$" "a run ID of $sim ($prefix-YYYYMMDD-HHMMSS-XXXXXXXX)"
    resolve_region
    ir_init
    run_id="$tag_run_id"
    check_identity
  elif [[ -n "$state_file" ]]; then
    check_region_option
    ir_init
    # A damaged state file: say how to undo by the run's tag instead.
    IR_UNDO_BY_TAG=1
    state_load "$state_file" "$sim"
    state_region_and_account
  else
    usage_error "missing -s STATE_FILE (or -t RUN_ID, to undo by the run's tag)"
  fi
  set_app_id "$run_id-undo"
}

# response_begin: the start of a response script, after its own options are
# checked: usage error unless the global incident (-n) is empty or an
# incident ID; the region is resolved (resolve_region); ir_init; incident, if
# empty, becomes a new ir-... ID; the credentials are checked
# (check_identity).
response_begin() {
  if [[ -n "$incident" ]]; then
    require_pattern n "$incident" '^[A-Za-z0-9][A-Za-z0-9_.:/=+@-]{0,127}$' "an incident ID (letters, digits and _.:/=+@-)"
  fi
  resolve_region
  ir_init
  incident="${incident:-$(new_id ir)}"
  check_identity
}

# response_run KIND: for a response script that keeps a state file, after
# response_begin: a new run ID of KIND in the global run_id, sent in every
# AWS CLI call's User-Agent (set_app_id), so that CloudTrail tells the run's
# changes apart; the global state_file, if empty, becomes ./KIND-RUN_ID.json.
response_run() {
  run_id="$(new_id "$(response_prefix "$1")")"
  set_app_id "$run_id"
  state_file="${state_file:-$PWD/$1-$run_id.json}"
}

# response_state_create KIND JSON: after response_run and before the run's
# first change, creates its state file (state_create, exclusive) with the
# run ID, the incident, no resource yet (simulation_resources), and the
# fields of the object JSON: what the script will change, as it was.
response_state_create() {
  # shellcheck disable=SC2016 # jq variables
  state_create "$state_file" "$(jq -n \
    --arg kind "$1" --argjson version "$IR_STATE_VERSION" --arg run_id "$run_id" \
    --arg incident "$incident" --arg region "$aws_region" --arg account "$caller_account" \
    --arg actor "$caller_arn" --arg started "$(now)" --argjson shape "$(simulation_resources "$1")" \
    --argjson extra "$2" '{
      response: $kind, state_version: $version, run_id: $run_id, incident_id: $incident,
      region: $region, account_id: $account, actor_arn: $actor,
      status: "running", started_at: $started
    } + $extra + {resources: ($shape | map_values(if .list then [] else null end))}')"
  log "state file: $state_file"
}

# ---------------------------------------------------------------------------
# S3 buckets and objects that a run creates, for undo scripts: they act on
# run_id in account caller_account.

# What emptying and deleting a run's bucket needs (HeadBucket is
# s3:ListBucket).
readonly IR_S3_UNDO_PERMISSIONS="s3:ListBucket, s3:GetBucketTagging, s3:ListBucketVersions, s3:DeleteObject, s3:DeleteObjectVersion and s3:DeleteBucket"

# find_run_bucket BUCKET: sets run_bucket_found to 1 if BUCKET, which run
# run_id names after itself, exists in this account, and to "" if it does
# not; exit 1 if it carries another run's tag, or if these credentials may
# not read it. HeadBucket answers 403 Forbidden, without an error code, both
# when the caller lacks s3:ListBucket and when another account owns the
# bucket (--expected-bucket-owner): ListBuckets, which lists this account's
# buckets, tells the two apart. A bucket without the run's tag may be one
# that a run stopped between CreateBucket and PutBucketTagging.
find_run_bucket() {
  local bucket="$1" out tag listed
  # shellcheck disable=SC2034 # the undo script reads it
  run_bucket_found=""
  if awsx s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$caller_account" >/dev/null; then
    if out="$(awsx s3api get-bucket-tagging --bucket "$bucket" --expected-bucket-owner "$caller_account")"; then
      tag="$(jq -r --arg key "$IR_TAG_RUN" '.TagSet[]? | select(.Key == $key) | .Value' <<<"$out")"
    elif aws_error_is NoSuchTagSet; then
      tag=""
    else
      aws_die "cannot read the tags of S3 bucket $bucket; nothing was changed" s3:GetBucketTagging
    fi
    if [[ -n "$tag" && "$tag" != "$run_id" ]]; then
      die "S3 bucket $bucket carries the tag $IR_TAG_RUN=$tag, not $run_id: it is not this run's bucket; nothing was changed"
    fi
    # shellcheck disable=SC2034 # the undo script reads it
    run_bucket_found=1
    return 0
  fi
  if aws_error_is 404 NoSuchBucket; then
    return 0
  fi
  if aws_unreachable || ! aws_error_is 403 AccessDenied; then
    aws_die "cannot read S3 bucket $bucket; nothing was changed" s3:ListBucket
  fi
  if ! listed="$(awsx s3api list-buckets --query "Buckets[?Name=='$bucket'].Name" --output text)"; then
    die "cannot read S3 bucket $bucket: these credentials lack the permission s3:ListBucket (HeadBucket answered 403 Forbidden), and may not list buckets either; nothing was changed" \
      "$(aws_error s3:ListAllMyBuckets)" \
      "undo needs, on the bucket, $IR_S3_UNDO_PERMISSIONS: run it with a profile that has them (break glass)"
  fi
  if [[ "$listed" == "$bucket" ]]; then
    die "cannot read S3 bucket $bucket, although it is in this account: these credentials lack the permission s3:ListBucket on it (HeadBucket answered 403 Forbidden); nothing was changed" \
      "undo needs, on the bucket, $IR_S3_UNDO_PERMISSIONS: run it with a profile that has them (break glass)"
  fi
  echo "S3 bucket $bucket: not in this account ($caller_account), so another account owns it and this run did not create it; left alone"
}

# delete_object_versions BUCKET [PREFIX]: deletes every object version and
# delete marker in BUCKET whose key starts with PREFIX (default: all), in
# batches of 1,000, and says how many. It lists the whole bucket and picks
# the keys itself (see list_all_versions).
delete_object_versions() {
  local bucket="$1" prefix="${2:-}" round batch errors emptied="" what
  local versions="$IR_TMP/versions.json" batches="$IR_TMP/batches" request="$IR_TMP/delete.json"
  what="S3 bucket $bucket"
  if [[ -n "$prefix" ]]; then
    what="s3://$bucket/$prefix"
  fi
  # A listing is complete (the CLI follows every page), but objects written
  # meanwhile need another round; a bounded number of rounds.
  for round in 1 2 3 4 5; do
    list_all_versions "$bucket" "$versions" || aws_die "cannot list the objects of $what" s3:ListBucketVersions
    jq -c --arg prefix "$prefix" '[(.Versions // [])[], (.DeleteMarkers // [])[]
      | select(.Key | startswith($prefix)) | {Key, VersionId}]
      | . as $all | range(0; length; 1000) | {Objects: $all[.:. + 1000], Quiet: true}' \
      "$versions" >"$batches"
    if [[ ! -s "$batches" ]]; then
      emptied=1
      break
    fi
    while IFS= read -r batch; do
      printf '%s\n' "$batch" >"$request"
      if ! errors="$(awsx s3api delete-objects --bucket "$bucket" --expected-bucket-owner "$caller_account" \
        --delete "file://$request" | jq -s '.[0].Errors // [] | length')"; then
        aws_die "cannot delete objects in $what" s3:DeleteObjectVersion
      fi
      if [[ "$errors" != 0 ]]; then
        die "S3 refused to delete $errors object versions in $what"
      fi
      echo "$what: deleted $(jq '.Objects | length' "$request") object versions"
    done <"$batches"
  done
  if [[ -z "$emptied" ]]; then
    die "$what still had objects after $round rounds of deletes; run again"
  fi
}

# list_all_versions BUCKET FILE: writes every object version and delete
# marker of BUCKET, in this account, to FILE, as ListObjectVersions gives
# them. The whole bucket, never a prefix: the scripts pick keys with jq or a
# --query instead, which also works against moto_server, whose S3 signature
# check fails on a query string with an encoded "/" (prefix=records%2F).
list_all_versions() {
  awsx s3api list-object-versions --bucket "$1" --expected-bucket-owner "$caller_account" >"$2"
}

# delete_run_bucket BUCKET: every version and delete marker in BUCKET, then
# the bucket.
delete_run_bucket() {
  local bucket="$1"
  delete_object_versions "$bucket"
  if ! retry_while 4 BucketNotEmpty awsx s3api delete-bucket --bucket "$bucket" --expected-bucket-owner "$caller_account" &&
    ! aws_error_is NoSuchBucket 404; then
    aws_die "cannot delete S3 bucket $bucket" s3:DeleteBucket
  fi
  echo "S3 bucket $bucket: deleted"
}

# data_bucket_name: the name of SimulationStack's data bucket in this
# account and region, ir-workshop-data-ACCOUNT-REGION.
data_bucket_name() {
  printf 'ir-workshop-data-%s-%s\n' "$caller_account" "$aws_region"
}

# ---------------------------------------------------------------------------
# Eventual consistency

# retry ATTEMPTS COMMAND [ARG]...: runs COMMAND until it succeeds, at most
# ATTEMPTS times, sleeping between tries with exponential backoff: 1, 2, 4,
# 8, then 15 seconds. Returns the last try's status. Never loops forever.
# IR_WORKSHOP_RETRY_DELAY sets the first delay in seconds (tests use 0).
retry() {
  local attempts="$1"
  shift
  retry_while "$attempts" "" "$@"
}

# retry_while ATTEMPTS CODES COMMAND [ARG]...: retry, but only while the last
# AWS CLI error has one of the space-separated error CODES, the ones that
# mean "not yet" (NoSuchEntity just after CreateUser); any other failure is
# returned at once. Empty CODES retries every failure.
retry_while() {
  local attempts="$1" codes=() try=1 delay="${IR_WORKSHOP_RETRY_DELAY:-1}" status=0
  read -ra codes <<<"$2"
  shift 2
  while :; do
    if "$@"; then
      return 0
    else
      status=$?
    fi
    if ((try >= attempts)); then
      return "$status"
    fi
    if ((${#codes[@]} > 0)) && ! aws_error_is "${codes[@]}"; then
      return "$status"
    fi
    sleep "$delay"
    delay=$((delay * 2))
    if ((delay > 15)); then
      delay=15
    fi
    try=$((try + 1))
  done
}

# ---------------------------------------------------------------------------
# Test hook

# checkpoint STEP: marks the end of a step whose resources are recorded. When
# the environment variable IR_WORKSHOP_TEST_CRASH_AFTER names STEP, the script
# kills itself with SIGKILL, as a crash or a closed CloudShell tab would: no
# trap runs and the state file stays as it is. Tests use it to show that
# undo cleans up after an interrupted run.
checkpoint() {
  if [[ "${IR_WORKSHOP_TEST_CRASH_AFTER:-}" == "$1" ]]; then
    log "test hook IR_WORKSHOP_TEST_CRASH_AFTER: crashing after step $1"
    kill -KILL "$$"
  fi
}
