-- Crypto mining, step 6: the network conversations of one instance, from
-- the VPC Flow Logs: per direction, remote address and port, protocol and
-- verdict, the bytes, packets and time span, the largest first. Flow logs do
-- not record the instance's queries to the Amazon DNS server: those are in
-- dns_query_logs.
-- Replace i-1234567890abcdef0 with an instance ID from step 1 or 3, and
-- 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  flow_direction,
  CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END AS remote_address,
  CASE WHEN flow_direction = 'egress' THEN dstport ELSE srcport END AS remote_port,
  protocol,
  action,
  sum(bytes) AS total_bytes,
  sum(packets) AS total_packets,
  count(*) AS records,
  from_unixtime(min(start)) AS first_seen,
  from_unixtime(max("end")) AS last_seen
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/01/01'
  AND instance_id = 'i-1234567890abcdef0'
GROUP BY
  flow_direction,
  CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END,
  CASE WHEN flow_direction = 'egress' THEN dstport ELSE srcport END,
  protocol,
  action
ORDER BY total_bytes DESC, flow_direction, remote_address, remote_port, action
