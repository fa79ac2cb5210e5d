#!/usr/bin/env bash
# undo-crypto-mining.sh: terminate the instances that one run of
# simulate-crypto-mining.sh launched, as its state file records them.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role, never the simulation users):
#   1. reads and checks the state file before any AWS call: a missing, empty
#      or garbled file, one of another simulation, or one whose instance IDs
#      are not instance IDs is refused, and nothing is terminated;
#   2. checks that the credentials belong to the account the state records;
#   3. looks at each recorded instance: one that is gone or terminated is
#      fine; one that does not carry the run's tag
#      ir-workshop:simulation-run=RUN_ID is not this run's, so the script
#      stops before terminating anything;
#   4. turns termination protection off where isolate-instance.sh turned it
#      on, terminates the instances and waits, bounded, until they are
#      terminated (their root volumes go with them);
#   5. marks the state file "undone" (it is kept as a record of the run).
#
# It touches nothing the state file does not name: not other instances, not
# the workshop VPC, and not what responders made during the exercise (EBS
# snapshots, the isolation security group), which stay as evidence. Running
# it twice is safe. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: TerminateInstances (and
# ModifyInstanceAttribute where protection was on) by the caller, with
# userAgent containing app/ir-workshop-RUN_ID-undo. GuardDuty findings about
# the instances stay until they are archived.
#
# Undo: none; terminated instances cannot be restored.
#
# Test hook: IR_WORKSHOP_RETRY_DELAY=SECONDS sets the first retry delay.
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed, 2 bad
# usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=crypto-mining
# Attempts until the instances are terminated: about four minutes.
readonly terminate_attempts=20

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]

Terminate the instances that one run of simulate-crypto-mining.sh recorded in
STATE_FILE, and nothing else.

  -s STATE_FILE  the state file of the run (crypto-mining-RUN_ID.json)
  -p PROFILE     AWS CLI profile allowed to terminate instances
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
if [[ "$(state_get '.resources.instance_ids | type')" != array ]]; then
  die "state file $state_file has no list of instance IDs; nothing was changed"
fi
mapfile -t recorded < <(state_get '.resources.instance_ids[] | tostring')
for id in "${recorded[@]}"; do
  if [[ ! "$id" =~ ^i-[0-9a-f]{8,17}$ ]]; then
    die "state file $state_file names '$id', which is not an instance ID; nothing was changed"
  fi
done

state_region_and_account
set_app_id "$run_id-undo"
log "undoing run $run_id as $caller_arn in account $caller_account, region $aws_region"

# describe ID: the instance as JSON, empty if EC2 no longer knows it.
describe() {
  local out
  if ! out="$(awsx ec2 describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0]')"; then
    if aws_error_is InvalidInstanceID.NotFound; then
      return 0
    fi
    die "cannot describe instance $1" "$(aws_error)"
  fi
  if [[ "$out" != null ]]; then
    printf '%s\n' "$out"
  fi
}

# Look at every instance before terminating any.
to_terminate=()
for id in "${recorded[@]}"; do
  instance="$(describe "$id")"
  state="$(jq -r '.State.Name // empty' <<<"${instance:-null}")"
  if [[ -z "$instance" || "$state" == terminated ]]; then
    echo "instance $id: already terminated"
    continue
  fi
  tag="$(jq -r --arg key "$IR_TAG_RUN" '.Tags[]? | select(.Key == $key) | .Value' <<<"$instance")"
  if [[ "$tag" != "$run_id" ]]; then
    die "instance $id has tag $IR_TAG_RUN='$tag', not $run_id: it is not this run's instance; nothing was terminated"
  fi
  to_terminate+=("$id")
done

if ((${#to_terminate[@]} > 0)); then
  for id in "${to_terminate[@]}"; do
    if ! protected="$(awsx ec2 describe-instance-attribute --instance-id "$id" \
      --attribute disableApiTermination --query DisableApiTermination.Value --output text)"; then
      die "cannot read the termination protection of instance $id" "$(aws_error)"
    fi
    if [[ "$protected" == True || "$protected" == true ]]; then
      if ! awsx ec2 modify-instance-attribute --instance-id "$id" --no-disable-api-termination; then
        die "cannot turn off the termination protection of instance $id" "$(aws_error)"
      fi
      echo "instance $id: turned termination protection off"
    fi
  done
  if ! awsx ec2 terminate-instances --instance-ids "${to_terminate[@]}" >/dev/null; then
    die "cannot terminate instances ${to_terminate[*]}" "$(aws_error)"
  fi
  log "terminating ${to_terminate[*]}; waiting (at most $terminate_attempts attempts)"

  # all_terminated: every instance terminated or unknown to EC2.
  all_terminated() {
    local id instance
    for id in "${to_terminate[@]}"; do
      instance="$(describe "$id")" || return 1
      if [[ -n "$instance" && "$(jq -r '.State.Name' <<<"$instance")" != terminated ]]; then
        return 1
      fi
    done
  }
  if ! retry "$terminate_attempts" all_terminated; then
    die "instances ${to_terminate[*]} were not terminated after $terminate_attempts attempts; run again"
  fi
  for id in "${to_terminate[@]}"; do
    echo "instance $id: terminated"
  done
fi

state_status undone
echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
