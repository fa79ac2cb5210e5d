-- Hunting, CloudTrail: console sign-ins, successful and failed, one row per
-- principal, source address, result and MFA use, the latest first. Ask
-- about a success without MFA, a sign-in from an address nobody
-- recognises, and failures by HIDDEN_DUE_TO_SECURITY_REASONS (CloudTrail's
-- name for a user name that does not exist: someone is guessing).
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  coalesce(useridentity.arn, useridentity.username) AS principal,
  sourceipaddress,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  errormessage,
  count(*) AS sign_ins,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen,
  array_join(array_agg(DISTINCT useragent), ' | ') AS user_agents
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
GROUP BY 1, 2, 3, 4, 5
ORDER BY last_seen DESC
