-- Each arm of a UNION reads its own table and filters it.
SELECT 'flow' AS source, count(*) AS events
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/03/01' AND instance_id = 'i-1234567890abcdef0'
UNION ALL
SELECT 'dns' AS source, count(*) AS events
FROM ir_workshop.dns_query_logs
WHERE date_partition >= '2026/03/01' AND srcids.instance = 'i-1234567890abcdef0'
