#!/usr/bin/env bash
# simulate-crypto-mining.sh: act as an attacker who uses a leaked deployment
# key to run "crypto miners" on EC2 in the workshop VPC.
#
# What it does, with the pipeline key (profile crypto_mining: IAM user
# pipeline of SimulationStack, allowed ec2:* and reading one public SSM
# parameter):
#   1. finds the workshop VPC by its tag ir-workshop:network=workshop (or takes
#      -v VPC_ID) and its public subnets (tag aws-cdk:subnet-type=Public, else
#      subnets that give public IPs); it never looks at other VPCs;
#   2. resolves the current Amazon Linux 2023 AMI from the public SSM
#      parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64;
#   3. launches COUNT (-n, 1 to 3) t3.micro instances, available in every
#      commercial region, in one public subnet (the next one if the zone has no
#      capacity), with IMDSv2 required, the VPC's default security group and
#      the user data crypto-mining-user-data.sh next to this script: a cron
#      job (or systemd timer) that keeps resolving mining pool domains and long
#      random subdomains. Nothing is mined;
#   4. waits until the instances run (aws ec2 wait instance-running: one
#      DescribeInstances every 15 seconds, at most 10 minutes).
#
# What it creates: the instances and their root volumes, tagged
# ir-workshop:simulation-run=RUN_ID and ir-workshop:simulation=crypto-mining
# by RunInstances itself, so that none exists without the tags. The state
# file (-s, default ./crypto-mining-RUN_ID.json) is created before the
# launch, exclusively (a second run on the same file stops there, having
# launched nothing), with the run ID; it names the instance IDs as soon as
# RunInstances returns, before the wait. An interrupt between the two loses
# nothing: undo also finds the run's instances by the tag. Every AWS CLI
# call sends "app/ir-workshop-RUN_ID" in its User-Agent.
#
# What GuardDuty and CloudTrail should show: CloudTrail management events
# DescribeVpcs, DescribeSubnets, GetParameter (ssm) and RunInstances by IAM
# user pipeline, with userAgent containing app/ir-workshop-RUN_ID. Within
# minutes of boot, GuardDuty reports CryptoCurrency:EC2/BitcoinTool.B!DNS for
# each instance (from DNS logs), and possibly Trojan:EC2/DNSDataExfiltration;
# the workshop's Route 53 Resolver query logs show the lookups.
#
# Undo: scripts/undo-crypto-mining.sh -s STATE_FILE [-p PROFILE] terminates
# exactly the run's instances: those the state file records and those that
# carry the run's tag.
#
# Test hook: IR_WORKSHOP_TEST_CRASH_AFTER=instances makes the script kill
# itself with SIGKILL right after the instance IDs were recorded.
#
# Exit status: 0 done, 1 a step failed (the state file names what exists;
# undo it), 2 bad usage.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"

readonly simulation=crypto-mining
readonly instance_type=t3.micro
readonly ami_parameter=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
readonly user_data="$script_dir/crypto-mining-user-data.sh"
readonly vpc_tag_key=ir-workshop:network vpc_tag_value=workshop
readonly max_count=3

usage() {
  cat <<EOF
Usage: $IR_PROG [-p PROFILE] [-r REGION] [-s STATE_FILE] [-n COUNT] [-v VPC_ID]

Simulate crypto mining: launch COUNT small instances in the workshop VPC whose
user data keeps resolving mining pool domains. Undo with undo-crypto-mining.sh.

  -p PROFILE     AWS CLI profile with the pipeline key
                 (default: crypto_mining; see configure-simulation-profiles.sh)
  -r REGION      region of the workshop VPC
                 (default: \$AWS_REGION, \$AWS_DEFAULT_REGION, then the
                 profile's region)
  -s STATE_FILE  where to record what the run creates; must not exist
                 (default: ./crypto-mining-RUN_ID.json)
  -n COUNT       instances to launch, 1 to $max_count (default: 1)
  -v VPC_ID      launch in this VPC instead of the one tagged
                 $vpc_tag_key=$vpc_tag_value
  -h             show this help
EOF
}

aws_profile=crypto_mining
state_file=""
count=1
vpc_id=""
while getopts ':p:r:s:n:v:h' opt; do
  case "$opt" in
    s) check_value s "$OPTARG"; state_file="$OPTARG" ;;
    n) check_value n "$OPTARG"; count="$OPTARG" ;;
    v) check_value v "$OPTARG"; vpc_id="$OPTARG" ;;
    *) common_option "$opt" "${OPTARG:-}" ;;
  esac
done
shift $((OPTIND - 1))
no_operands "$@"
require_pattern n "$count" "^[1-$max_count]\$" "a number of instances from 1 to $max_count"
if [[ -n "$vpc_id" ]]; then
  require_pattern v "$vpc_id" '^vpc-[0-9a-f]{8,17}$' "a VPC ID such as vpc-0123456789abcdef0"
fi
resolve_region
if [[ -n "$state_file" ]]; then
  require_new_state_file "$state_file"
fi
ir_init
if [[ ! -r "$user_data" ]]; then
  die "cannot read the user data $user_data; keep it next to this script"
fi

# at_exit STATUS: a run that stops early is marked failed, with how to undo.
at_exit() {
  simulation_at_exit "$1" "$script_dir/undo-crypto-mining.sh"
}
simulation_begin "$simulation"

