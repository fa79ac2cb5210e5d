-- The database is ir_workshop.
SELECT eventname
FROM "default".cloudtrail_logs
WHERE date_partition >= '2026/01/01'
