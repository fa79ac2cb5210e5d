-- Template, timeline: the response as CloudTrail recorded it, for the
-- timeline and its metrics. The first call of a SecurityAnalystRole session
-- since the incident began (analysis began), then every change made by
-- SecurityBreakGlassRole and SecurityDeployRole sessions, with its phase:
-- contain, eradicate or recover, as the CASE below names the calls of each
-- (other: a change the playbook does not name). Copy it as the playbook's
-- last query and list its own calls in the CASE;
-- scripts/incident-timeline.sh runs the one of the simulation's playbook.
-- Replace 2026/01/01 with the day (UTC, yyyy/MM/dd) the incident began, and
-- 2026-01-01T09:00:00Z with the time (UTC) it began.
WITH response AS (
  SELECT
    eventtime,
    useridentity.sessioncontext.sessionissuer.username AS role_name,
    regexp_extract(useridentity.arn, '[^/]+/[^/]+$') AS actor,
    split_part(eventsource, '.', 1) || ':' || eventname AS action,
    eventname,
    readonly,
    coalesce(
      json_extract_scalar(requestparameters, '$.accessKeyId'),
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.instanceId')
    ) AS target,
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
)
SELECT eventtime, 'analyze' AS phase, actor, action, target, errorcode
FROM analysis
WHERE n = 1
UNION ALL
SELECT
  eventtime,
  CASE
    WHEN eventname IN ('UpdateAccessKey', 'PutUserPolicy') THEN 'contain'
    WHEN eventname IN ('DeleteAccessKey', 'DeleteUser', 'TerminateInstances') THEN 'eradicate'
    WHEN eventname IN ('CreateAccessKey', 'PutSecretValue') THEN 'recover'
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
