-- want: table vpc_flow_logs (as f) is read without a date_partition predicate
-- Two tables, one predicate: the flow logs are read in full.
SELECT d.query_name, f.dstaddr
FROM ir_workshop.dns_query_logs AS d
JOIN ir_workshop.vpc_flow_logs AS f ON f.instance_id = d.srcids.instance
WHERE d.date_partition >= '2026/03/01'
