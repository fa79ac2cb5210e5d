-- want: strftime() is not an Athena function
-- DuckDB has strftime; Athena's is date_format.
SELECT strftime(from_iso8601_timestamp(eventtime), '%Y-%m-%d') AS day
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
