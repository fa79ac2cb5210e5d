#!/usr/bin/env bash
# isolate-instance.sh: isolate a suspect EC2 instance and preserve it as
# evidence, the containment step of the crypto mining playbook. Everything
# it changes is recorded first in a state file, from which
# restore-instance.sh puts the instance back as it was once the case allows.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role), checking each step before the next:
#   0. reads the instance as it is: security groups, subnets and their
#      network ACLs, termination protection, shutdown behaviour, Auto Scaling
#      group, target group and Classic Load Balancer registrations, instance
#      profile and its roles; refuses, changing nothing, an unknown or
#      terminated instance, one outside the VPC that -v names, one that is
#      already isolated, and an Auto Scaling group at its minimum size
#      (unless -k); then creates the state file with all of it;
#   1. saves the instance's description (describe-instances), its console
#      output and its user data next to the state file, with their SHA-256
#      checksums;
#   2. tags the instance ir-workshop:incident-id=INCIDENT_ID and
#      ir-workshop:isolation-run=RUN_ID;
#   3. turns termination protection on and sets the shutdown behaviour to
#      stop: a shutdown from inside the instance would otherwise terminate
#      it, and termination protection does not prevent that;
#   4. detaches it from its Auto Scaling group, lowering the desired capacity
#      so that the group launches no replacement (-k keeps the capacity: the
#      group launches one): first, so that the group never replaces or
#      terminates it as unhealthy once it is cut off;
#   5. deregisters it from every target group (by instance ID or private
#      address) and Classic Load Balancer of its VPC;
#   6. makes the security group ir-workshop-isolation (in the instance's VPC,
#      no inbound and no outbound rule) the only group of each of its
#      network interfaces. New connections cannot start; connections that a
#      security group already tracks can go on until they are idle;
#   7. cuts those tracked connections: puts each of its subnets behind the
#      network ACL ir-workshop-quarantine (no rule but the default deny, in
#      and out), which is stateless and ends them at once. Every resource in
#      the subnet is cut off with it, so by default (-q auto) only a subnet
#      in which nothing else has a network interface; -q always does it in a
#      shared subnet too, -q never skips it;
#   8. disassociates its instance profile, so that it gets no new
#      credentials, and revokes the credentials it already got, which work
#      from anywhere until they expire: an inline policy on each role of the
#      profile denies everything to sessions delivered to this instance
#      (ec2:SourceInstanceARN) and issued before now (aws:TokenIssueTime).
#      With -R, every session of the role issued before now is denied
#      (AWSRevokeOlderSessions, what the IAM console's "Revoke active
#      sessions" does): other instances and users of the role lose AWS
#      access until they get new credentials;
#   9. snapshots every attached EBS volume, tagged with the incident and the
#      instance (a volume that already has a snapshot for this incident
#      keeps it), and waits until the snapshots are completed.
# It stops and deletes nothing: memory and disks stay for forensics.
#
# Running it again with -s STATE_FILE finishes an isolation that stopped
# part-way and changes nothing once it is complete.
#
# What it creates: the state file and the evidence files next to it; the
# isolation security group and the quarantine network ACL (once per VPC,
# reused); the session revocation policies; the snapshots; the tags.
# What CloudTrail shows, by the caller, with app/ir-workshop-RUN_ID in the
# user agent: CreateTags, ModifyInstanceAttribute, DetachInstances,
# DeregisterTargets, DeregisterInstancesFromLoadBalancer,
# CreateSecurityGroup, RevokeSecurityGroupEgress,
# ModifyNetworkInterfaceAttribute, CreateNetworkAcl,
# ReplaceNetworkAclAssociation, DisassociateIamInstanceProfile,
# PutRolePolicy, CreateSnapshot. GuardDuty: the instance's findings stay;
# its DNS queries go on (neither security groups nor network ACLs filter the
# VPC resolver) until it is stopped.
#
# Undo (after the investigation): restore-instance.sh -s STATE_FILE. The
# snapshots, the evidence files and the revocation policies stay.
#
# Exit status: 0 isolated, 1 refused, or a step failed or did not take
# effect (run it again with -s STATE_FILE to finish), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly kind=instance-isolation
readonly group_name=ir-workshop-isolation
readonly acl_name=ir-workshop-quarantine
readonly instance_tag=ir-workshop:source-instance
readonly isolation_tag=ir-workshop:isolation-run
# The revocation policies, kept with the playbooks that show them.
readonly instance_sessions_policy="$script_dir/../playbooks/crypto_mining/policies/revoke-instance-sessions.json"
readonly role_sessions_policy="$script_dir/../playbooks/credential_exposure/policies/revoke-older-sessions.json"
# Attempts until a change shows when read back (EC2 is eventually consistent).
readonly verify_attempts=5
# Attempts until Auto Scaling has let the instance go: about a minute.
readonly detach_attempts=8
# Calls of "aws ec2 wait snapshot-completed", each up to 40 polls 15 s apart.
readonly snapshot_waits=3

