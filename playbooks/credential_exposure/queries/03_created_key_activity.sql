-- Credential exposure, step 3: what the access keys created with the leaked
-- key did. created_keys finds them (successful CreateAccessKey calls made
-- with the leaked key); the query then lists every call made with them, one
-- row per key and API action, first use first.
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1.
WITH created_keys AS (
  SELECT
    json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS key_id,
    json_extract_scalar(responseelements, '$.accessKey.userName') AS key_user
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
    AND eventname = 'CreateAccessKey'
    AND errorcode IS NULL
)
SELECT
  k.key_user,
  k.key_id,
  ct.eventsource,
  ct.eventname,
  count(*) AS calls,
  count_if(ct.errorcode IS NOT NULL) AS failed_calls,
  min(ct.eventtime) AS first_seen,
  max(ct.eventtime) AS last_seen,
  array_join(array_agg(DISTINCT ct.awsregion), ', ') AS regions
FROM ir_workshop.cloudtrail_logs AS ct
JOIN created_keys AS k ON ct.useridentity.accesskeyid = k.key_id
WHERE ct.date_partition >= '2026/01/01'
GROUP BY k.key_user, k.key_id, ct.eventsource, ct.eventname
ORDER BY first_seen
