-- want: does not bind
SELECT useridentity.accesskey
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/03/01'
