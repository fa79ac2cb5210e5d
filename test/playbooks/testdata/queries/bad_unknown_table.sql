-- The table is cloudtrail_logs.
SELECT eventname
FROM ir_workshop.cloudtrail
WHERE date_partition >= '2026/01/01'
