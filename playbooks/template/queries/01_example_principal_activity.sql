-- Template, example query: what one principal did, one row per API action,
-- first use first. Copy it as the first query of a new playbook: keep the
-- leading comment (it becomes the Athena description), the date_partition
-- filter (it keeps the scan small) and example values a responder replaces.
-- Replace arn:aws:iam::111122223333:user/ExampleUser with the principal's
-- ARN, and 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventsource,
  eventname,
  count(*) AS calls,
  count_if(errorcode IS NOT NULL) AS failed_calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND useridentity.arn = 'arn:aws:iam::111122223333:user/ExampleUser'
GROUP BY eventsource, eventname
ORDER BY first_seen
