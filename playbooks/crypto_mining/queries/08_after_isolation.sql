-- Crypto mining, step 8, after isolation: what an isolated instance still
-- does. Flow log records since isolation, by verdict (expect REJECT only, or
-- nothing), and DNS lookups since isolation, by answer code: security groups
-- and network ACLs do not filter the Amazon DNS server, so lookups go on
-- until the instance stops or DNS Firewall blocks them.
-- Replace i-1234567890abcdef0 with the isolated instance, 2026/01/01 with the
-- day of isolation (UTC, yyyy/MM/dd), and 2026-01-01T12:00:00Z with the time
-- (UTC) of isolation.
SELECT
  'vpc_flow_logs' AS source,
  action AS outcome,
  count(*) AS records,
  date_format(from_unixtime(max("end")), '%Y-%m-%dT%H:%i:%sZ') AS last_seen
FROM ir_workshop.vpc_flow_logs
WHERE date_partition >= '2026/01/01'
  AND instance_id = 'i-1234567890abcdef0'
  AND start >= to_unixtime(from_iso8601_timestamp('2026-01-01T12:00:00Z'))
GROUP BY action
UNION ALL
SELECT
  'dns_query_logs' AS source,
  rcode AS outcome,
  count(*) AS records,
  max(query_timestamp) AS last_seen
FROM ir_workshop.dns_query_logs
WHERE date_partition >= '2026/01/01'
  AND srcids.instance = 'i-1234567890abcdef0'
  AND query_timestamp >= '2026-01-01T12:00:00Z'
GROUP BY rcode
