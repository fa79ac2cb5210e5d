#!/usr/bin/env bash
# get-guardduty-findings.sh: print the GuardDuty findings of one type, or the
# IDs of the instances they affect, for the playbooks' detection and
# analysis steps.
#
# What it does: finds the region's GuardDuty detector (an error, exit 1, when
# there is none: "GuardDuty is not enabled in REGION"), lists the findings of
# type -t (not archived ones, unless -a), reads them in batches of 50 and
# prints {"Findings": [...]}, the shape of guardduty get-findings. With -i it
# prints only the affected instance IDs (.Resource.InstanceDetails.InstanceId
# of each finding), one per line, each once.
#
# With -f FILE it reads findings from FILE instead of calling GuardDuty: the
# output of guardduty get-findings, a list of findings, one finding, or an
# EventBridge "GuardDuty Finding" event. It then needs no credentials.
#
# What it creates: nothing. What CloudTrail shows: ListDetectors,
# ListFindings and GetFindings by the caller (GuardDuty read-only calls).
# Undo: nothing to undo.
#
# Exit status: 0 done (also when no finding matches), 1 GuardDuty not
# enabled, a call failed or FILE is not findings JSON, 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

# GuardDuty finding types: ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.Variant!Artifact,
# for example CryptoCurrency:EC2/BitcoinTool.B!DNS or Backdoor:EC2/C&CActivity.B.
readonly type_pattern='^[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9.!&_:-]+$'

# The jq program that selects findings of type $type from any accepted
# document; instance_ids_filter and findings_filter build on it.
# shellcheck disable=SC2016 # a jq program: $type is a jq variable
readonly select_findings='
  def findings:
    if type == "array" then .[]
    elif type == "object" and has("Findings") then .Findings[]
    elif type == "object" and has("detail") then .detail
    elif type == "object" then .
    else error("not a GuardDuty finding document") end;
  def matching: findings | select(type == "object" and .Type == $type);'
readonly findings_filter="$select_findings"' {Findings: [matching]}'
readonly instance_ids_filter="$select_findings"'
  [matching | .Resource.InstanceDetails.InstanceId? // empty | strings] | unique | .[]'

usage() {
  cat <<EOF
Usage: $IR_PROG -t FINDING_TYPE [-i] [-a] [-f FILE] [-p PROFILE] [-r REGION]

Print GuardDuty findings of FINDING_TYPE as JSON, or with -i the IDs of the
instances they affect.

  -t FINDING_TYPE  for example CryptoCurrency:EC2/BitcoinTool.B!DNS
  -i               print only the affected instance IDs, one per line
  -a               include archived findings
  -f FILE          read findings JSON from FILE instead of calling GuardDuty
  -p PROFILE       AWS CLI profile (default: \$AWS_PROFILE, else the default
                   credential chain)
  -r REGION        region of the detector (default: \$AWS_REGION,
                   \$AWS_DEFAULT_REGION, then the profile's region)
  -h               show this help
EOF
}

finding_type=""
ids_only=""
archived=""
input_file=""
while getopts ':t:iaf:p:r:h' opt; do
  case "$opt" in
    t) check_value t "$OPTARG"; finding_type="$OPTARG" ;;
    i) ids_only=1 ;;
    a) archived=1 ;;
    f) check_value f "$OPTARG"; input_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$finding_type" ]]; then
  usage_error "missing -t FINDING_TYPE"
fi
require_pattern t "$finding_type" "$type_pattern" "a GuardDuty finding type such as CryptoCurrency:EC2/BitcoinTool.B!DNS"

# print_findings FILE: the findings of the type in FILE, as -i asks.
print_findings() {
  local filter="$findings_filter"
  if [[ -n "$ids_only" ]]; then
    filter="$instance_ids_filter"
  fi
  if ! jq -e -s 'length == 1' "$1" >/dev/null 2>&1; then
    die "$1 is not one JSON document of GuardDuty findings"
  fi
  if ! jq -r --arg type "$finding_type" "$filter" "$1"; then
    die "$1 is not a GuardDuty finding document"
  fi
}

if [[ -n "$input_file" ]]; then
  require_tools jq
  if [[ ! -f "$input_file" || ! -r "$input_file" ]]; then
    die "cannot read findings file $input_file"
  fi
  print_findings "$input_file"
  exit 0
fi

resolve_region
ir_init

if ! detectors="$(awsx guardduty list-detectors --query DetectorIds)"; then
  aws_die "cannot list GuardDuty detectors in region $aws_region (is it an AWS region enabled in this account, and may these credentials read GuardDuty?)"
fi
detector="$(jq -r '.[0] // empty' <<<"$detectors")"
if [[ -z "$detector" ]]; then
  die "GuardDuty is not enabled in $aws_region: it has no detector there. Enable GuardDuty in that region, or pass the region where it runs with -r"
fi
log "GuardDuty detector $detector in $aws_region"

criteria="$(jq -cn --arg type "$finding_type" --arg archived "$archived" \
  '{Criterion: ({type: {Eq: [$type]}} + (if $archived == "" then {"service.archived": {Eq: ["false"]}} else {} end))}')"
if ! ids_json="$(awsx guardduty list-findings --detector-id "$detector" \
  --finding-criteria "$criteria" --query FindingIds)"; then
  aws_die "cannot list GuardDuty findings of type $finding_type"
fi
mapfile -t finding_ids < <(jq -r '.[]?' <<<"$ids_json")
log "${#finding_ids[@]} findings of type $finding_type"

# GetFindings takes at most 50 IDs a call.
all="$IR_TMP/findings.json"
echo '{"Findings": []}' >"$all"
for ((i = 0; i < ${#finding_ids[@]}; i += 50)); do
  if ! awsx guardduty get-findings --detector-id "$detector" --finding-ids "${finding_ids[@]:i:50}" >"$IR_TMP/batch.json"; then
    aws_die "cannot read GuardDuty findings"
  fi
  jq -s '{Findings: (.[0].Findings + (.[1].Findings // []))}' "$all" "$IR_TMP/batch.json" >"$all.next"
  mv "$all.next" "$all"
done
print_findings "$all"
