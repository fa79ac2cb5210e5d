-- want: does not bind: Catalog Error: Table with name "default.cloudtrail_logs" does not exist because schema "default" does not exist
-- The database is ir_workshop.
SELECT eventname
FROM "default".cloudtrail_logs
WHERE date_partition >= '2026/01/01'
