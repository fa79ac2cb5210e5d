-- S3 exfiltration, timeline: the response as CloudTrail recorded it, for
-- the timeline and its metrics. The first SecurityAnalystRole call since
-- the incident began, then every change SecurityBreakGlassRole made to
-- this incident's user, key, secret and buckets, with its phase: contain,
-- eradicate or recover. scripts/incident-timeline.sh runs it.
-- Replace 2025/12/31 with the day (UTC, yyyy/MM/dd) the incident began,
-- 2025-12-31T08:30:12Z with the time (UTC) it began (the state file's
-- started_at, or the first call of step 1), reporting with the key's user,
-- and the bucket names with the data bucket and the staging bucket prefix.
-- Of the data bucket, only its logging and its policy are this response's.
WITH response AS (
  SELECT
    eventtime,
    useridentity.sessioncontext.sessionissuer.username AS role_name,
    regexp_extract(useridentity.arn, '[^/]+/[^/]+$') AS actor,
    split_part(eventsource, '.', 1) || ':' || eventname AS action,
    eventname,
    readonly,
    json_extract_scalar(requestparameters, '$.policyName') AS policy_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.accessKeyId'),
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.secretId'),
      json_extract_scalar(requestparameters, '$.bucketName')
    ) AS target,
    json_extract_scalar(requestparameters, '$.status') AS key_status,
    errorcode
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2025/12/31'
    AND eventtime >= '2025-12-31T08:30:12Z'
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
    WHEN eventname = 'UpdateAccessKey' AND key_status = 'Inactive' THEN 'contain'
    WHEN eventname IN ('PutUserPolicy', 'TagUser', 'PutBucketPolicy', 'PutBucketPublicAccessBlock') THEN 'contain'
    WHEN eventname = 'DeleteUserPolicy' AND policy_name = 'ir-containment-deny-all' THEN 'recover'
    WHEN eventname IN ('DeleteAccessKey', 'DeleteObject', 'DeleteObjects', 'DeleteBucket', 'PutBucketLogging') THEN 'eradicate'
    WHEN eventname IN ('CreateAccessKey', 'PutSecretValue') THEN 'recover'
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
    target IN ('reporting', 'AKIAREPORTINGEXAMPLE', 'ir-workshop/simulation/reporting')
    OR target LIKE 'ir-exfil-%' AND eventname <> 'PutBucketLogging'
    OR target = 'ir-workshop-data-111122223333-us-east-1' AND eventname IN ('PutBucketLogging', 'PutBucketPolicy')
  )
ORDER BY eventtime, action