usage() {
  cat <<EOF
Usage: $IR_PROG -i INSTANCE_ID [-n INCIDENT_ID] [-s STATE_FILE] [-v VPC_ID]
         [-q auto|always|never] [-k] [-R] [-p PROFILE] [-r REGION]

Isolate an EC2 instance and preserve it, recording every change in a state
file for restore-instance.sh: evidence saved, termination protection on,
shutdown behaviour stop, out of its Auto Scaling group and load balancers, a
security group without rules, its subnet behind a deny-all network ACL,
instance profile off and its sessions revoked, volumes snapshotted.

  -i INSTANCE_ID  the instance, for example i-0123456789abcdef0
  -n INCIDENT_ID  incident ID for the tags (default: a new ir-... ID)
  -s STATE_FILE   the state file (default: ./$kind-RUN_ID.json);
                  the evidence files go next to it. If it exists, the
                  isolation it records is finished (nothing changes if it
                  is complete), with the options it records
  -v VPC_ID       refuse the instance unless it is in this VPC
  -q WHEN         put the instance's subnet behind the quarantine network
                  ACL, which ends its tracked connections: auto (default)
                  only if nothing else has a network interface in the
                  subnet; always, cutting off the rest of the subnet too;
                  never
  -k              keep the Auto Scaling group's capacity: the group launches
                  a replacement (default: it launches none)
  -R              revoke every session of the instance profile's roles
                  issued before now, not only the instance's own
  -p PROFILE      AWS CLI profile allowed to change instances, load
                  balancers, Auto Scaling groups and IAM roles
                  (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION       region of the instance (default: \$AWS_REGION,
                  \$AWS_DEFAULT_REGION, then the profile's region; with an
                  existing STATE_FILE, its region)
  -h              show this help
EOF
}

instance_id=""
incident=""
state_file=""
vpc_option=""
quarantine=""
keep_capacity=""
revoke_all=""
while getopts ':i:n:s:v:q:kRp:r:h' opt; do
  case "$opt" in
    i) check_value i "$OPTARG"; instance_id="$OPTARG" ;;
    n) check_value n "$OPTARG"; incident="$OPTARG" ;;
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    v) check_value v "$OPTARG"; vpc_option="$OPTARG" ;;
    q) check_value q "$OPTARG"; quarantine="$OPTARG" ;;
    k) keep_capacity=true ;;
    R) revoke_all=true ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$instance_id" ]]; then
  usage_error "missing -i INSTANCE_ID"
fi
require_pattern i "$instance_id" '^i-[0-9a-f]{8,17}$' "an instance ID such as i-0123456789abcdef0"
if [[ -n "$vpc_option" ]]; then
  require_pattern v "$vpc_option" '^vpc-[0-9a-f]{8,17}$' "a VPC ID such as vpc-0123456789abcdef0"
fi
if [[ -n "$quarantine" ]]; then
  require_pattern q "$quarantine" '^(auto|always|never)$' "auto, always or never"
fi

resume=""
if [[ -n "$state_file" && -e "$state_file" ]]; then
  # Finish the isolation that the state file records, with its options.
  resume=1
  check_region_option
  if [[ -n "$incident" ]]; then
    require_pattern n "$incident" '^[A-Za-z0-9][A-Za-z0-9_.:/=+@-]{0,127}$' "an incident ID (letters, digits and _.:/=+@-)"
  fi
  ir_init
  state_load "$state_file" "$kind"
  declare recorded_instance recorded_status recorded_incident recorded_quarantine \
    recorded_keep_capacity recorded_revoke_all
  state_read '.instance_id, .status, .incident_id, .options.quarantine_acl, .options.keep_capacity,
    .options.revoke_all_sessions' recorded_instance recorded_status \
    recorded_incident recorded_quarantine recorded_keep_capacity recorded_revoke_all
  if [[ "$recorded_instance" != "$instance_id" ]]; then
    usage_error "state file $state_file records the isolation of instance $recorded_instance, not $instance_id"
  fi
  # same_option OPTION GIVEN PATH RECORDED: usage error unless the option
  # was not given or is what the state file records at PATH.
  same_option() {
    if [[ -n "$2" && "$2" != "$4" ]]; then
      usage_error "option -$1: state file $state_file records $3 $4; an isolation is finished with the options it began with"
    fi
  }
  same_option n "$incident" .incident_id "$recorded_incident"
  same_option q "$quarantine" .options.quarantine_acl "$recorded_quarantine"
  same_option k "$keep_capacity" .options.keep_capacity "$recorded_keep_capacity"
  same_option R "$revoke_all" .options.revoke_all_sessions "$recorded_revoke_all"
  state_region_and_account
  incident="$recorded_incident"
  quarantine="$recorded_quarantine"
  keep_capacity="$recorded_keep_capacity"
  revoke_all="$recorded_revoke_all"
  case "$recorded_status" in
    undone) die "the isolation that state file $state_file records was undone by restore-instance.sh; to isolate $instance_id again, pass a new -s STATE_FILE" ;;
  esac
  set_app_id "$run_id"
  log "run $run_id: finishing the isolation of $instance_id that $state_file records"
else
  response_begin
  response_run "$kind"
  require_new_state_file "$state_file"
  quarantine="${quarantine:-auto}"
  keep_capacity="${keep_capacity:-false}"
  revoke_all="${revoke_all:-false}"
fi

# On a failure once the steps have begun: mark the state file, and say how
# to go on.
changing=""
at_exit() {
  local profile=()
  if [[ "$1" != 0 && -n "$changing" ]]; then
    (state_status failed) 2>/dev/null || true
    if [[ -n "$aws_profile" ]]; then
      profile=(-p "$aws_profile")
    fi
    log "the isolation stopped part-way; its state file records what it changed. Finish it with:"
    printf '  %s\n' "$(shell_quote "$IR_SCRIPT" -i "$instance_id" -s "$IR_STATE_FILE" "${profile[@]}")" >&2
    log "or put the instance back as it was with:"
    printf '  %s\n' "$(shell_quote "$script_dir/restore-instance.sh" -s "$IR_STATE_FILE" "${profile[@]}")" >&2
  fi
}

# describe: the instance as JSON, null if there is none.
describe() {
  awsx ec2 describe-instances --instance-ids "$instance_id" --query 'Reservations[0].Instances[0]'
}
# The whole description is evidence (step 1); the instance is its part.
if ! described="$(awsx ec2 describe-instances --instance-ids "$instance_id")"; then
  aws_die "cannot find instance $instance_id in region $aws_region"
