-- Sample step 1: the leaked key's calls on the incident's day, by action.
SELECT eventsource, eventname, count(*) AS calls, min(eventtime) AS first_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition = '2026/01/01'
  AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
GROUP BY eventsource, eventname
ORDER BY first_seen, eventname
