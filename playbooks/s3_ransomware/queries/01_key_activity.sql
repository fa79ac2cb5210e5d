-- S3 ransomware, step 1: everything the suspected key did, one row per
-- address, service, call and error, first call first. The owner's job
-- writes a record from its usual address at its usual hours; anything else
-- is the intruder's. CreateKey and ScheduleKeyDeletion (KMS), a burst of
-- CopyObject, then DeleteObjects and a PutObject is the ransomware pattern.
-- Replace AKIAINGESTKEYEXAMPLE with the key ID of the finding, and
-- 2025/12/30 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  sourceipaddress,
  eventsource,
  eventname,
  errorcode,
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/30'
  AND useridentity.accesskeyid = 'AKIAINGESTKEYEXAMPLE'
GROUP BY 1, 2, 3, 4
ORDER BY first_seen, eventname
