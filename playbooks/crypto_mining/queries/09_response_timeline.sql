-- Crypto mining, timeline: the response as CloudTrail recorded it, for the
-- timeline and its metrics. The first call of a SecurityAnalystRole session
-- since the incident began (analysis began), then every change made by
-- SecurityBreakGlassRole and SecurityDeployRole sessions, with the phase of
-- this playbook it belongs to: contain, eradicate or recover (other: a
-- change this playbook does not name). scripts/incident-timeline.sh runs it
-- and computes the times to contain and to recover.
-- Replace 2026/01/01 with the day (UTC, yyyy/MM/dd) the incident began, and
-- 2026-01-01T09:00:00Z with the time (UTC) it began: the simulation state
-- file's started_at, or the first RunInstances of step 1.
WITH response AS (
  SELECT
    eventtime,
    useridentity.sessioncontext.sessionissuer.username AS role_name,
    regexp_extract(useridentity.arn, '[^/]+/[^/]+$') AS actor,
    split_part(eventsource, '.', 1) || ':' || eventname AS action,
    eventname,
    readonly,
    json_extract_scalar(requestparameters, '$.userName') AS user_name,
    json_extract_scalar(requestparameters, '$.policyName') AS policy_name,
    json_extract_scalar(requestparameters, '$.disableApiTermination.value') AS termination_protection,
    coalesce(
      json_extract_scalar(requestparameters, '$.accessKeyId'),
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.instanceId'),
      json_extract_scalar(requestparameters, '$.instancesSet.items[0].instanceId'),
      json_extract_scalar(requestparameters, '$.resourcesSet.items[0].resourceId'),
      json_extract_scalar(requestparameters, '$.networkInterfaceId'),
      json_extract_scalar(requestparameters, '$.volumeId'),
      json_extract_scalar(requestparameters, '$.groupId'),
      json_extract_scalar(requestparameters, '$.groupName'),
      json_extract_scalar(requestparameters, '$.name'),
      json_extract_scalar(requestparameters, '$.secretId'),
      json_extract_scalar(requestparameters, '$.stackName')
    ) AS target,
    json_extract_scalar(requestparameters, '$.status') AS key_status,
    errorcode
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND eventtime >= '2026-01-01T09:00:00Z'
    AND useridentity.sessioncontext.sessionissuer.username IN (
      'SecurityAnalystRole', 'SecurityBreakGlassRole', 'SecurityDeployRole'
    )
),
analysis AS (
  SELECT eventtime, actor, action, target, errorcode, row_number() OVER (ORDER BY eventtime) AS n
  FROM response
  WHERE role_name = 'SecurityAnalystRole'
),
deleted_users AS (
  SELECT user_name FROM response WHERE eventname = 'DeleteUser' AND errorcode IS NULL
)
SELECT eventtime, 'analyze' AS phase, actor, action, target, errorcode
FROM analysis
WHERE n = 1
UNION ALL
SELECT
  eventtime,
  CASE
    WHEN eventname = 'UpdateAccessKey' AND key_status = 'Inactive' THEN 'contain'
    WHEN eventname = 'ModifyInstanceAttribute' AND termination_protection = 'true' THEN 'contain'
    WHEN eventname = 'ModifyInstanceAttribute' AND termination_protection = 'false' THEN 'eradicate'
    WHEN eventname IN (
      'PutUserPolicy', 'TagUser', 'CreateSecurityGroup', 'RevokeSecurityGroupEgress',
      'ModifyNetworkInterfaceAttribute', 'CreateSnapshot', 'CreateTags', 'StopInstances',
      'CreateFirewallDomainList', 'UpdateFirewallDomains', 'CreateFirewallRuleGroup', 'CreateFirewallRule',
      'AssociateFirewallRuleGroup'
    ) THEN 'contain'
    WHEN eventname IN (
      'TerminateInstances', 'DeleteKeyPair', 'DeleteSecurityGroup', 'DeleteLaunchTemplate',
      'CancelSpotInstanceRequests', 'DeleteAutoScalingGroup', 'DeregisterImage', 'DeleteAccessKey'
    ) THEN 'eradicate'
    WHEN eventname = 'DeleteUserPolicy' AND policy_name = 'ir-containment-deny-all'
      AND user_name NOT IN (SELECT user_name FROM deleted_users) THEN 'recover'
    WHEN eventname IN (
      'CreateAccessKey', 'PutSecretValue', 'DeleteStack', 'CreateChangeSet', 'ExecuteChangeSet'
    ) THEN 'recover'
    ELSE 'other'
  END AS phase,
  actor,
  action,
  target,
  errorcode
FROM response
WHERE role_name <> 'SecurityAnalystRole'
  AND readonly = 'false'
ORDER BY eventtime, action
