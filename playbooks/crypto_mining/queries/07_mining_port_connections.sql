-- Crypto mining, step 7: outbound connections anywhere in the VPC to ports
-- that mining pools commonly listen on (Stratum and its TLS variants), one
-- row per instance, address, port and verdict. A miner that got past DNS
-- shows up here.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  instance_id,
  dstaddr,
  dstport,
  action,
  sum(bytes) AS total_bytes,
  count(*) AS records,
  from_unixtime(min(start)) AS first_seen,
  from_unixtime(max("end")) AS last_seen
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/01/01'
  AND flow_direction = 'egress'
  AND dstport IN (3333, 4444, 5555, 6666, 7777, 8888, 9999, 10343, 14433, 14444, 20128, 45560, 45700)
GROUP BY instance_id, dstaddr, dstport, action
ORDER BY total_bytes DESC, instance_id, dstaddr, dstport, action
