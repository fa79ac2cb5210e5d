-- want: does not bind: Binder Error: Referenced column "query_name" not found
-- query_name is a DNS log column, not a CloudTrail one.
SELECT query_name
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
