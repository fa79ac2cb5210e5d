#!/usr/bin/env bash
# isolate-instance.sh: isolate a suspect EC2 instance and preserve its disks,
# the containment step of the crypto mining playbook.
#
# What it does, with the caller's credentials (-p; typically the break glass
# role), checking each step before the next:
#   1. turns termination protection on, so that the evidence cannot be
#      terminated by accident or by the attacker's key;
#   2. finds or creates the security group ir-workshop-isolation in the
#      instance's VPC, removes every inbound and outbound rule from it (a new
#      group comes with an allow-all outbound rule), and makes it the only
#      security group of each of the instance's network interfaces. Tracked
#      connections that were open before can outlive the change; new ones
#      cannot start;
#   3. snapshots every attached EBS volume, tagged with the incident and the
#      instance (a volume that already has a snapshot for this incident
#      keeps it, so running it twice adds none);
#   4. tags the instance ir-workshop:incident-id=INCIDENT_ID.
# It prints what it did. It stops and deletes nothing: memory and disks stay
# for forensics.
#
# What it creates: the isolation security group (once per VPC), the
# snapshots, the tags; it changes the instance's security groups and
# termination protection. What CloudTrail shows: ModifyInstanceAttribute,
# CreateSecurityGroup, RevokeSecurityGroupEgress,
# ModifyNetworkInterfaceAttribute, CreateSnapshot and CreateTags by the
# caller. GuardDuty: the instance's findings stay; its DNS queries go on
# (the VPC resolver is not filtered by security groups).
#
# Undo (after the investigation): put the instance's earlier security groups
# back (printed by this script) with
#   aws ec2 modify-network-interface-attribute --network-interface-id ENI --groups SG...
# turn termination protection off with
#   aws ec2 modify-instance-attribute --instance-id ID --no-disable-api-termination
# and delete the snapshots when they are no longer evidence. For the crypto
# mining simulation's instances, undo-crypto-mining.sh terminates them and
# leaves the snapshots and the group.
#
# Exit status: 0 isolated, 1 a step failed or did not take effect, 2 bad
# usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly group_name=ir-workshop-isolation
readonly instance_tag=ir-workshop:source-instance
# Attempts until a change shows when read back (EC2 is eventually consistent).
readonly verify_attempts=5

usage() {
  cat <<EOF
Usage: $IR_PROG -i INSTANCE_ID [-n INCIDENT_ID] [-p PROFILE] [-r REGION]

Isolate an EC2 instance: termination protection on, a security group without
rules as its only group, snapshots of its EBS volumes, an incident tag.

  -i INSTANCE_ID  the instance, for example i-0123456789abcdef0
  -n INCIDENT_ID  incident ID for the tags (default: a new ir-... ID)
  -p PROFILE      AWS CLI profile allowed to change instances
                  (default: \$AWS_PROFILE, else the default credential chain)
  -r REGION       region of the instance (default: \$AWS_REGION,
                  \$AWS_DEFAULT_REGION, then the profile's region)
  -h              show this help
EOF
}

instance_id=""
incident=""
while getopts ':i:n:p:r:h' opt; do
  case "$opt" in
    i) check_value i "$OPTARG"; instance_id="$OPTARG" ;;
    n) check_value n "$OPTARG"; incident="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
if [[ -z "$instance_id" ]]; then
  usage_error "missing -i INSTANCE_ID"
fi
require_pattern i "$instance_id" '^i-[0-9a-f]{8,17}$' "an instance ID such as i-0123456789abcdef0"
response_begin

# describe: the instance as JSON.
describe() {
  awsx ec2 describe-instances --instance-ids "$instance_id" --query 'Reservations[0].Instances[0]'
}
if ! instance="$(describe)"; then
  aws_die "cannot find instance $instance_id in region $aws_region"
fi
state="$(jq -r '.State.Name // empty' <<<"$instance")"
vpc_id="$(jq -r '.VpcId // empty' <<<"$instance")"
case "$state" in
  "" | terminated | shutting-down) die "instance $instance_id is ${state:-unknown}: nothing to isolate" ;;
esac
if [[ -z "$vpc_id" ]]; then
  die "instance $instance_id is in no VPC"
fi
echo "instance $instance_id: $state in VPC $vpc_id; incident $incident"
# What undo needs: the groups before isolation.
jq -r --arg id "$instance_id" '.NetworkInterfaces[]
  | "instance \($id): \(.NetworkInterfaceId) had security groups \([.Groups[].GroupId] | join(" "))"' <<<"$instance"

# Step 1: termination protection.
if ! awsx ec2 modify-instance-attribute --instance-id "$instance_id" --disable-api-termination; then
  aws_die "cannot turn on termination protection of $instance_id"
fi
protected() {
  [[ "$(awsx ec2 describe-instance-attribute --instance-id "$instance_id" --attribute disableApiTermination \
    --query DisableApiTermination.Value --output text)" =~ ^[Tt]rue$ ]]
}
if ! retry "$verify_attempts" protected; then
  aws_die "termination protection of $instance_id does not read back as on"
fi
echo "instance $instance_id: termination protection on"

# Step 2: the isolation group, without rules.
if ! group_id="$(awsx ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc_id" \
  "Name=group-name,Values=$group_name" --query 'SecurityGroups[0].GroupId' --output text)"; then
  aws_die "cannot look for security group $group_name in VPC $vpc_id"
