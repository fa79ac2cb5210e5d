-- want: does not bind: Binder Error: Table "f" does not have a column named "dst_port"
-- The flow log column is dstport.
SELECT f.dst_port
FROM ir_workshop.vpc_flow_logs AS f
WHERE f.date_partition >= '2026/01/01'
