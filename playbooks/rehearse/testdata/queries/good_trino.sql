-- Trino forms the engine must take as Athena does: CTEs, UNNEST of an array
-- of rows (one column per field) WITH ORDINALITY, lambdas, AT TIME ZONE,
-- window functions, "end", BETWEEN, CASE, EXTRACT, INTERVAL, IS DISTINCT
-- FROM, and names in 'strings' and comments that are no columns.
WITH lookups AS (
  SELECT d.srcids.instance AS instance_id, d.query_name, a.rdata AS address,
         cardinality(d.answers) AS answer_count
  FROM ir_workshop.dns_query_logs AS d
  CROSS JOIN UNNEST(d.answers) WITH ORDINALITY AS a (rdata, answer_type, answer_class, n)
  WHERE d.date_partition BETWEEN '2026/03/01' AND '2026/03/31'
    AND a.answer_type = 'A' AND n = 1
    AND regexp_like(d.query_name, 'nosuchcolumn|pool') -- nosuchcolumn is text
    /* another_fake_column in a block comment */
)
SELECT l.instance_id,
       l.query_name,
       l.answer_count,
       f.dstport,
       from_unixtime(f.start) AS flow_start,
       from_unixtime(f."end") AS flow_end,
       CAST(f.bytes AS double) / 1024 AS kib,
       filter(ARRAY['x', 'y'], s -> s <> 'x') AS kept,
       CASE WHEN f.action = 'REJECT' THEN 'blocked' ELSE 'allowed' END AS verdict,
       date_trunc('hour', from_unixtime(f.start)) AT TIME ZONE 'UTC' AS hour_utc,
       count(*) OVER (PARTITION BY l.instance_id ORDER BY f.start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
FROM lookups AS l
JOIN ir_workshop.vpc_flow_logs AS f
  ON f.instance_id = l.instance_id
 AND f.dstaddr = l.address
 AND f.date_partition >= '2026/03/01'
WHERE f.start > to_unixtime(current_timestamp - INTERVAL '1' DAY)
  AND extract(hour FROM from_unixtime(f.start)) BETWEEN 0 AND 23
  AND f.srcaddr IS DISTINCT FROM f.dstaddr
ORDER BY flow_start DESC
LIMIT 100
