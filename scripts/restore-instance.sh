#!/usr/bin/env bash
# restore-instance.sh: put an instance that isolate-instance.sh isolated back
# as it was, from the isolation's state file, once the case allows (the
# investigation no longer needs it cut off, and eradication is not to
# rebuild it).
#
# What it does, with the caller's credentials (-p; typically the break glass
# role):
#   1. reads and checks the whole state file before any AWS call, and checks
#      that the credentials belong to its account;
#   2. checks that the instance still exists, in the VPC the state records,
#      and carries the isolation's tag ir-workshop:isolation-run=RUN_ID;
#      otherwise it changes nothing;
#   3. for each thing the isolation changed, compares it with the state
#      file: what is still as the isolation left it is put back as it was
#      before; what is as it was before is left; what someone changed since
#      is left too, with a warning. In this order: the security groups of
#      each network interface, each subnet's network ACL, the instance
#      profile, the target group and Classic Load Balancer registrations,
#      the Auto Scaling group (attached again, which raises its desired
#      capacity by one), then termination protection and the shutdown
#      behaviour;
#   4. removes the tag ir-workshop:isolation-run and marks the state file
#      "undone".
# Running it again changes nothing.
#
# What it leaves, and says so: the snapshots and the evidence files (the
# case's to keep or delete); the tag ir-workshop:incident-id, a record that
# the instance was part of the incident; the isolation security group and
# the quarantine network ACL of the VPC (without rules, reused by the next
# isolation); and the session revocation policies on the instance profile's
# roles: removing one would make credentials stolen before the isolation
# valid again until they expire, while sessions issued since are not
# affected. It prints the command that removes them.
#
# What CloudTrail shows, by the caller, with app/ir-workshop-RUN_ID-restore
# in the user agent: ModifyNetworkInterfaceAttribute,
# ReplaceNetworkAclAssociation, AssociateIamInstanceProfile,
# RegisterTargets, RegisterInstancesWithLoadBalancer, AttachInstances,
# ModifyInstanceAttribute, DeleteTags.
#
# Exit status: 0 restored (or nothing left to restore; what someone changed
# since the isolation is named in warnings), 1 refused or a step failed (run
# it again), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly kind=instance-isolation
readonly isolation_tag=ir-workshop:isolation-run
# Attempts until a change shows when read back (EC2 is eventually consistent).
readonly verify_attempts=5

