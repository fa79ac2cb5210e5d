-- Crypto mining, step 2: everything the principal that launched the
-- instances did, one row per API action: the discovery before the launch
-- (images, subnets, security groups, key pairs, quotas) and anything after
-- it, in any Region.
-- Replace arn:aws:iam::111122223333:user/pipeline with the principal_arn from
-- step 1, and 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventsource,
  eventname,
  count(*) AS calls,
  count_if(errorcode IS NOT NULL) AS failed_calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen,
  array_join(array_agg(DISTINCT awsregion), ', ') AS regions,
  array_join(array_agg(DISTINCT useridentity.accesskeyid), ', ') AS access_keys,
  array_join(array_agg(DISTINCT sourceipaddress), ', ') AS source_ips
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND useridentity.arn = 'arn:aws:iam::111122223333:user/pipeline'
GROUP BY eventsource, eventname
ORDER BY first_seen
