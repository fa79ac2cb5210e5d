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
#   messages and exits   log, warn, die (exit 1), usage_error (usage, exit 2)
#   arguments            common_option, check_value, no_operands,
#                        resolve_region, require_pattern, check_region_option
#   set-up and exit      ir_init (tools, private temporary directory, exit
#                        trap that runs the script's at_exit)
#   how scripts begin    simulation_begin and simulation_at_exit (simulations),
#                        undo_begin (undo scripts), response_begin (response
#                        scripts that tag with an incident ID)
#   the AWS CLI          awsx (profile, region, JSON output, errors kept for
#                        aws_error, aws_error_is), awsx_key (signed with a
#                        key held in memory), check_identity (credentials
#                        and region), partition
#   IDs and tags         new_id, set_app_id, tag_list, simulation_tags,
#                        incident_tags
#   state files          require_new_state_file, state_create, state_set,
#                        state_append, state_status, state_update,
#                        state_get, state_load, state_region_and_account
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

# aws_error: the last AWS CLI error (first lines), with a hint when the cause
# is a known one.
aws_error() {
  local text
  text="$(grep -v '^[[:space:]]*$' "$IR_ERR" 2>/dev/null | head -n 6 || true)"
  printf '%s\n' "${text:-(the AWS CLI printed no error)}"
  case "$text" in
    *"Could not connect to the endpoint URL"* | *"Name or service not known"*)
      echo "hint: is '$aws_region' an AWS region that exists and is enabled in this account?" ;;
    *InvalidClientTokenId* | *SignatureDoesNotMatch* | *AuthFailure* | *UnrecognizedClient* | \
      *"Unable to locate credentials"* | *ExpiredToken* | *"could not be found"*)
      echo "hint: the credentials were rejected; check the profile (-p) or the AWS_* environment variables" ;;
    *AccessDenied* | *UnauthorizedOperation* | *"not authorized"*)
      echo "hint: these credentials are not allowed this action" ;;
  esac
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
  if ! out="$(awsx sts get-caller-identity)"; then
    if aws_error_is InvalidClientTokenId SignatureDoesNotMatch AuthFailure UnrecognizedClientException ExpiredToken; then
      die "the AWS credentials ($who) were rejected in region $aws_region (an opt-in region must be enabled first); nothing was changed" "$(aws_error)"
    fi
    die "cannot call AWS in region $aws_region with $who; nothing was changed" "$(aws_error)"
  fi
  caller_account="$(jq -r '.Account // empty' <<<"$out")"
  caller_arn="$(jq -r '.Arn // empty' <<<"$out")"
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
  random="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s-%s-%s\n' "$1" "$(date -u +%Y%m%d-%H%M%S)" "$random"
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
  date -u +%Y-%m-%dT%H:%M:%SZ
}

# ---------------------------------------------------------------------------
# State files
#
# A state file is one JSON object: simulation, state_version, run_id,
# region, account_id, status (running, complete, failed, undone), times, and
# "resources", what the run created. Every write goes to a temporary file in
# the same directory that then replaces the state file (mv), so a crash
# leaves the previous or the next version, never half of one.

# require_new_state_file FILE: exit 1 unless FILE can be a new state file:
# one that exists may record an earlier run, which must not be lost.
require_new_state_file() {
  if [[ -e "$1" ]]; then
    die "state file $1 already exists; it may record an earlier run: undo that run, or pass another -s STATE_FILE; nothing was changed"
  fi
  if [[ ! -d "$(dirname -- "$1")" ]]; then
    die "cannot write state file $1: its directory does not exist; nothing was changed"
  fi
}

# state_create FILE JSON: writes the first version of a new state file;
# refuses to overwrite one that exists.
state_create() {
  local file="$1"
  require_new_state_file "$file"
  IR_STATE_FILE="$file"
  # shellcheck disable=SC2016 # $doc is a jq variable
  state_write /dev/null '$doc' -n --argjson doc "$2"
}

