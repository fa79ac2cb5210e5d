#!/usr/bin/env bash
# incident-timeline.sh: print the response timeline of a simulation run and
# its metrics, for the "Timeline and metrics" step of the playbooks.
#
# What it does, reading only:
#   1. reads the run's start (started_at), run ID, region and account from
#      the simulation's state file;
#   2. gets the response as CloudTrail recorded it: the playbook's timeline
#      query (playbooks/PLAYBOOK/queries/NN_response_timeline.sql, the start
#      day and time filled in) run in Athena, or a saved result of that query
#      (-t, tab-separated with a header line, as athena_query writes it);
#   3. prints the timeline, start and detection first, then the time to
#      detect (with -d), to contain (the last containment call) and to
#      recover (the last recovery call), each counted from the start.
# It creates nothing but an Athena query execution (and its result in the
# workgroup's result bucket). CloudTrail shows StartQueryExecution,
# GetQueryExecution and GetQueryResults by the caller.
#
# Undo: nothing to undo.
#
# Exit status: 0 printed, 1 the state file, the result or Athena failed, 2
# bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly prog="${0##*/}"
readonly utc_time='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
# The placeholders of the timeline queries: the example day and time the
# incident began, each query's own (the S3 playbooks' sample incidents
# began on other days), in its date_partition and eventtime lower bounds.
readonly day_placeholder="(date_partition >= ')[0-9]{4}/[0-9]{2}/[0-9]{2}'"
readonly start_placeholder="(eventtime >= ')[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'"
# Polls of the Athena query, two seconds apart: five minutes.
readonly poll_attempts=150

usage() {
  cat <<EOF
Usage: $prog -s STATE_FILE [-d DETECTED_AT] [-t RESULT_FILE | -q QUERY_FILE]
       [-w WORKGROUP] [-p PROFILE] [-r REGION]

Print the response timeline of a simulation run and the time to detect, to
contain and to recover, each counted from the run's start. The response
comes from CloudTrail, through the playbook's timeline query run in Athena,
or from a saved result of that query (-t).

  -s STATE_FILE   state file of the run (simulate-*.sh -s)
  -d DETECTED_AT  when the incident was detected, in UTC, such as
                  2026-01-01T10:30:00Z: the first GuardDuty finding's
                  createdAt, or when the alert or tip reached a responder
                  (default: none, and no time to detect)
  -t RESULT_FILE  the timeline query's result, tab-separated with a header
                  line; no AWS call is made
  -q QUERY_FILE   the timeline query to run (default: the playbook's
                  playbooks/PLAYBOOK/queries/*_response_timeline.sql)
  -w WORKGROUP    Athena workgroup (default: ir-workshop)
  -p PROFILE      AWS CLI profile allowed to run Athena queries in it
                  (default: ir-analyst)
  -r REGION       region of the workgroup (default: the state file's)
  -h              show this help
EOF
}

state_file="" detected="" result_file="" query_file="" workgroup=ir-workshop
profile=ir-analyst region=""
while getopts ":s:d:t:q:w:p:r:h" opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    d) check_value d "$OPTARG"; detected="$OPTARG" ;;
    t) check_value t "$OPTARG"; result_file="$OPTARG" ;;
    q) check_value q "$OPTARG"; query_file="$OPTARG" ;;
    w) check_value w "$OPTARG"; workgroup="$OPTARG" ;;
    p) check_value p "$OPTARG"; profile="$OPTARG" ;;
    r) check_value r "$OPTARG"; region="$OPTARG" ;;
    h) usage; exit 0 ;;
    :) usage_error "option -$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"

if [[ -z "$state_file" ]]; then
  usage_error "missing -s STATE_FILE"
fi
if [[ -n "$detected" && ! "$detected" =~ $utc_time ]]; then
  usage_error "option -d: '$detected' is not a UTC time such as 2026-01-01T10:30:00Z"
fi
if [[ -n "$result_file" && -n "$query_file" ]]; then
  usage_error "options -t and -q exclude each other: -t reads a result, -q runs a query"
fi
if [[ ! "$workgroup" =~ ^[A-Za-z0-9._-]{1,128}$ ]]; then
  usage_error "option -w: '$workgroup' is not an Athena workgroup name"
fi
if [[ -n "$region" && ! "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]]; then
  usage_error "option -r: '$region' is not an AWS region name such as us-east-1"
fi
require_tools jq

# The state file: state_load checks the JSON, run ID, region and account.
simulation="$(jq -r '.simulation // "" | strings' "$state_file" 2>/dev/null || true)"
case "$simulation" in
  credential-exposure | crypto-mining | s3-exfiltration | s3-ransomware) state_load "$state_file" "$simulation" ;;
  *)
    if [[ -e "$state_file" ]] && jq -e 'type == "object"' "$state_file" >/dev/null 2>&1; then
      die "state file $state_file names no simulation this script knows (simulation: '$simulation')"
    fi
    state_load "$state_file" credential-exposure # says what is wrong with the file
    ;;
esac
started="$(state_get '.started_at // ""')"
if [[ ! "$started" =~ $utc_time ]]; then
  die "state file $state_file has no started_at time (got '$started')"
fi
if [[ -n "$detected" && "$detected" < "$started" ]]; then
  die "detected at $detected (-d), before the run started at $started (state file $state_file)"
fi
run_id="$(state_get '.run_id')"
region="${region:-$(state_get '.region')}"

# The result: a saved one, or the timeline query run in Athena.
if [[ -n "$result_file" ]]; then
  if [[ ! -f "$result_file" || ! -r "$result_file" ]]; then
    die "result file $result_file (-t) is not a readable file"
  fi
  tsv="$result_file"
else
  require_tools aws
  tsv="$(mktemp "${TMPDIR:-/tmp}/incident-timeline.XXXXXX")"
  trap 'rm -f "$tsv"' EXIT
  if [[ -z "$query_file" ]]; then
    for query_file in "$script_dir/../playbooks/${simulation//-/_}/queries/"*_response_timeline.sql; do
      break
    done
  fi
  if [[ ! -f "$query_file" ]]; then
    die "no timeline query: $query_file does not exist"
  fi
  sql="$(sed -E -e "s#$day_placeholder#\\1${started:0:4}/${started:5:2}/${started:8:2}'#g" \
    -e "s#$start_placeholder#\\1$started'#g" "$query_file")"
  aws_args=(--profile "$profile" --region "$region" --output text)
  log "running ${query_file##*/} in Athena workgroup $workgroup ($region) as profile $profile"
  id="$(aws athena start-query-execution "${aws_args[@]}" --work-group "$workgroup" \
    --query-string "$sql" --query QueryExecutionId)" ||
    die "cannot start the timeline query in workgroup $workgroup; check -p, -r and -w"
  state=QUEUED
  for ((try = 1; try <= poll_attempts; try++)); do
    state="$(aws athena get-query-execution "${aws_args[@]}" --query-execution-id "$id" \
      --query QueryExecution.Status.State)" || die "cannot read the state of query $id"
    case "$state" in
      SUCCEEDED) break ;;
      FAILED | CANCELLED)
        die "query $id $state" "$(aws athena get-query-execution "${aws_args[@]}" --query-execution-id "$id" \
          --query QueryExecution.Status.StateChangeReason || true)" ;;
    esac
    sleep 2
  done
  if [[ "$state" != SUCCEEDED ]]; then
    die "query $id is still $state after $((poll_attempts * 2)) seconds"
  fi
  aws athena get-query-results --profile "$profile" --region "$region" --output json --query-execution-id "$id" |
    jq -r '.ResultSet.Rows[] | [.Data[] | .VarCharValue // ""] | @tsv' >"$tsv" ||
    die "cannot read the result of query $id"
