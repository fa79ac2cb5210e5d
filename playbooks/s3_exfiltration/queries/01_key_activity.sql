-- S3 exfiltration, step 1: everything the suspected key did, one row per
-- address, service, call and error, first call first. The owner's job
-- calls from its usual address at its usual hours; anything else is the
-- intruder's. Bucket discovery (ListBuckets, GetBucketPolicy,
-- GetBucketLogging, GetPublicAccessBlock) before a burst of GetObject is
-- the pattern of Discovery:S3/AnomalousBehavior.
-- Replace AKIAREPORTINGEXAMPLE with the key ID of the finding, and
-- 2025/12/31 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  sourceipaddress,
  eventsource,
  eventname,
  errorcode,
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/31'
  AND useridentity.accesskeyid = 'AKIAREPORTINGEXAMPLE'
GROUP BY 1, 2, 3, 4
ORDER BY first_seen, eventname
