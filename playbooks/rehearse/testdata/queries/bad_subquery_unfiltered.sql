-- want: table dns_query_logs is read without a date_partition predicate
-- The outer query filters on date_partition; the subquery reading DNS does not.
SELECT f.srcaddr, f.dstaddr
FROM ir_workshop.vpc_flow_logs AS f
WHERE f.date_partition >= '2026/03/01'
  AND f.instance_id IN (
    SELECT srcids.instance
    FROM ir_workshop.dns_query_logs
    WHERE query_name LIKE '%pool%'
  )
