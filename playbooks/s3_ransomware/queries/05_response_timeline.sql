-- S3 ransomware, timeline: the response as CloudTrail recorded it, for
-- the timeline and its metrics. The first SecurityAnalystRole call since
-- the incident began, then every change SecurityBreakGlassRole made to
-- this incident's user, key, secret, KMS key and data bucket, with its
-- phase: contain, eradicate or recover. scripts/incident-timeline.sh runs
-- it. Replace 2025/12/30 with the day (UTC, yyyy/MM/dd) the incident
-- began, 2025-12-30T07:15:03Z with the time (UTC) it began (the state
-- file's started_at, or the first call of step 1), ingest with the key's
-- user, the KMS key ID with the intruder's (step 2), and the bucket name
-- with the data bucket. Of the data bucket, its object deletions and its
-- policy are this response's: the lockdown (contain) and the bucket's own
-- policy put back (recover).
WITH response AS (
  SELECT
    eventtime,
    useridentity.sessioncontext.sessionissuer.username AS role_name,
    regexp_extract(useridentity.arn, '[^/]+/[^/]+$') AS actor,
    split_part(eventsource, '.', 1) || ':' || eventname AS action,
    eventname,
    readonly,
    requestparameters,
    json_extract_scalar(requestparameters, '$.policyName') AS policy_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.accessKeyId'),
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.secretId'),
      json_extract_scalar(requestparameters, '$.keyId'),
      json_extract_scalar(requestparameters, '$.bucketName')
    ) AS target,
    json_extract_scalar(requestparameters, '$.status') AS key_status,
    errorcode
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2025/12/30'
    AND eventtime >= '2025-12-30T07:15:03Z'
    AND useridentity.sessioncontext.sessionissuer.username IN ('SecurityAnalystRole', 'SecurityBreakGlassRole')
),
analysis AS (
  SELECT eventtime, actor, action, target, errorcode, row_number() OVER (ORDER BY eventtime) AS n
  FROM response
  WHERE role_name = 'SecurityAnalystRole'
)
SELECT eventtime, 'analyze' AS phase, actor, action, target, errorcode
FROM analysis
WHERE n = 1
UNION ALL
SELECT
  eventtime,
  CASE
    WHEN eventname = 'CancelKeyDeletion' THEN 'contain'
    WHEN eventname = 'UpdateAccessKey' AND key_status = 'Inactive' THEN 'contain'
    WHEN eventname IN ('PutUserPolicy', 'TagUser') THEN 'contain'
    WHEN eventname = 'PutBucketPolicy' AND strpos(requestparameters, 'IncidentContainmentDenyAllButBreakGlass') > 0 THEN 'contain'
    WHEN eventname = 'PutBucketPolicy' THEN 'recover'
    WHEN eventname IN ('DeleteObjects', 'DeleteObject') THEN 'recover'
    WHEN eventname = 'DeleteUserPolicy' AND policy_name = 'ir-containment-deny-all' THEN 'recover'
    WHEN eventname IN ('CreateAccessKey', 'PutSecretValue') THEN 'recover'
    WHEN eventname IN ('ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'DeleteAccessKey') THEN 'eradicate'
    ELSE 'other'
  END AS phase,
  actor,
  action,
  target,
  errorcode
FROM response
WHERE role_name = 'SecurityBreakGlassRole'
  AND readonly = 'false'
  AND (
    target IN ('ingest', 'AKIAINGESTKEYEXAMPLE', 'ir-workshop/simulation/ingest', '1234abcd-12ab-34cd-56ef-1234567890ab')
    OR target = 'ir-workshop-data-111122223333-us-east-1' AND eventname IN ('DeleteObjects', 'DeleteObject', 'PutBucketPolicy')
  )
ORDER BY eventtime, action
