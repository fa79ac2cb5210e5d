-- want: table cloudtrail_logs is read without a date_partition predicate
-- Reads CloudTrail without limiting the days: Athena would scan everything.
SELECT eventname, count(*) AS calls
FROM ir_workshop.cloudtrail_logs
WHERE useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
GROUP BY eventname
