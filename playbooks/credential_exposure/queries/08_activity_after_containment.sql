-- Credential exposure, step 8, after containment: calls made since
-- containment with the leaked key or the keys created with it. Expect none,
-- or only failures (AccessDenied and the like). A row with an empty errorcode
-- is a call that still worked: containment has a gap.
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1, and
-- 2026-01-01T12:00:00Z with the time (UTC) containment finished.
WITH suspect_keys AS (
  SELECT 'AKIAIOSFODNN7EXAMPLE' AS key_id
  UNION ALL
  SELECT json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS key_id
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
    AND eventname = 'CreateAccessKey'
    AND errorcode IS NULL
)
SELECT
  ct.eventtime,
  ct.useridentity.accesskeyid AS access_key_id,
  ct.useridentity.arn AS principal_arn,
  ct.eventsource,
  ct.eventname,
  ct.errorcode,
  ct.sourceipaddress
FROM ir_workshop.cloudtrail_logs AS ct
WHERE ct.date_partition >= '2026/01/01'
  AND ct.eventtime > '2026-01-01T12:00:00Z'
  AND ct.useridentity.accesskeyid IN (SELECT key_id FROM suspect_keys)
ORDER BY ct.errorcode NULLS FIRST, ct.eventtime