# state_update FILTER [JQ OPTION]...: replaces the state file with the
# output of the jq FILTER on it (options such as --arg NAME VALUE come after
# the filter) and sets updated_at.
state_update() {
  local filter="$1"
  shift
  state_write "$IR_STATE_FILE" "$filter" "$@"
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

# state_write INPUT FILTER [JQ OPTION]...: jq FILTER on INPUT, plus
# updated_at, atomically replaces the state file.
state_write() {
  local input="$1" filter="$2" tmp
  shift 2
  tmp="$(mktemp "$IR_STATE_FILE.XXXXXX")" || die "cannot write next to state file $IR_STATE_FILE"
  if ! jq "$@" --arg now "$(now)" "($filter) | .updated_at = \$now" "$input" >"$tmp" || [[ ! -s "$tmp" ]]; then
    rm -f "$tmp"
    die "cannot write state file $IR_STATE_FILE"
  fi
  mv -f "$tmp" "$IR_STATE_FILE"
}

# state_get FILTER [JQ OPTION]...: the filter's raw output on the state file.
state_get() {
  local filter="$1"
  shift
  jq -r "$@" "$filter" "$IR_STATE_FILE"
}

# state_load FILE SIMULATION: checks that FILE is a state file of SIMULATION
# (one JSON object with a known version, a run ID and a region) and makes it
# the state file; exit 1 before any AWS call otherwise.
state_load() {
  local file="$1" want="$2" got
  if [[ ! -e "$file" ]]; then
    die "state file $file does not exist; nothing was changed"
  fi
  if [[ ! -f "$file" || ! -r "$file" ]]; then
    die "state file $file is not a readable file; nothing was changed"
  fi
  if [[ ! -s "$file" ]]; then
    die "state file $file is empty; it records no run, so nothing was changed"
  fi
  if ! jq -e -s 'length == 1 and (.[0] | type == "object")' "$file" >/dev/null 2>&1; then
    die "state file $file is not a JSON object (garbled or not a state file); nothing was changed"
  fi
  got="$(jq -r '.simulation // "" | strings' "$file")"
  if [[ "$got" != "$want" ]]; then
    if [[ -n "$got" ]]; then
      die "state file $file records a $got simulation, not $want: use undo-$got.sh for it; nothing was changed"
    fi
    die "state file $file names no simulation; nothing was changed"
  fi
  if [[ "$(jq -r '.state_version // "" | tostring' "$file")" != "$IR_STATE_VERSION" ]]; then
    die "state file $file has state_version $(jq -c '.state_version' "$file"), this script reads $IR_STATE_VERSION; nothing was changed"
  fi
  if [[ ! "$(jq -r '.run_id // "" | tostring' "$file")" =~ $IR_ID_PATTERN ]]; then
    die "state file $file has no valid run_id; nothing was changed"
  fi
  if [[ ! "$(jq -r '.region // "" | tostring' "$file")" =~ $IR_REGION_PATTERN ]]; then
    die "state file $file has no valid region; nothing was changed"
  fi
  if [[ ! "$(jq -r '.account_id // "" | tostring' "$file")" =~ ^[0-9]{12}$ ]]; then
    die "state file $file has no valid account_id; nothing was changed"
  fi
  IR_STATE_FILE="$file"
}

# state_region_and_account: after state_load, makes the state's region the
# region (-r, if given, must agree) and checks, with check_identity, that the
# credentials belong to the state's account.
state_region_and_account() {
  local state_region state_account
  state_region="$(state_get '.region')"
  state_account="$(state_get '.account_id')"
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

# simulation_begin SIMULATION ID_PREFIX: the start of a simulation run, after
# ir_init: a new run ID PREFIX-... in the global run_id, sent in every AWS
# CLI call's User-Agent (set_app_id); the global state_file, if -s left it
# empty, becomes ./SIMULATION-RUN_ID.json; the credentials are checked
# (check_identity) and the run announced.
simulation_begin() {
  run_id="$(new_id "$2")"
  set_app_id "$run_id"
  state_file="${state_file:-$PWD/$1-$run_id.json}"
  check_identity
  log "run $run_id: acting as $caller_arn in account $caller_account, region $aws_region"
}

# simulation_at_exit STATUS UNDO_SCRIPT: what a simulation's at_exit does: a
# run that stops early (STATUS not 0) after writing its state file is marked
# failed, and the command that removes what it created, UNDO_SCRIPT -s
# STATE_FILE, is printed.
simulation_at_exit() {
  if [[ "$1" != 0 && -n "$IR_STATE_FILE" && -s "$IR_STATE_FILE" ]]; then
    (state_status failed) 2>/dev/null || true
    log "the run stopped before its end; remove what it created with:"
    log "  $2 -s $IR_STATE_FILE"
  fi
}

# undo_begin SIMULATION: the start of an undo script, after its options are
# parsed: usage error unless -s gave the global state_file, or if -r gave a
# malformed region (the region is the state file's; -r is only compared with
# it); ir_init; then the state file is loaded and checked as one of
# SIMULATION (state_load) and its run ID put in the global run_id. No AWS call
# is made yet.
undo_begin() {
  if [[ -z "$state_file" ]]; then
    usage_error "missing -s STATE_FILE"
  fi
  check_region_option
  ir_init
  state_load "$state_file" "$1"
  run_id="$(state_get '.run_id')"
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