usage() {
  cat <<EOF
Usage: $IR_PROG -s STATE_FILE [-p PROFILE] [-r REGION]

Put an instance that isolate-instance.sh isolated back as it was before,
from the isolation's state file: security groups, network ACLs, instance
profile, load balancers, Auto Scaling group, termination protection and
shutdown behaviour. Snapshots, evidence and session revocations stay.

  -s STATE_FILE  the isolation's state file ($kind-RUN_ID.json)
  -p PROFILE     AWS CLI profile allowed to change instances, load
                 balancers and Auto Scaling groups
                 (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION      must be the region the state file records, which is used
  -h             show this help
EOF
}

state_file=""
while getopts ':s:p:r:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$state_file" ]]; then
  usage_error "missing -s STATE_FILE"
fi
check_region_option
ir_init
state_load "$state_file" "$kind"
state_region_and_account
declare instance_id vpc_id before status undone_at changed_steps isolation_group quarantine_acl \
  revoke_all revoked_before
state_read '.instance_id, .vpc_id, .before, .status, (.undone_at // "an earlier run"),
  (.steps | map(select(. != "evidence")) | length), (.resources.isolation_group // ""), (.resources.quarantine_acl // ""),
  .options.revoke_all_sessions, .revoked_before' \
  instance_id vpc_id before status undone_at changed_steps isolation_group quarantine_acl revoke_all revoked_before
set_app_id "$run_id-restore"

if [[ "$status" == undone ]]; then
  echo "instance $instance_id: the isolation that $state_file records was undone at $undone_at; nothing to do"
  exit 0
fi

# describe: the instance as JSON, null if there is none.
describe() {
  awsx ec2 describe-instances --instance-ids "$instance_id" --query 'Reservations[0].Instances[0]'
}
if ! instance="$(describe)"; then
  aws_die "cannot find instance $instance_id in region $aws_region; nothing was changed"
fi
declare instance_state current_vpc tag
# shellcheck disable=SC2016 # jq variable
json_read --arg key "$isolation_tag" '(.State.Name // ""), (.VpcId // ""),
  ([.Tags[]? | select(.Key == $key) | .Value] | join("\n"))' instance_state current_vpc tag <<<"$instance"
case "$instance_state" in
  "" | terminated | shutting-down) die "instance $instance_id is ${instance_state:-gone}: nothing to restore; nothing was changed" ;;
esac
if [[ "$current_vpc" != "$vpc_id" ]]; then
  die "instance $instance_id is in VPC ${current_vpc:-none}, but state file $state_file records VPC $vpc_id: the file does not describe this instance; nothing was changed"
fi
if [[ "$tag" != "$run_id" && "$changed_steps" != 0 ]]; then
  die "instance $instance_id does not carry the tag $isolation_tag=$run_id (it has '${tag:-no such tag}'): it is not under the isolation that $state_file records; nothing was changed"
fi
echo "instance $instance_id: $instance_state in VPC $vpc_id; restoring it as isolation run $run_id found it"

declare profile_arn in_group asg_name lifecycle want_protection want_shutdown
json_read '(.instance_profile_arn // ""), .auto_scaling_group != null, (.auto_scaling_group.name // ""),
  (.auto_scaling_group.lifecycle_state // ""), .termination_protection, .shutdown_behavior' \
  profile_arn in_group asg_name lifecycle want_protection want_shutdown <<<"$before"
left=()

# 1. Security groups.
mapfile -t enis < <(jq -c '.network_interfaces[]' <<<"$before")
declare id want current
for eni in "${enis[@]}"; do
  mapfile -t groups < <(jq -r '.groups[]' <<<"$eni")
  # shellcheck disable=SC2016 # jq variables
  json_read --argjson instance "$instance" '.id, (.groups | sort),
    (.id as $id | [$instance.NetworkInterfaces[] | select(.NetworkInterfaceId == $id) | .Groups[].GroupId] | sort)' \
    id want current <<<"$eni"
  if [[ "$current" == "$want" ]]; then
    echo "network interface $id: security groups ${groups[*]} as before"
  elif [[ -n "$isolation_group" && "$current" == "[\"$isolation_group\"]" ]]; then
    if ! awsx ec2 modify-network-interface-attribute --network-interface-id "$id" --groups "${groups[@]}"; then
      aws_die "cannot set security groups ${groups[*]} on network interface $id"
    fi
    groups_back() {
      describe | jq -e --arg id "$id" --argjson want "$want" \
        '[.NetworkInterfaces[] | select(.NetworkInterfaceId == $id) | .Groups[].GroupId] | sort == $want' >/dev/null
    }
    if ! retry "$verify_attempts" groups_back; then
      aws_die "network interface $id does not read back with security groups ${groups[*]}"
    fi
    echo "network interface $id: security groups ${groups[*]} restored"
  else
    warn "network interface $id has security groups $current, neither the isolation's nor the earlier ones: someone changed them since; left as they are"
    left+=("the security groups of $id")
  fi
done

# 2. Network ACLs of the quarantined subnets.
mapfile -t subnets < <(state_get '.resources.quarantined_subnets[]')
# association SUBNET: the subnet's network ACL and association ID.
association() {
  awsx ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$1" |
    jq -r --arg s "$1" '.NetworkAcls[0] | "\(.NetworkAclId) \(.Associations[] | select(.SubnetId == $s) | .NetworkAclAssociationId)"'
}
for subnet in "${subnets[@]}"; do
  acl="$(jq -r --arg s "$subnet" '.subnets[] | select(.subnet_id == $s) | .network_acl_id' <<<"$before")"
  if ! current="$(association "$subnet")"; then
    aws_die "cannot read the network ACL association of subnet $subnet"
  fi
  read -r current_acl association_id <<<"$current"
  if [[ "$current_acl" == "$acl" ]]; then
    echo "subnet $subnet: network ACL $acl as before"
  elif [[ "$current_acl" == "$quarantine_acl" ]]; then
    if ! awsx ec2 replace-network-acl-association --association-id "$association_id" --network-acl-id "$acl" >/dev/null; then
      aws_die "cannot put subnet $subnet back behind network ACL $acl"
    fi
    acl_back() {
      local now
      now="$(association "$subnet")" || return 1
      [[ "${now%% *}" == "$acl" ]]
    }
    if ! retry "$verify_attempts" acl_back; then
      aws_die "subnet $subnet does not read back behind network ACL $acl"
    fi
    echo "subnet $subnet: network ACL $acl restored"
  else
    warn "subnet $subnet is behind network ACL $current_acl, neither the quarantine's nor the earlier $acl: someone changed it since; left as it is"
    left+=("the network ACL of $subnet")
  fi
done

# 3. Instance profile.
if [[ -n "$profile_arn" ]]; then
  # profile_of: the instance's associated profile ARN, if any.
  profile_of() {
    awsx ec2 describe-iam-instance-profile-associations --filters "Name=instance-id,Values=$instance_id" |
      jq -r '.IamInstanceProfileAssociations[] | select(.State | IN("associating", "associated")) | .IamInstanceProfile.Arn'
  }
  if ! current="$(profile_of)"; then
    aws_die "cannot read the instance profile association of $instance_id"
  fi
  if [[ "$current" == "$profile_arn" ]]; then
    echo "instance $instance_id: instance profile $profile_arn as before"
  elif [[ -z "$current" ]]; then
    if ! awsx ec2 associate-iam-instance-profile --instance-id "$instance_id" \
      --iam-instance-profile "Arn=$profile_arn" >/dev/null; then
      aws_die "cannot associate instance profile $profile_arn with $instance_id"
    fi
    profile_back() {
      [[ "$(profile_of)" == "$profile_arn" ]]
    }
    if ! retry "$verify_attempts" profile_back; then
      aws_die "instance $instance_id does not read back with instance profile $profile_arn"
    fi
    echo "instance $instance_id: instance profile $profile_arn restored (new credentials, issued now)"
  else
    warn "instance $instance_id has instance profile $current, not the earlier $profile_arn: someone changed it since; left as it is"
    left+=("the instance profile")
  fi
fi

# 4. Target groups and Classic Load Balancers: registering again is
# harmless, so each registration is made whatever it is now.
mapfile -t registrations < <(jq -c '.target_groups[]' <<<"$before")
declare arn target_id target_name target
for reg in "${registrations[@]}"; do
  json_read '.arn, .id, "\(.id)\(if .port then ":\(.port)" else "" end)", [{Id: .id} + (if .port then {Port: .port} else {} end)
    + (if .availability_zone then {AvailabilityZone: .availability_zone} else {} end)]' arn target_id target_name target <<<"$reg"
  if ! awsx elbv2 register-targets --target-group-arn "$arn" --targets "$target"; then
    aws_die "cannot register $target_id with target group $arn"
  fi
  registered() {
    awsx elbv2 describe-target-health --target-group-arn "$arn" |
      jq -e --argjson reg "$reg" 'any(.TargetHealthDescriptions[]; .Target.Id == $reg.id
        and (.Target.Port // null) == $reg.port and (.TargetHealth.State | IN("draining", "unused") | not))' >/dev/null
  }
  if ! retry "$verify_attempts" registered; then
    aws_die "target $target_id does not read back in target group $arn"
  fi
  echo "instance $instance_id: $target_name registered with target group $arn"
done
mapfile -t balancers < <(jq -r '.load_balancers[]' <<<"$before")
for name in "${balancers[@]}"; do
  if ! awsx elb register-instances-with-load-balancer --load-balancer-name "$name" \
    --instances "[{\"InstanceId\":\"$instance_id\"}]" >/dev/null; then
    aws_die "cannot register $instance_id with Classic Load Balancer $name"
  fi
  echo "instance $instance_id: registered with Classic Load Balancer $name"
done

# 5. The Auto Scaling group.
if [[ "$in_group" == true ]]; then
  member() {
    local name
    name="$(awsx autoscaling describe-auto-scaling-instances --instance-ids "$instance_id" \
      --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)" || return 1
    [[ "$name" == None ]] || printf '%s\n' "$name"
  }
  if ! current="$(member)"; then
    aws_die "cannot look up the Auto Scaling group of $instance_id"
  fi
  if [[ "$current" == "$asg_name" ]]; then
    echo "instance $instance_id: in Auto Scaling group $asg_name as before"
  elif [[ -n "$current" ]]; then
    warn "instance $instance_id is in Auto Scaling group $current, not the earlier $asg_name: someone changed it since; left as it is"
    left+=("the Auto Scaling group")
  else
    if ! awsx autoscaling attach-instances --instance-ids "$instance_id" --auto-scaling-group-name "$asg_name"; then
      aws_die "cannot attach $instance_id to Auto Scaling group $asg_name (attaching raises the desired capacity by one: the group's maximum size may be reached; raise it, or let the replacement -k launched go first)"
    fi
    in_group() {
      [[ "$(member)" == "$asg_name" ]]
    }
    if ! retry "$verify_attempts" in_group; then
      aws_die "instance $instance_id does not read back in Auto Scaling group $asg_name"
    fi
    echo "instance $instance_id: attached to Auto Scaling group $asg_name again (its desired capacity is one higher)"
    if [[ "$lifecycle" == Standby ]]; then
      warn "instance $instance_id was in Standby before the isolation and is InService now; to put it back in Standby:"
      printf '  %s\n' "$(shell_quote aws autoscaling enter-standby --instance-ids "$instance_id" \
        --auto-scaling-group-name "$asg_name" --should-decrement-desired-capacity)" >&2
    fi
  fi
fi

# 6. Termination protection and shutdown behaviour, last: the instance
# stays protected until everything else is back.
attribute() {
  awsx ec2 describe-instance-attribute --instance-id "$instance_id" --attribute "$1" --query "$2.Value" --output text
}
if ! protection="$(attribute disableApiTermination DisableApiTermination)"; then
  aws_die "cannot read the termination protection of $instance_id"
fi
protection="$(tr '[:upper:]' '[:lower:]' <<<"$protection")"
if [[ "$protection" == "$want_protection" ]]; then
  echo "instance $instance_id: termination protection $protection as before"
elif [[ "$protection" != true ]]; then
  # Isolation turns it on and never off: someone turned it off since.
  warn "instance $instance_id has termination protection $protection, neither the isolation's nor the earlier $want_protection: someone changed it since; left as it is"
  left+=("termination protection")
else
  # Isolation turned it on; it was off before.
  if ! awsx ec2 modify-instance-attribute --instance-id "$instance_id" --no-disable-api-termination; then
    aws_die "cannot turn off termination protection of $instance_id"
  fi
  protection_back() {
    [[ "$(attribute disableApiTermination DisableApiTermination)" =~ ^[Ff]alse$ ]]
  }
  if ! retry "$verify_attempts" protection_back; then
    aws_die "termination protection of $instance_id does not read back as off"
  fi
  echo "instance $instance_id: termination protection off, as before"
fi
if ! shutdown="$(attribute instanceInitiatedShutdownBehavior InstanceInitiatedShutdownBehavior)"; then
  aws_die "cannot read the shutdown behaviour of $instance_id"
fi
if [[ "$shutdown" == "$want_shutdown" ]]; then
  echo "instance $instance_id: shutdown behaviour $shutdown as before"
else
  if ! awsx ec2 modify-instance-attribute --instance-id "$instance_id" \
    --attribute instanceInitiatedShutdownBehavior --value "$want_shutdown"; then
    aws_die "cannot set the shutdown behaviour of $instance_id to $want_shutdown"
  fi
  shutdown_back() {
    [[ "$(attribute instanceInitiatedShutdownBehavior InstanceInitiatedShutdownBehavior)" == "$want_shutdown" ]]
  }
  if ! retry "$verify_attempts" shutdown_back; then
    aws_die "the shutdown behaviour of $instance_id does not read back as $want_shutdown"
  fi
  echo "instance $instance_id: shutdown behaviour $want_shutdown, as before"
fi

# 7. No longer under isolation.
if [[ -n "$tag" ]]; then
  if ! awsx ec2 delete-tags --resources "$instance_id" --tags "Key=$isolation_tag"; then
    aws_die "cannot remove tag $isolation_tag from $instance_id"
  fi
fi
state_status undone

echo "Restored instance $instance_id as it was before isolation run $run_id."
if ((${#left[@]} > 0)); then
  warn "left as someone changed them since the isolation: ${left[*]}"
fi
mapfile -t snapshots < <(state_get '.resources.snapshot_ids[]')
if ((${#snapshots[@]} > 0)); then
  echo "Kept: snapshots ${snapshots[*]} and the evidence files next to $state_file; delete them when the case no longer needs them."
fi
mapfile -t roles < <(state_get '.resources.revoked_roles[]')
if ((${#roles[@]} > 0)); then
  if [[ "$revoke_all" == true ]]; then
    policy_name=AWSRevokeOlderSessions
  else
    policy_name="ir-revoke-sessions-$instance_id"
  fi
  echo "Kept: inline policy $policy_name on roles ${roles[*]}, which denies sessions issued before $revoked_before; sessions issued since work. Removing it makes credentials stolen before then valid again until they expire; once they have, remove it with:"
  for role in "${roles[@]}"; do
    echo "  $(shell_quote aws iam delete-role-policy --role-name "$role" --policy-name "$policy_name")"
  done
fi
