-- Hunting, CloudTrail: every change to IAM, one row per principal and
-- action, first change first: who created or deleted users, roles, keys and
-- passwords, attached policies or changed trust, how often, on what. A
-- principal that does not manage IAM, or one making a change it never
-- makes, is where an incident starts.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  useridentity.arn AS principal_arn,
  eventname,
  count(*) AS calls,
  count_if(errorcode IS NOT NULL) AS failed_calls,
  array_join(array_agg(DISTINCT coalesce(
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(requestparameters, '$.roleName'),
    json_extract_scalar(requestparameters, '$.groupName'),
    json_extract_scalar(requestparameters, '$.policyArn')
  )), ', ') AS targets,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND eventsource = 'iam.amazonaws.com'
  AND readonly = 'false'
GROUP BY useridentity.arn, eventname
ORDER BY first_seen
