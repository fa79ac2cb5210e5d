-- Hunting, VPC Flow Logs: rejected traffic, one row per direction, instance
-- and destination port, the most remote addresses first: who knocks on
-- which port of which instance (ingress), and which instances try to reach
-- what they may not (egress: after an isolation, every attempt). Many
-- addresses on one port is the internet scanning; rejected egress from an
-- instance is worth a look at that instance.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  flow_direction,
  instance_id,
  dstport AS port,
  protocol,
  count(DISTINCT CASE WHEN flow_direction = 'ingress' THEN srcaddr ELSE dstaddr END) AS remote_addresses,
  min(CASE WHEN flow_direction = 'ingress' THEN srcaddr ELSE dstaddr END) AS example_remote,
  count(*) AS records,
  date_format(from_unixtime(min(start)), '%Y-%m-%dT%H:%i:%sZ') AS first_seen,
  date_format(from_unixtime(max("end")), '%Y-%m-%dT%H:%i:%sZ') AS last_seen
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/01/01'
  AND action = 'REJECT'
GROUP BY 1, 2, 3, 4
ORDER BY remote_addresses DESC, records DESC, flow_direction, instance_id, port, protocol
