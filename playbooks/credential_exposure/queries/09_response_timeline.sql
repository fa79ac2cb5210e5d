-- Credential exposure, timeline: the response as CloudTrail recorded it,
-- for the timeline and its metrics. The first call of a SecurityAnalystRole
-- session since the incident began (analysis began), then every change
-- made by SecurityBreakGlassRole and SecurityDeployRole sessions, with the
-- phase of this playbook it belongs to: contain, eradicate or recover
-- (other: a change this playbook does not name). scripts/incident-timeline.sh
-- runs it and computes the times to contain and to recover.
-- Replace 2026/01/01 with the day (UTC, yyyy/MM/dd) the incident began, and
-- 2026-01-01T09:00:00Z with the time (UTC) it began: the simulation state
-- file's started_at, or the first malicious call of step 1.
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
    coalesce(
      json_extract_scalar(requestparameters, '$.accessKeyId'),
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.roleName'),
      json_extract_scalar(requestparameters, '$.secretId'),
      json_extract_scalar(requestparameters, '$.name'),
      json_extract_scalar(requestparameters, '$.bucketName'),
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
    WHEN eventname IN (
      'PutUserPolicy', 'PutRolePolicy', 'TagUser', 'DeleteLoginProfile', 'PutBucketPolicy',
      'PutBucketPublicAccessBlock'
    ) THEN 'contain'
    WHEN eventname = 'DeleteUserPolicy' AND policy_name = 'ir-containment-deny-all'
      AND user_name NOT IN (SELECT user_name FROM deleted_users) THEN 'recover'
    WHEN eventname IN (
      'DeleteAccessKey', 'DetachUserPolicy', 'DeleteUserPolicy', 'RemoveUserFromGroup', 'DeactivateMFADevice',
      'DeleteSSHPublicKey', 'DeleteServiceSpecificCredential', 'DeleteSigningCertificate', 'DeleteUser',
      'DetachRolePolicy', 'DeleteRolePolicy', 'DeleteRole', 'UpdateAssumeRolePolicy', 'DeleteObject', 'DeleteBucket'
    ) THEN 'eradicate'
    WHEN eventname IN (
      'CreateAccessKey', 'PutSecretValue', 'RotateSecret', 'UpdateSecret', 'PutParameter', 'DeleteStack',
      'CreateChangeSet', 'ExecuteChangeSet'
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
