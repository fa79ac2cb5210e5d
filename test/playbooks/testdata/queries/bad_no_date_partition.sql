-- Reads CloudTrail without limiting the days: Athena would scan everything.
SELECT eventtime, eventname
FROM ir_workshop.cloudtrail_logs
WHERE useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
