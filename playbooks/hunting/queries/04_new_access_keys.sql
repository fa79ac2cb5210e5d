-- Hunting, CloudTrail: every access key created, oldest first: for which
-- user, by whom, from where. A key made for another user, by a principal
-- that does not manage users, or from an address nobody recognises, is the
-- first thing an intruder with IAM permissions does to stay in.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventtime,
  coalesce(
    json_extract_scalar(responseelements, '$.accessKey.userName'),
    json_extract_scalar(requestparameters, '$.userName'),
    useridentity.username
  ) AS key_user,
  json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS access_key_id,
  useridentity.arn AS created_by,
  sourceipaddress,
  errorcode
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'CreateAccessKey'
ORDER BY eventtime
