#!/usr/bin/env bash
# undo-crypto-mining.sh: terminate the instances that one run of
# simulate-crypto-mining.sh launched: those its state file records and those
# that carry the run's tag.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role, never the simulation users):
#   1. with -s STATE_FILE, reads and checks the whole state file before any
#      AWS call: a missing, empty, garbled or damaged file (a field missing or
#      of the wrong type, an instance ID that is not one), or one of another
#      simulation, is refused, naming each problem, and nothing is
#      terminated; the refusal prints how to undo by the run's tag instead;
#      with -t RUN_ID, no state file is read: for one that is lost or damaged;
#   2. checks that the credentials belong to the account the state records
#      (with -t, the account is the credentials');
#   3. looks the run's instances up by their tag
#      ir-workshop:simulation-run=RUN_ID (RunInstances put it on them), which
#      finds also those a run launched but could not record (interrupted
#      during RunInstances), and adds those the state file records;
#   4. looks at each: one that is gone or terminated is fine; a recorded one
#      that does not carry the run's tag is not this run's, so the script
#      stops before terminating anything;
#   5. turns termination protection off where isolate-instance.sh turned it
#      on, terminates the instances and waits until they are terminated
#      (aws ec2 wait instance-terminated: every 15 seconds, at most 10
#      minutes; their root volumes go with them);
#   6. with -s, marks the state file "undone" (it is kept as a record of the
#      run).
#
# It touches nothing but the run's instances: not other instances, not the
# workshop VPC, and not what responders made during the exercise (EBS
# snapshots, the isolation security group), which stay as evidence. Running
# it twice is safe. What it creates: nothing.
#
# What GuardDuty and CloudTrail should show: DescribeInstances,
# TerminateInstances (and ModifyInstanceAttribute where protection was on)
# by the caller, with userAgent containing app/ir-workshop-RUN_ID-undo.
# GuardDuty findings about the instances stay until they are archived.
#
# Undo: none; terminated instances cannot be restored.
#
# Exit status: 0 done (or nothing left to do), 1 refused or failed, 2 bad
# usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=crypto-mining

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]
       $IR_PROG -t RUN_ID [-p PROFILE] [-r REGION]

Terminate the instances of one run of simulate-crypto-mining.sh: those it
recorded in STATE_FILE and those that carry its tag, and nothing else.

  -s STATE_FILE  the state file of the run (crypto-mining-RUN_ID.json)
  -t RUN_ID      without a state file (lost or damaged): the instances that
                 carry the tag $IR_TAG_RUN=RUN_ID
  -p PROFILE     AWS CLI profile allowed to terminate instances
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
recorded=()
if [[ -n "$state_file" ]]; then
  mapfile -t recorded < <(state_get '.resources.instance_ids[]')
fi
log "undoing run $run_id as $caller_arn in account $caller_account, region $aws_region"

# The run's instances by its tag, terminated ones too, and those the state
# file records without the tag (another call, by ID: EC2 leaves out the
# ones it no longer knows), as one JSON list.
if ! known="$(awsx ec2 describe-instances --filters "Name=tag:$IR_TAG_RUN,Values=$run_id" \
  --query 'Reservations[].Instances[]')"; then
  aws_die "cannot look for the instances tagged $IR_TAG_RUN=$run_id" ec2:DescribeInstances
fi
mapfile -t found < <(jq -r '.[].InstanceId' <<<"$known")
untagged=()
for id in "${recorded[@]}"; do
  if [[ " ${found[*]} " != *" $id "* ]]; then
    untagged+=("$id")
  fi
done
for id in "${found[@]}"; do
  if [[ -n "$state_file" && " ${recorded[*]} " != *" $id "* ]]; then
    log "instance $id carries the run's tag but is not in the state file"
  fi
done
if ((${#untagged[@]} > 0)); then
  if ! others="$(awsx ec2 describe-instances --filters "Name=instance-id,Values=$(IFS=,; printf '%s' "${untagged[*]}")" \
    --query 'Reservations[].Instances[]')"; then
    aws_die "cannot describe instances ${untagged[*]}" ec2:DescribeInstances
  fi
  known="$(jq -s 'add' <<<"$known$others")"
fi
mapfile -t instances < <(printf '%s\n' "${recorded[@]}" "${found[@]}" | grep . | sort -u)

# Look at every instance before terminating any.
to_terminate=()
for id in "${instances[@]}"; do
  instance="$(jq -c --arg id "$id" 'first(.[] | select(.InstanceId == $id)) // empty' <<<"$known")"
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
      aws_die "cannot read the termination protection of instance $id" ec2:DescribeInstanceAttribute
    fi
    if [[ "$protected" == True || "$protected" == true ]]; then
      if ! awsx ec2 modify-instance-attribute --instance-id "$id" --no-disable-api-termination; then
        aws_die "cannot turn off the termination protection of instance $id" ec2:ModifyInstanceAttribute
      fi
      echo "instance $id: turned termination protection off"
    fi
  done
  if ! awsx ec2 terminate-instances --instance-ids "${to_terminate[@]}" >/dev/null; then
    aws_die "cannot terminate instances ${to_terminate[*]}" ec2:TerminateInstances
  fi
  log "terminating ${to_terminate[*]}; waiting until they are terminated (at most 10 minutes)"
  if ! awsx ec2 wait instance-terminated --instance-ids "${to_terminate[@]}"; then
    aws_die "instances ${to_terminate[*]} were not terminated within 10 minutes; run again" ec2:DescribeInstances
  fi
  for id in "${to_terminate[@]}"; do
    echo "instance $id: terminated"
  done
fi

if ((${#instances[@]} == 0)); then
  echo "run $run_id: no instance recorded or tagged"
fi
if [[ -n "$state_file" ]]; then
  state_status undone
  echo "Run $run_id of $simulation is undone; state file $state_file is marked undone."
else
  echo "Run $run_id of $simulation is undone (by its tag; no state file was read or written)."
fi