# Step 1: the workshop VPC and its public subnets, and nothing else.
if [[ -z "$vpc_id" ]]; then
  if ! vpcs="$(awsx ec2 describe-vpcs --filters "Name=tag:$vpc_tag_key,Values=$vpc_tag_value")"; then
    aws_die "cannot list the VPCs in region $aws_region (is it an AWS region enabled in this account?)"
  fi
  mapfile -t found < <(jq -r '.Vpcs[].VpcId' <<<"$vpcs")
  case "${#found[@]}" in
    0) die "no VPC in region $aws_region has the tag $vpc_tag_key=$vpc_tag_value: deploy WorkshopStack there, or pass -v VPC_ID" ;;
    1) vpc_id="${found[0]}" ;;
    *) die "several VPCs in region $aws_region have the tag $vpc_tag_key=$vpc_tag_value (${found[*]}): pass -v VPC_ID" ;;
  esac
else
  if ! vpcs="$(awsx ec2 describe-vpcs --vpc-ids "$vpc_id")"; then
    aws_die "cannot find VPC $vpc_id in region $aws_region"
  fi
  if [[ "$(jq -r --arg k "$vpc_tag_key" '.Vpcs[0].Tags[]? | select(.Key == $k) | .Value' <<<"$vpcs")" != "$vpc_tag_value" ]]; then
    warn "VPC $vpc_id lacks the tag $vpc_tag_key=$vpc_tag_value; using it because -v names it"
  fi
fi
if ! subnets_json="$(awsx ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc_id")"; then
  aws_die "cannot list the subnets of VPC $vpc_id"
fi
# Public subnets in zone order: CDK's tag first, else MapPublicIpOnLaunch.
mapfile -t subnets < <(jq -r '
  [.Subnets[] | select(.VpcId == $vpc)] as $all
  | [$all[] | select(any(.Tags[]?; .Key == "aws-cdk:subnet-type" and .Value == "Public"))] as $tagged
  | (if ($tagged | length) > 0 then $tagged else [$all[] | select(.MapPublicIpOnLaunch)] end)
  | sort_by(.AvailabilityZone, .SubnetId)[] | .SubnetId' --arg vpc "$vpc_id" <<<"$subnets_json")
if ((${#subnets[@]} == 0)); then
  die "VPC $vpc_id has no public subnet (tag aws-cdk:subnet-type=Public, or public IPs on launch)"
fi
log "step 1: VPC $vpc_id, public subnets ${subnets[*]}"

# Step 2: the current Amazon Linux 2023 AMI.
if ! image_id="$(awsx ssm get-parameter --name "$ami_parameter" --query Parameter.Value --output text)"; then
  aws_die "cannot read the AMI parameter $ami_parameter"
fi
if [[ ! "$image_id" =~ ^ami-[0-9a-f]{8,17}$ ]]; then
  die "SSM parameter $ami_parameter holds '$image_id', not an AMI ID"
fi
log "step 2: Amazon Linux 2023 AMI $image_id"

simulation_state_create "$simulation" "$(jq -n --arg vpc "$vpc_id" --arg image "$image_id" '{vpc_id: $vpc, image_id: $image}')"

# Step 3: launch. The intent is on record before the call: the state file
# holds the run ID, and every instance and volume carries it as its tag from
# the moment it exists, so undo finds them even if the run stops before it
# records their IDs (Ctrl-C while RunInstances is under way). The client
# token makes a repeated request return the same instances instead of new
# ones.
tags="$(simulation_tags "$simulation" "$run_id")"
name_tags="$(simulation_tags "$simulation" "$run_id" Name "ir-workshop-$simulation-$run_id")"
tag_specs="$(jq -cn --argjson tags "$tags" --argjson named "$name_tags" \
  '[{ResourceType: "instance", Tags: $named}, {ResourceType: "volume", Tags: $tags}]')"
launched=""
for subnet in "${subnets[@]}"; do
  if launched="$(awsx ec2 run-instances --image-id "$image_id" --instance-type "$instance_type" \
    --count "$count" --subnet-id "$subnet" --client-token "$run_id-$subnet" \
    --metadata-options HttpTokens=required,HttpEndpoint=enabled \
    --user-data "file://$user_data" --tag-specifications "$tag_specs" \
    --query 'Instances[].InstanceId')"; then
    break
  fi
  launched=""
  if ! aws_error_is InsufficientInstanceCapacity Unsupported; then
    aws_die "step 3: cannot launch $count $instance_type instances in subnet $subnet"
  fi
  warn "no $instance_type capacity in subnet $subnet; trying the next public subnet"
done
if [[ -z "$launched" ]]; then
  aws_die "step 3: no public subnet of VPC $vpc_id could launch $instance_type instances"
fi
mapfile -t instance_ids < <(jq -r '.[]' <<<"$launched")
state_update ".resources.instance_ids += \$ids | .subnet_id = \$subnet" \
  --argjson ids "$launched" --arg subnet "$subnet"
log "step 3: launched ${instance_ids[*]} in subnet $subnet"
checkpoint instances

# Step 4: wait until they run, in one AWS CLI call that polls.
log "waiting until the instances run (at most 10 minutes)"
if ! awsx ec2 wait instance-running --instance-ids "${instance_ids[@]}"; then
  aws_die "the instances did not reach running within 10 minutes" ec2:DescribeInstances
fi
log "step 4: instances running"

state_status complete
cat <<EOF
Simulation $simulation, run $run_id: complete.
  instances   ${instance_ids[*]} ($instance_type, $image_id)
  VPC         $vpc_id, subnet $subnet
  state file  $state_file
GuardDuty should report CryptoCurrency:EC2/BitcoinTool.B!DNS within minutes.
Undo it with:
  $(shell_quote "$script_dir/undo-crypto-mining.sh" -s "$state_file")
EOF