fi
declare instance instance_state vpc_id
json_read '.Reservations[0].Instances[0] | ., (.State.Name // ""), (.VpcId // "")' \
  instance instance_state vpc_id <<<"$described"
case "$instance_state" in
  "" | terminated | shutting-down) die "instance $instance_id is ${instance_state:-unknown}: nothing to isolate" ;;
esac
if [[ -z "$vpc_id" ]]; then
  die "instance $instance_id is in no VPC"
fi
if [[ -n "$vpc_option" && "$vpc_id" != "$vpc_option" ]]; then
  die "instance $instance_id is in VPC $vpc_id, not in VPC $vpc_option (-v); nothing was changed"
fi
instance_arn="arn:$(partition):ec2:$aws_region:$caller_account:instance/$instance_id"
echo "instance $instance_id: $instance_state in VPC $vpc_id; incident $incident"

# ---------------------------------------------------------------------------
# Step 0: the instance as it is, checked, then the state file.

# before_state: what the isolation changes, as it is now, as JSON.
before_state() {
  local subnets acls interfaces subnet_list group asg_name lifecycle target_groups="[]" tg arn profile_arn roles="[]"
  local protection shutdown auto_scaling=null load_balancers
  subnets="$(jq -c '[.NetworkInterfaces[].SubnetId] | unique' <<<"$instance")"
  # Each subnet's network ACL, and what else has a network interface there.
  if ! acls="$(awsx ec2 describe-network-acls --filters "Name=vpc-id,Values=$vpc_id")"; then
    aws_die "cannot read the network ACLs of VPC $vpc_id"
  fi
  if ! interfaces="$(awsx ec2 describe-network-interfaces --filters "Name=subnet-id,Values=$(jq -r 'join(",")' <<<"$subnets")")"; then
    aws_die "cannot list the network interfaces of subnets $(jq -r 'join(" ")' <<<"$subnets")"
  fi
  if ! subnet_list="$(jq -c --argjson acls "$acls" --argjson interfaces "$interfaces" --arg id "$instance_id" '
    map(. as $s | {subnet_id: $s,
      network_acl_id: ([$acls.NetworkAcls[] | select(any(.Associations[]; .SubnetId == $s)) | .NetworkAclId][0]),
      other_interfaces: [$interfaces.NetworkInterfaces[]
                         | select(.SubnetId == $s and .Attachment.InstanceId != $id) | .NetworkInterfaceId]})
    | if any(.[]; .network_acl_id == null) then error("a subnet without network ACL") else . end' <<<"$subnets")"; then
    die "cannot tell the network ACL of each of the subnets $(jq -r 'join(" ")' <<<"$subnets")"
  fi
  if ! protection="$(awsx ec2 describe-instance-attribute --instance-id "$instance_id" --attribute disableApiTermination \
    --query DisableApiTermination.Value --output text)"; then
    aws_die "cannot read the termination protection of $instance_id"
  fi
  if ! shutdown="$(awsx ec2 describe-instance-attribute --instance-id "$instance_id" \
    --attribute instanceInitiatedShutdownBehavior --query InstanceInitiatedShutdownBehavior.Value --output text)"; then
    aws_die "cannot read the shutdown behaviour of $instance_id"
  fi
  if ! group="$(awsx autoscaling describe-auto-scaling-instances --instance-ids "$instance_id" \
    --query 'AutoScalingInstances[0]')"; then
    aws_die "cannot look up the Auto Scaling group of $instance_id"
  fi
  json_read '(.AutoScalingGroupName // ""), (.LifecycleState // "")' asg_name lifecycle <<<"$group"
  if [[ -n "$asg_name" ]]; then
    if ! auto_scaling="$(awsx autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg_name" |
      jq -c --arg state "$lifecycle" '.AutoScalingGroups[0]
        | {name: .AutoScalingGroupName, lifecycle_state: $state, desired: .DesiredCapacity, min: .MinSize, max: .MaxSize}')"; then
      aws_die "cannot read Auto Scaling group $asg_name"
    fi
  fi
  # Target groups of the VPC that route to instances or addresses, and the
  # instance's registrations in them.
  local addresses arns=()
  addresses="$(jq -c '[.NetworkInterfaces[].PrivateIpAddresses[]?.PrivateIpAddress]' <<<"$instance")"
  if ! tg="$(awsx elbv2 describe-target-groups)"; then
    aws_die "cannot list the target groups in region $aws_region"
  fi
  mapfile -t arns < <(jq -r --arg vpc "$vpc_id" '.TargetGroups[]
    | select(.VpcId == $vpc and ((.TargetType // "instance") | IN("instance", "ip"))) | .TargetGroupArn' <<<"$tg")
  for arn in "${arns[@]}"; do
    if ! target_groups="$(awsx elbv2 describe-target-health --target-group-arn "$arn" |
      jq -c --arg arn "$arn" --arg id "$instance_id" --argjson ips "$addresses" --argjson have "$target_groups" '
        $have + [.TargetHealthDescriptions[].Target | select(.Id == $id or (.Id | IN($ips[])))
                 | {arn: $arn, id: .Id, port: (.Port // null), availability_zone: (.AvailabilityZone // null)}]')"; then
      aws_die "cannot read the targets of target group $arn"
    fi
  done
  if ! load_balancers="$(awsx elb describe-load-balancers |
    jq -c --arg id "$instance_id" '[.LoadBalancerDescriptions[] | select(any(.Instances[]?; .InstanceId == $id))
      | .LoadBalancerName]')"; then
    aws_die "cannot list the Classic Load Balancers in region $aws_region"
  fi
  profile_arn="$(jq -r '.IamInstanceProfile.Arn // empty' <<<"$instance")"
  if [[ -n "$profile_arn" ]]; then
    if ! roles="$(awsx iam get-instance-profile --instance-profile-name "${profile_arn##*/}" |
      jq -c '[.InstanceProfile.Roles[].RoleName]')"; then
      aws_die "cannot read instance profile $profile_arn"
    fi
  fi
  jq -n --argjson enis "$(jq -c '[.NetworkInterfaces[] | {id: .NetworkInterfaceId, groups: [.Groups[].GroupId]}]' <<<"$instance")" \
    --argjson subnets "$subnet_list" --arg protection "$protection" --arg shutdown "$shutdown" \
    --argjson asg "$auto_scaling" --argjson tgs "$target_groups" --argjson clbs "$load_balancers" \
    --arg profile "$profile_arn" --argjson roles "$roles" '{
      network_interfaces: $enis, subnets: $subnets,
      termination_protection: ($protection | ascii_downcase == "true"), shutdown_behavior: $shutdown,
      auto_scaling_group: $asg, target_groups: $tgs, load_balancers: $clbs,
      instance_profile_arn: (if $profile == "" then null else $profile end), roles: $roles
    }'
}

if [[ -z "$resume" ]]; then
  declare under isolated no_interfaces
  # shellcheck disable=SC2016 # jq variables
  json_read --arg key "$isolation_tag" --arg name "$group_name" '
    ([.Tags[]? | select(.Key == $key) | .Value] | join("\n")),
    ((.NetworkInterfaces | length) > 0 and all(.NetworkInterfaces[]; [.Groups[].GroupName] == [$name])),
    ((.NetworkInterfaces | length) == 0)' under isolated no_interfaces <<<"$instance"
  if [[ -n "$under" ]]; then
    die "instance $instance_id is already isolated, by run $under (tag $isolation_tag); nothing was changed:" \
      "finish that isolation with -s and its state file ($kind-$under.json unless -s named another), or put the instance back with restore-instance.sh -s STATE_FILE first"
  fi
  if [[ "$isolated" == true ]]; then
    die "instance $instance_id already has $group_name as its only security group: it was isolated earlier; nothing was changed" \
      "finish that isolation with -s and its state file, or put the instance back with restore-instance.sh first"
  fi
  if [[ "$no_interfaces" == true ]]; then
    die "instance $instance_id has no network interface to isolate"
  fi
  before="$(before_state)"
  declare in_group asg_name lifecycle min desired at_minimum
  json_read '.auto_scaling_group | . != null, .name, .lifecycle_state, .min, .desired, (. != null and .desired - 1 < .min)' \
    in_group asg_name lifecycle min desired at_minimum <<<"$before"
  if [[ "$in_group" == true ]]; then
    case "$lifecycle" in
      InService | Standby) ;;
      *) die "instance $instance_id is $lifecycle in Auto Scaling group $asg_name: it can be detached only when InService or Standby; nothing was changed" ;;
    esac
    if [[ "$keep_capacity" != true && "$at_minimum" == true ]]; then
      die "instance $instance_id is in Auto Scaling group $asg_name at its minimum size (min $min, desired $desired): Auto Scaling refuses to lower the desired capacity; nothing was changed" \
        "pass -k to detach it and let the group launch a replacement, or lower the group's minimum size first"
    fi
  fi
  if [[ "$revoke_all" == true && "$caller_arn" == *:assumed-role/* ]]; then
    caller_role="${caller_arn#*:assumed-role/}"
    caller_role="${caller_role%%/*}"
    if jq -e --arg role "$caller_role" 'any(.roles[]; . == $role)' <<<"$before" >/dev/null; then
      die "you act as role $caller_role, a role of the instance's profile: -R would revoke your own session; use other credentials (the break glass role); nothing was changed"
    fi
  fi
  # shellcheck disable=SC2016 # jq variables
  response_state_create "$kind" "$(jq -n --arg instance "$instance_id" --arg vpc "$vpc_id" --argjson before "$before" \
    --arg quarantine "$quarantine" --argjson keep "$keep_capacity" --argjson all "$revoke_all" '{
      instance_id: $instance, vpc_id: $vpc,
      options: {quarantine_acl: $quarantine, keep_capacity: $keep, revoke_all_sessions: $all},
      before: $before, steps: [], revoked_before: null
    }')"
  # The state file's name, for the commands printed at the end.
  state_file="$IR_STATE_FILE"
fi
# The instance as it was, what of it the steps act on, and the steps done,
# as JSON strings, one to a line whatever characters they have.
declare before asg_name profile_arn registration_count steps_json
state_read '.before, (.before.auto_scaling_group.name // ""), (.before.instance_profile_arn // ""),
  ((.before.target_groups | length) + (.before.load_balancers | length)), (.steps | map(tojson) | join("\n"))' \
  before asg_name profile_arn registration_count steps_json
mapfile -t steps_done <<<"$steps_json"
changing=1

# done_step STEP: true if the state file records STEP as done. A step's name
# needs no escape in JSON: as a JSON string, it is in quotes.
done_step() {
  local step_done
  for step_done in "${steps_done[@]}"; do
    if [[ "$step_done" == "\"$1\"" ]]; then
      return 0
    fi
  done
  return 1
}
# mark_done STEP: records STEP as done.
mark_done() {
  # shellcheck disable=SC2016 # jq variable
  state_update 'if any(.steps[]; . == $step) then . else .steps += [$step] end' --arg step "$1"
  steps_done+=("\"$1\"")
}
# step STEP DESCRIPTION: true if STEP is still to do; says so if it is done.
step() {
  if done_step "$1"; then
    echo "instance $instance_id: $2: done earlier"
    return 1
  fi
}

# ---------------------------------------------------------------------------
# Step 1: evidence, before any change.

evidence_dir="$(dirname -- "$IR_STATE_FILE")"
# sha256: SHA-256 checksums in the format sha256sum -c reads.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum -- "$@"
  else
    shasum -a 256 -- "$@"
  fi
}
if step evidence "description, console output and user data saved"; then
  files=("$run_id.describe-instances.json" "$run_id.console-output.txt" "$run_id.user-data.json")
  printf '%s\n' "$described" >"$evidence_dir/${files[0]}"
  # --latest works on Nitro instances only; the others give the last output.
  if ! output="$(awsx ec2 get-console-output --instance-id "$instance_id" --latest)" &&
    ! output="$(awsx ec2 get-console-output --instance-id "$instance_id")"; then
    aws_die "cannot read the console output of $instance_id"
  fi
  jq -r '.Output // ""' <<<"$output" >"$evidence_dir/${files[1]}"
  if ! awsx ec2 describe-instance-attribute --instance-id "$instance_id" --attribute userData \
    >"$evidence_dir/${files[2]}"; then
    aws_die "cannot read the user data of $instance_id"
  fi
  if ! (cd "$evidence_dir" && sha256 "${files[@]}") >"$evidence_dir/$run_id.sha256"; then
    die "cannot write the checksums of the evidence files in $evidence_dir"
  fi
  files+=("$run_id.sha256")
  # shellcheck disable=SC2016 # jq variable
  state_update '.resources.evidence_files = $files' --argjson files "$(jq -cn '$ARGS.positional' --args "${files[@]}")"
  mark_done evidence
  echo "instance $instance_id: description, console output, user data and their SHA-256 checksums saved in $evidence_dir as $run_id.*"
fi

# ---------------------------------------------------------------------------
# Step 2: the tags, so that every later change is on a tagged instance.

if step tags "tagged"; then
  if ! awsx ec2 create-tags --resources "$instance_id" --tags "$(incident_tags "$incident" "$isolation_tag" "$run_id")"; then
    aws_die "cannot tag instance $instance_id"
  fi
  tagged() {
    awsx ec2 describe-tags --filters "Name=resource-id,Values=$instance_id" "Name=key,Values=$isolation_tag" |
      jq -e --arg value "$run_id" 'any(.Tags[]; .Value == $value)' >/dev/null
  }
  if ! retry "$verify_attempts" tagged; then
    aws_die "instance $instance_id does not read back with tag $isolation_tag=$run_id"
  fi
  mark_done tags
  echo "instance $instance_id: tagged $IR_TAG_INCIDENT=$incident, $isolation_tag=$run_id"
fi

# ---------------------------------------------------------------------------
# Step 3: termination protection, and stop on shutdown.

if step protection "termination protection on, shutdown behaviour stop"; then
  if ! awsx ec2 modify-instance-attribute --instance-id "$instance_id" --disable-api-termination; then
    aws_die "cannot turn on termination protection of $instance_id"
  fi
  if ! awsx ec2 modify-instance-attribute --instance-id "$instance_id" \
    --attribute instanceInitiatedShutdownBehavior --value stop; then
    aws_die "cannot set the shutdown behaviour of $instance_id to stop"
  fi
  protected() {
    [[ "$(awsx ec2 describe-instance-attribute --instance-id "$instance_id" --attribute disableApiTermination \
      --query DisableApiTermination.Value --output text)" =~ ^[Tt]rue$ ]] &&
      [[ "$(awsx ec2 describe-instance-attribute --instance-id "$instance_id" \
        --attribute instanceInitiatedShutdownBehavior --query InstanceInitiatedShutdownBehavior.Value --output text)" == stop ]]
  }
  if ! retry "$verify_attempts" protected; then
    aws_die "termination protection and shutdown behaviour stop of $instance_id do not read back"
  fi
  mark_done protection
  echo "instance $instance_id: termination protection on, shutdown behaviour stop"
fi

# ---------------------------------------------------------------------------
# Step 4: out of the Auto Scaling group.

if [[ -n "$asg_name" ]] && step auto-scaling "detached from Auto Scaling group $asg_name"; then
  # member: the instance's Auto Scaling group now, empty if none.
  member() {
    local name
    name="$(awsx autoscaling describe-auto-scaling-instances --instance-ids "$instance_id" \
      --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)" || return 1
    [[ "$name" == None ]] || printf '%s\n' "$name"
  }
  if ! current="$(member)"; then
    aws_die "cannot look up the Auto Scaling group of $instance_id"
  fi
  if [[ -n "$current" ]]; then
    decrement=--should-decrement-desired-capacity
    if [[ "$keep_capacity" == true ]]; then
      decrement=--no-should-decrement-desired-capacity
    fi
    if ! awsx autoscaling detach-instances --instance-ids "$instance_id" --auto-scaling-group-name "$asg_name" \
      "$decrement" >/dev/null; then
      aws_die "cannot detach $instance_id from Auto Scaling group $asg_name"
    fi
  fi
  detached() {
    local now
    now="$(member)" || return 1
    [[ -z "$now" ]]
  }
  if ! retry "$detach_attempts" detached; then
    aws_die "instance $instance_id is still in Auto Scaling group $asg_name"
  fi
  mark_done auto-scaling
  if [[ "$keep_capacity" == true ]]; then
    echo "instance $instance_id: detached from Auto Scaling group $asg_name, which launches a replacement (-k)"
  else
    echo "instance $instance_id: detached from Auto Scaling group $asg_name, whose desired capacity is one lower: no replacement"
  fi
fi

# ---------------------------------------------------------------------------
# Step 5: out of the load balancers.

if [[ "$registration_count" != 0 ]] &&
  step load-balancers "deregistered from its target groups and load balancers"; then
  mapfile -t registrations < <(jq -c '.target_groups[]' <<<"$before")
  declare arn target_id target_name target
  for reg in "${registrations[@]}"; do
    json_read '.arn, .id, "\(.id)\(if .port then ":\(.port)" else "" end)", [{Id: .id} + (if .port then {Port: .port} else {} end)
      + (if .availability_zone then {AvailabilityZone: .availability_zone} else {} end)]' arn target_id target_name target <<<"$reg"
    if ! awsx elbv2 deregister-targets --target-group-arn "$arn" --targets "$target"; then
      aws_die "cannot deregister $target_id from target group $arn"
    fi
    # Deregistered: gone, or draining until the deregistration delay ends.
    deregistered() {
      awsx elbv2 describe-target-health --target-group-arn "$arn" |
        jq -e --argjson reg "$reg" 'all(.TargetHealthDescriptions[];
          .Target.Id != $reg.id or (.Target.Port // null) != $reg.port
          or (.TargetHealth.State | IN("draining", "unused")))' >/dev/null
    }
    if ! retry "$verify_attempts" deregistered; then
      aws_die "target $target_id is still registered in target group $arn"
    fi
    echo "instance $instance_id: $target_name deregistered from target group $arn"
  done
  mapfile -t balancers < <(jq -r '.load_balancers[]' <<<"$before")
  for name in "${balancers[@]}"; do
    if ! awsx elb deregister-instances-from-load-balancer --load-balancer-name "$name" \
      --instances "[{\"InstanceId\":\"$instance_id\"}]" >/dev/null; then
      aws_die "cannot deregister $instance_id from Classic Load Balancer $name"
    fi
    gone() {
      awsx elb describe-load-balancers --load-balancer-names "$name" |
        jq -e --arg id "$instance_id" 'all(.LoadBalancerDescriptions[0].Instances[]?; .InstanceId != $id)' >/dev/null
    }
    if ! retry "$verify_attempts" gone; then
      aws_die "instance $instance_id is still registered with Classic Load Balancer $name"
    fi
    echo "instance $instance_id: deregistered from Classic Load Balancer $name"
  done
  mark_done load-balancers
fi

# ---------------------------------------------------------------------------
# Step 6: the isolation group, without rules, as the only group.

if step security-groups "$group_name is its only security group"; then
  if ! group="$(awsx ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc_id" \
    "Name=group-name,Values=$group_name" --query 'SecurityGroups[0]')"; then
    aws_die "cannot look for security group $group_name in VPC $vpc_id"
  fi
  group_id="$(jq -r '.GroupId // empty' <<<"$group")"
  if [[ -z "$group_id" ]]; then
    tag_specs="$(jq -cn --argjson tags "$(tag_list Name "$group_name" ir-workshop:purpose isolation)" \
      '[{ResourceType: "security-group", Tags: $tags}]')"
    if ! group_id="$(awsx ec2 create-security-group --vpc-id "$vpc_id" --group-name "$group_name" \
      --description "Incident response isolation: no inbound or outbound traffic" \
      --tag-specifications "$tag_specs" --query GroupId --output text)"; then
      aws_die "cannot create security group $group_name in VPC $vpc_id"
    fi
    echo "security group $group_id ($group_name): created in VPC $vpc_id"
    # A new group comes with a rule that allows all outbound traffic.
    if ! group="$(awsx ec2 describe-security-groups --group-ids "$group_id" --query 'SecurityGroups[0]')"; then
      aws_die "cannot read the rules of security group $group_id"
    fi
  else
    echo "security group $group_id ($group_name): reused"
  fi
  state_set .resources.isolation_group "$group_id"
  declare ingress egress
  json_read '(.IpPermissions // []), (.IpPermissionsEgress // [])' ingress egress <<<"$group"
  if [[ "$ingress" != "[]" ]] &&
    ! awsx ec2 revoke-security-group-ingress --group-id "$group_id" --ip-permissions "$ingress" >/dev/null; then
    aws_die "cannot remove the inbound rules of security group $group_id"
  fi
  if [[ "$egress" != "[]" ]] &&
    ! awsx ec2 revoke-security-group-egress --group-id "$group_id" --ip-permissions "$egress" >/dev/null; then
    aws_die "cannot remove the outbound rules of security group $group_id"
  fi
  no_rules() {
    local group
    group="$(awsx ec2 describe-security-groups --group-ids "$group_id" --query 'SecurityGroups[0]')" || return 1
    jq -e '(.IpPermissions | length) == 0 and (.IpPermissionsEgress | length) == 0' <<<"$group" >/dev/null
  }
  if [[ "$ingress$egress" != "[][]" ]] && ! retry "$verify_attempts" no_rules; then
    aws_die "security group $group_id still has rules"
  fi
  mapfile -t enis < <(jq -r '.network_interfaces[].id' <<<"$before")
  for eni in "${enis[@]}"; do
    if ! awsx ec2 modify-network-interface-attribute --network-interface-id "$eni" --groups "$group_id"; then
      aws_die "cannot set security group $group_id on network interface $eni"
    fi
  done
  only_isolation_group() {
    local current
    current="$(describe)" || return 1
    jq -e --arg sg "$group_id" '(.NetworkInterfaces | length) > 0
      and all(.NetworkInterfaces[]; [.Groups[].GroupId] == [$sg])' <<<"$current" >/dev/null
  }
  if ! retry "$verify_attempts" only_isolation_group; then
    aws_die "the network interfaces of $instance_id do not read back with $group_id as their only security group"
  fi
  mark_done security-groups
  echo "instance $instance_id: $group_id, without inbound or outbound rules, is the only security group of ${enis[*]}"
fi

# ---------------------------------------------------------------------------
# Step 7: the quarantine network ACL, which ends tracked connections.

if step network-acl "subnets put behind the quarantine network ACL as -q $quarantine decided"; then
  mapfile -t subnets < <(jq -c '.subnets[]' <<<"$before")
  to_quarantine=()
  declare id others
  for subnet in "${subnets[@]}"; do
    json_read '.subnet_id, (.other_interfaces | join(" "))' id others <<<"$subnet"
    case "$quarantine" in
      never)
        warn "subnet $id: not put behind the quarantine network ACL (-q never); connections of $instance_id that a security group tracked can go on until they are idle: stop the instance to end them" ;;
      auto)
        if [[ -n "$others" ]]; then
          warn "subnet $id is shared with network interfaces $others: not put behind the quarantine network ACL, which would cut them off too (-q always does); connections of $instance_id that a security group tracked can go on until they are idle: stop the instance to end them"
        else
          to_quarantine+=("$id")
        fi ;;
      always)
        if [[ -n "$others" ]]; then
          warn "subnet $id is shared with network interfaces $others: the quarantine network ACL cuts them off too (-q always)"
        fi
        to_quarantine+=("$id") ;;
    esac
  done
  if ((${#to_quarantine[@]} > 0)); then
    # vpc_acls: the VPC's network ACLs, with their rules, tags and subnets.
    vpc_acls() {
      awsx ec2 describe-network-acls --filters "Name=vpc-id,Values=$vpc_id"
    }
    if ! acls="$(vpc_acls)"; then
      aws_die "cannot read the network ACLs of VPC $vpc_id"
    fi
    acl_id="$(jq -r --arg name "$acl_name" '[.NetworkAcls[] | select(any(.Tags[]?; .Key == "Name" and .Value == $name))
      | .NetworkAclId][0] // empty' <<<"$acls")"
    if [[ -z "$acl_id" ]]; then
      tag_specs="$(jq -cn --argjson tags "$(tag_list Name "$acl_name" ir-workshop:purpose isolation)" \
        '[{ResourceType: "network-acl", Tags: $tags}]')"
      if ! acl_id="$(awsx ec2 create-network-acl --vpc-id "$vpc_id" --tag-specifications "$tag_specs" \
        --query NetworkAcl.NetworkAclId --output text)"; then
        aws_die "cannot create network ACL $acl_name in VPC $vpc_id"
      fi
      echo "network ACL $acl_id ($acl_name): created in VPC $vpc_id"
    else
      echo "network ACL $acl_id ($acl_name): reused"
    fi
    state_set .resources.quarantine_acl "$acl_id"
    # A new network ACL denies everything until rules allow something: take
    # away any allowing rule someone added.
    mapfile -t allowing < <(jq -r --arg acl "$acl_id" '.NetworkAcls[] | select(.NetworkAclId == $acl)
      | .Entries[] | select(.RuleAction == "allow") | "\(.RuleNumber) \(.Egress)"' <<<"$acls")
    for entry in "${allowing[@]}"; do
      read -r number egress <<<"$entry"
      direction=--ingress
      if [[ "$egress" == true ]]; then
        direction=--egress
      fi
      if ! awsx ec2 delete-network-acl-entry --network-acl-id "$acl_id" --rule-number "$number" "$direction"; then
        aws_die "cannot remove rule $number of network ACL $acl_id"
      fi
    done
    # Recorded first: restore-instance.sh puts back only a subnet that is
    # still behind the quarantine ACL.
    # shellcheck disable=SC2016 # jq variable
    state_update '.resources.quarantined_subnets |= (. + $s | unique)' --argjson s "$(jq -cn '$ARGS.positional' --args "${to_quarantine[@]}")"
    for id in "${to_quarantine[@]}"; do
      # The subnet's network ACL and association ID.
      read -r current_acl association_id < <(jq -r --arg s "$id" '.NetworkAcls[] | .NetworkAclId as $acl
        | .Associations[] | select(.SubnetId == $s) | "\($acl) \(.NetworkAclAssociationId)"' <<<"$acls")
      if [[ "$current_acl" != "$acl_id" ]] &&
        ! awsx ec2 replace-network-acl-association --association-id "$association_id" --network-acl-id "$acl_id" >/dev/null; then
        aws_die "cannot put subnet $id behind network ACL $acl_id"
      fi
    done
    # quarantined: every subnet to quarantine reads back behind the ACL.
    quarantined() {
      vpc_acls | jq -e --arg acl "$acl_id" --argjson subnets "$(jq -cn '$ARGS.positional' --args "${to_quarantine[@]}")" '
        [.NetworkAcls[] | select(.NetworkAclId == $acl) | .Associations[].SubnetId] as $behind
        | all($subnets[]; IN($behind[]))' >/dev/null
    }
    if ! retry "$verify_attempts" quarantined; then
      aws_die "subnets ${to_quarantine[*]} do not read back behind network ACL $acl_id"
    fi
    echo "subnets ${to_quarantine[*]}: behind network ACL $acl_id, which denies all traffic in and out: tracked connections end"
  fi
  mark_done network-acl
fi

# ---------------------------------------------------------------------------
# Step 8: no instance profile, and its sessions revoked.

if [[ -n "$profile_arn" ]] && step instance-profile "instance profile disassociated"; then
  # association_of: the instance's current profile association ID, if any.
  association_of() {
    awsx ec2 describe-iam-instance-profile-associations --filters "Name=instance-id,Values=$instance_id" |
      jq -r '.IamInstanceProfileAssociations[] | select(.State | IN("associating", "associated")) | .AssociationId'
  }
  if ! association_id="$(association_of)"; then
    aws_die "cannot read the instance profile association of $instance_id"
  fi
  if [[ -n "$association_id" ]] &&
    ! awsx ec2 disassociate-iam-instance-profile --association-id "$association_id" >/dev/null; then
    aws_die "cannot disassociate instance profile $profile_arn from $instance_id"
  fi
  no_profile() {
    local now
    now="$(association_of)" || return 1
    [[ -z "$now" ]]
  }
  if ! retry "$verify_attempts" no_profile; then
    aws_die "instance $instance_id still has an instance profile"
  fi
  mark_done instance-profile
  echo "instance $instance_id: instance profile $profile_arn disassociated: no new credentials"
fi

mapfile -t roles < <(jq -r '.roles[]' <<<"$before")
if ((${#roles[@]} > 0)) && step sessions "sessions revoked"; then
  revoked_before="$(state_get '.revoked_before // empty')"
  if [[ -z "$revoked_before" ]]; then
    revoked_before="$(now)"
    state_set .revoked_before "$revoked_before"
  fi
  if [[ "$revoke_all" == true ]]; then
    policy_name=AWSRevokeOlderSessions
    # shellcheck disable=SC2016 # jq variable
    document="$(jq -c --arg time "$revoked_before" \
      '.Statement[0].Condition.DateLessThan["aws:TokenIssueTime"] = $time' "$role_sessions_policy")" ||
      die "cannot read the policy $role_sessions_policy"
  else
    policy_name="ir-revoke-sessions-$instance_id"
    # shellcheck disable=SC2016 # jq variables
    document="$(jq -c --arg time "$revoked_before" --arg arn "$instance_arn" \
      '.Statement[0].Condition.DateLessThan["aws:TokenIssueTime"] = $time
       | .Statement[0].Condition.ArnEquals["ec2:SourceInstanceARN"] = $arn' "$instance_sessions_policy")" ||
      die "cannot read the policy $instance_sessions_policy"
  fi
  for role in "${roles[@]}"; do
    if ! awsx iam put-role-policy --role-name "$role" --policy-name "$policy_name" --policy-document "$document"; then
      aws_die "cannot attach inline policy $policy_name to role $role"
    fi
    revoking() {
      local got
      got="$(awsx iam get-role-policy --role-name "$role" --policy-name "$policy_name" --query PolicyDocument)" || return 1
      # The CLI decodes the URL-encoded document; some versions leave it a string.
      jq -e --arg time "$revoked_before" 'if type == "string" then fromjson else . end
        | any(.Statement[]; .Effect == "Deny" and .Condition.DateLessThan["aws:TokenIssueTime"] == $time)' <<<"$got" >/dev/null
    }
    if ! retry "$verify_attempts" revoking; then
      aws_die "inline policy $policy_name does not read back on role $role"
    fi
    # shellcheck disable=SC2016 # jq variable
    state_update '.resources.revoked_roles |= (. + [$r] | unique)' --arg r "$role"
    if [[ "$revoke_all" == true ]]; then
      echo "role $role: inline policy $policy_name denies every session issued before $revoked_before"
    else
      echo "role $role: inline policy $policy_name denies the sessions of $instance_id issued before $revoked_before"
    fi
  done
  mark_done sessions
fi

# ---------------------------------------------------------------------------
# Step 9: snapshots of the EBS volumes, waited for.

if step snapshots "volumes snapshotted"; then
  mapfile -t volumes < <(jq -r '.BlockDeviceMappings[]? | .Ebs.VolumeId // empty' <<<"$instance")
  if ((${#volumes[@]} == 0)); then
    warn "instance $instance_id has no EBS volume to snapshot"
  fi
  for volume in "${volumes[@]}"; do
    if ! snapshot_id="$(awsx ec2 describe-snapshots --owner-ids self --filters "Name=volume-id,Values=$volume" \
      "Name=tag:$IR_TAG_INCIDENT,Values=$incident" --query 'Snapshots[0].SnapshotId' --output text)"; then
      aws_die "cannot look for snapshots of volume $volume"
    fi
    if [[ -n "$snapshot_id" && "$snapshot_id" != None ]]; then
      echo "volume $volume: snapshot $snapshot_id for incident $incident exists; kept"
    else
      tag_specs="$(jq -cn --argjson tags "$(incident_tags "$incident" "$instance_tag" "$instance_id" \
        "$isolation_tag" "$run_id" Name "$incident $instance_id $volume")" '[{ResourceType: "snapshot", Tags: $tags}]')"
      if ! snapshot_id="$(awsx ec2 create-snapshot --volume-id "$volume" \
        --description "Incident $incident: volume $volume of instance $instance_id" \
        --tag-specifications "$tag_specs" --query SnapshotId --output text)"; then
        aws_die "cannot snapshot volume $volume"
      fi
      echo "volume $volume: snapshot $snapshot_id started (tagged $IR_TAG_INCIDENT=$incident)"
    fi
    # shellcheck disable=SC2016 # jq variable
    state_update '.resources.snapshot_ids |= (. + [$s] | unique)' --arg s "$snapshot_id"
  done
  mark_done snapshots
fi

mapfile -t snapshots < <(state_get '.resources.snapshot_ids[]')
if ((${#snapshots[@]} > 0)) && step snapshots-completed "snapshots completed"; then
  log "waiting until snapshots ${snapshots[*]} are completed (large volumes take a while)"
  if ! retry "$snapshot_waits" awsx ec2 wait snapshot-completed --snapshot-ids "${snapshots[@]}"; then
    aws_die "snapshots ${snapshots[*]} are not completed after $snapshot_waits waits of up to 10 minutes; the instance is contained: run this script again with -s to wait for them"
  fi
  mark_done snapshots-completed
  echo "snapshots ${snapshots[*]}: completed"
fi

state_status complete
restore=("$script_dir/restore-instance.sh" -s "$IR_STATE_FILE")
if [[ -n "$aws_profile" ]]; then
  restore+=(-p "$aws_profile")
fi
echo "Isolated instance $instance_id for incident $incident (run $run_id, state file $IR_STATE_FILE)."
echo "Once the case allows, put it back as it was with:"
echo "  $(shell_quote "${restore[@]}")"
