-- Credential exposure, step 5: every principal that acted from the addresses
-- the leaked key came from. Another principal behind the same address is
-- another stolen credential, or someone sharing that egress (in the
-- workshop: your own session, if you ran the simulation from the same place).
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1.
WITH leaked_key_ips AS (
  SELECT DISTINCT sourceipaddress AS ip
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
)
SELECT
  ct.sourceipaddress,
  ct.useridentity.type AS identity_type,
  ct.useridentity.arn AS principal_arn,
  ct.useridentity.accesskeyid AS access_key_id,
  count(*) AS calls,
  min(ct.eventtime) AS first_seen,
  max(ct.eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs AS ct
JOIN leaked_key_ips AS i ON ct.sourceipaddress = i.ip
WHERE ct.date_partition >= '2026/01/01'
GROUP BY ct.sourceipaddress, ct.useridentity.type, ct.useridentity.arn, ct.useridentity.accesskeyid
ORDER BY first_seen
