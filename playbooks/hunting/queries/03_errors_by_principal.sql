-- Hunting, CloudTrail: failed and refused calls, one row per principal,
-- error and action, the most frequent first. Many AccessDenied or
-- UnauthorizedOperation errors from one principal is someone finding out
-- what a credential can do; failures just before a success are worth a
-- look. A failed console sign-in has an error message and no error code.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  coalesce(useridentity.arn, useridentity.username) AS principal,
  coalesce(errorcode, errormessage) AS error,
  eventsource,
  eventname,
  count(*) AS calls,
  array_join(array_agg(DISTINCT sourceipaddress), ', ') AS source_ips,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND (errorcode IS NOT NULL OR errormessage IS NOT NULL)
GROUP BY 1, 2, 3, 4
ORDER BY calls DESC, first_seen
