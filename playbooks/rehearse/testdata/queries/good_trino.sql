-- Trino forms the engine must take as Athena does: CTEs, UNNEST of an array
-- of rows (one column per field) WITH ORDINALITY, lambdas, AT TIME ZONE,
-- window functions, "end", BETWEEN.
WITH lookups AS (
  SELECT d.srcids.instance AS instance_id, d.query_name, a.rdata AS address
  FROM ir_workshop.dns_query_logs AS d
  CROSS JOIN UNNEST(d.answers) WITH ORDINALITY AS a (rdata, answer_type, answer_class, n)
  WHERE d.date_partition BETWEEN '2026/03/01' AND '2026/03/31'
    AND a.answer_type = 'A' AND n = 1
)
SELECT l.instance_id,
       l.query_name,
       f.dstport,
       from_unixtime(f.start) AS flow_start,
       from_unixtime(f."end") AS flow_end,
       CAST(f.bytes AS double) / 1024 AS kib,
       filter(ARRAY['x', 'y'], s -> s <> 'x') AS kept,
       date_trunc('hour', from_unixtime(f.start)) AT TIME ZONE 'UTC' AS hour_utc,
       count(*) OVER (PARTITION BY l.instance_id ORDER BY f.start) AS running
FROM lookups AS l
JOIN ir_workshop.vpc_flow_logs AS f
  ON f.instance_id = l.instance_id
 AND f.dstaddr = l.address
 AND f.date_partition >= '2026/03/01'
ORDER BY flow_start DESC
LIMIT 100
