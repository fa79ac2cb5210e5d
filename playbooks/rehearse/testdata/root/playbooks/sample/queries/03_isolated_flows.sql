-- Sample step 3: the mining instance's flow records before and after
-- isolation at 12:00, by verdict.
SELECT
  from_unixtime(start) >= from_iso8601_timestamp('2026-01-01T12:00:00Z') AS after_isolation,
  action,
  count(*) AS records,
  sum(bytes) AS total_bytes
FROM vpc_flow_logs
WHERE date_partition BETWEEN '2026/01/01' AND '2026/01/02'
  AND instance_id = 'i-1234567890abcdef0'
GROUP BY 1, 2
ORDER BY 1, 2