fi
if [[ -z "$group_id" || "$group_id" == None ]]; then
  tag_specs="$(jq -cn --argjson tags "$(tag_list Name "$group_name" ir-workshop:purpose isolation)" \
    '[{ResourceType: "security-group", Tags: $tags}]')"
  if ! group_id="$(awsx ec2 create-security-group --vpc-id "$vpc_id" --group-name "$group_name" \
    --description "Incident response isolation: no inbound or outbound traffic" \
    --tag-specifications "$tag_specs" --query GroupId --output text)"; then
    aws_die "cannot create security group $group_name in VPC $vpc_id"
  fi
  echo "security group $group_id ($group_name): created in VPC $vpc_id"
else
  echo "security group $group_id ($group_name): reused"
fi
# rules DIRECTION: the group's IpPermissions or IpPermissionsEgress, as JSON.
rules() {
  awsx ec2 describe-security-groups --group-ids "$group_id" --query "SecurityGroups[0].$1"
}
if ! ingress="$(rules IpPermissions)" || ! egress="$(rules IpPermissionsEgress)"; then
  aws_die "cannot read the rules of security group $group_id"
fi
if [[ "$(jq 'length' <<<"$ingress")" != 0 ]] &&
  ! awsx ec2 revoke-security-group-ingress --group-id "$group_id" --ip-permissions "$ingress" >/dev/null; then
  aws_die "cannot remove the inbound rules of security group $group_id"
fi
if [[ "$(jq 'length' <<<"$egress")" != 0 ]] &&
  ! awsx ec2 revoke-security-group-egress --group-id "$group_id" --ip-permissions "$egress" >/dev/null; then
  aws_die "cannot remove the outbound rules of security group $group_id"
fi
no_rules() {
  local group
  group="$(awsx ec2 describe-security-groups --group-ids "$group_id" --query 'SecurityGroups[0]')" || return 1
  jq -e '(.IpPermissions | length) == 0 and (.IpPermissionsEgress | length) == 0' <<<"$group" >/dev/null
}
if ! retry "$verify_attempts" no_rules; then
  aws_die "security group $group_id still has rules"
fi
echo "security group $group_id: no inbound and no outbound rules"

mapfile -t enis < <(jq -r '.NetworkInterfaces[].NetworkInterfaceId' <<<"$instance")
if ((${#enis[@]} == 0)); then
  die "instance $instance_id has no network interface to isolate"
fi
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
echo "instance $instance_id: $group_id is the only security group of ${enis[*]}"

# Step 3: snapshots of the EBS volumes.
mapfile -t volumes < <(jq -r '.BlockDeviceMappings[]? | .Ebs.VolumeId // empty' <<<"$instance")
if ((${#volumes[@]} == 0)); then
  warn "instance $instance_id has no EBS volume to snapshot"
fi
# snapshot_ok: snapshot $snapshot_id exists and did not fail.
snapshot_ok() {
  local snapshot_state
  snapshot_state="$(awsx ec2 describe-snapshots --snapshot-ids "$snapshot_id" --query 'Snapshots[0].State' --output text)" || return 1
  [[ "$snapshot_state" == pending || "$snapshot_state" == completed ]]
}
for volume in "${volumes[@]}"; do
  if ! snapshot_id="$(awsx ec2 describe-snapshots --owner-ids self --filters "Name=volume-id,Values=$volume" \
    "Name=tag:$IR_TAG_INCIDENT,Values=$incident" --query 'Snapshots[0].SnapshotId' --output text)"; then
    aws_die "cannot look for snapshots of volume $volume"
  fi
  if [[ -n "$snapshot_id" && "$snapshot_id" != None ]]; then
    echo "volume $volume: snapshot $snapshot_id for incident $incident exists; kept"
    continue
  fi
  tag_specs="$(jq -cn --argjson tags "$(incident_tags "$incident" "$instance_tag" "$instance_id" Name "$incident $instance_id $volume")" \
    '[{ResourceType: "snapshot", Tags: $tags}]')"
  if ! snapshot_id="$(awsx ec2 create-snapshot --volume-id "$volume" \
    --description "Incident $incident: volume $volume of instance $instance_id" \
    --tag-specifications "$tag_specs" --query SnapshotId --output text)"; then
    aws_die "cannot snapshot volume $volume"
  fi
  if ! retry "$verify_attempts" snapshot_ok; then
    aws_die "snapshot $snapshot_id of volume $volume does not read back as pending or completed"
  fi
  echo "volume $volume: snapshot $snapshot_id started (tagged $IR_TAG_INCIDENT=$incident)"
done

# Step 4: the incident tag.
if ! awsx ec2 create-tags --resources "$instance_id" --tags "$(incident_tags "$incident")"; then
  aws_die "cannot tag instance $instance_id"
fi
tagged() {
  awsx ec2 describe-tags --filters "Name=resource-id,Values=$instance_id" "Name=key,Values=$IR_TAG_INCIDENT" |
    jq -e --arg value "$incident" 'any(.Tags[]; .Value == $value)' >/dev/null
}
if ! retry "$verify_attempts" tagged; then
  aws_die "instance $instance_id does not read back with tag $IR_TAG_INCIDENT=$incident"
fi
echo "instance $instance_id: tagged $IR_TAG_INCIDENT=$incident"
echo "Isolated instance $instance_id for incident $incident."
