-- Hunting, VPC Flow Logs: the instances' top talkers outside the VPC,
-- accepted traffic only: one row per instance, remote address and service
-- port (the lower of the two ports), with the bytes sent and received, the
-- most bytes first. A large upload to an address no workload needs is how
-- data leaves; steady traffic from a new instance to one address and port
-- is how a miner or a beacon looks.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  instance_id,
  CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END AS remote_address,
  least(srcport, dstport) AS service_port,
  protocol,
  sum(CASE WHEN flow_direction = 'egress' THEN bytes ELSE 0 END) AS bytes_sent,
  sum(CASE WHEN flow_direction = 'ingress' THEN bytes ELSE 0 END) AS bytes_received,
  count(*) AS records,
  date_format(from_unixtime(min(start)), '%Y-%m-%dT%H:%i:%sZ') AS first_seen,
  date_format(from_unixtime(max("end")), '%Y-%m-%dT%H:%i:%sZ') AS last_seen
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/01/01'
  AND action = 'ACCEPT'
  AND NOT regexp_like(
    CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END,
    '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.)'
  )
GROUP BY 1, 2, 3, 4
ORDER BY bytes_sent + bytes_received DESC, instance_id, remote_address, service_port, protocol
LIMIT 10
