-- Credential exposure, step 1: everything the leaked access key did, one row
-- per API action: how often it was called and how often it failed, when it
-- was first and last seen, from which addresses, user agents and Regions.
-- Replace AKIAIOSFODNN7EXAMPLE with the access key ID from the finding, and
-- 2026/01/01 with the first day (UTC, yyyy/MM/dd) the key may have been used.
SELECT
  eventsource,
  eventname,
  count(*) AS calls,
  count_if(errorcode IS NOT NULL) AS failed_calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen,
  array_join(array_agg(DISTINCT sourceipaddress), ', ') AS source_ips,
  array_join(array_agg(DISTINCT useragent), ' | ') AS user_agents,
  array_join(array_agg(DISTINCT awsregion), ', ') AS regions
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
GROUP BY eventsource, eventname
ORDER BY first_seen