fi

# The timeline and the metrics, from the result's header line and rows.
read -r -d '' program <<'JQ' || true
def utc: sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601;
def two: tostring | if length < 2 then "0" + . else . end;
def span: "\(. / 3600 | floor)h\(. % 3600 / 60 | floor | two)m\(. % 60 | two)s";
def cell: (. // "") | if . == "NULL" then "" else . end;
def pad($w): if length < $w then . + " " * ($w - length) else . end;
def columns: ["eventtime", "phase", "actor", "action", "target", "errorcode"];
[split("\n")[] | select(length > 0) | split("\t")] as $lines
| ($lines[0] // []) as $head
| [columns[] | select(. as $c | $head | index($c) | not)] as $missing
| if ($missing | length) > 0 then
    error("the result has no column \($missing | join(", ")): is it the timeline query's?")
  else . end
| [$lines[1:][] | . as $line | [columns[] | . as $c | $line[$head | index($c)] | cell]
    | {time: .[0], phase: .[1], actor: .[2], action: .[3], target: .[4], error: .[5]}] as $rows
| ([$rows[] | select(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T") | not)] | first) as $bad
| if $bad then error("a row of the result has no time: \($bad | tostring)") else . end
| ($started | utc) as $t0
| ([["time (UTC)", "phase", "actor", "action", "target", "error"]] + ([{time: $started, phase: "start", actor: "simulation", action: "run \($run) started", target: "state file", error: ""}]
    + (if $detected == "" then [] else
        [{time: $detected, phase: "detect", actor: "", action: "detected", target: "-d", error: ""}] end)
    + $rows
   | sort_by(.time | utc)
   | map([.time, .phase, .actor, .action, .target, .error] | map(if . == "" then "-" else . end)))) as $table
| ([range(0; 6) as $i | [$table[][$i] | length] | max]) as $widths
| def last($p): [$rows[] | select(.phase == $p and .error == "") | .time] | max;
  def metric($name; $at; $what; $unknown):
    if $at == null then "\($name)  not known: \($unknown)"
    else "\($name)  \(($at | utc) - $t0 | span)  (\($what), \($at))" end;
  "\($simulation) run \($run), region \($region)",
  "",
  ($table[] | [range(0; 6) as $i | .[$i] | pad($widths[$i])] | join("  ") | sub(" +$"; "")),
  "",
  "from the start at \($started):",
  metric("time to detect "; if $detected == "" then null else $detected end; "detection, -d";
    "pass -d with the first finding's createdAt"),
  metric("time to contain"; last("contain"); "last contain call"; "no contain call in the result"),
  metric("time to recover"; last("recover"); "last recover call"; "no recover call in the result")
JQ
jq -rRs --arg started "$started" --arg detected "$detected" --arg simulation "$simulation" \
  --arg run "$run_id" --arg region "$region" "$program" "$tsv" ||
  die "cannot read the timeline from ${result_file:-the result of query ${id:-}}"
