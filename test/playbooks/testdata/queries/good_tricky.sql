-- Everything the checker must not mistake for a column: 'strings', comments,
-- CAST types, keywords, lambdas, aliases, UNNEST columns, "quoted" names.
WITH pools AS (
  SELECT srcids.instance AS instance_id,
         query_name,
         cardinality(answers) AS answer_count
  FROM ir_workshop.dns_query_logs
  WHERE date_partition BETWEEN '2026/01/01' AND '2026/01/31'
    AND regexp_like(query_name, 'nosuchcolumn|pool') -- nosuchcolumn is text
    /* another_fake_column in a block comment */
),
resolved AS (
  SELECT d.srcids.instance AS instance_id, a.rdata AS address, answer_class
  FROM ir_workshop.dns_query_logs AS d
  CROSS JOIN UNNEST(d.answers) WITH ORDINALITY AS a (rdata, answer_type, answer_class, n)
  WHERE d.date_partition >= '2026/01/01' AND answer_type = 'A' AND a.n = 1
)
SELECT p.instance_id,
       f.dstaddr,
       f.dstport,
       from_unixtime(f.start) AS flow_start,
       from_unixtime(f."end") AS flow_end,
       CAST(f.bytes AS double) / 1024 AS kib,
       CAST(json_parse('[1,2]') AS array(bigint)) AS numbers,
       filter(ARRAY['x', 'y'], s -> s <> 'x') AS kept,
       CASE WHEN f.action = 'REJECT' THEN 'blocked' ELSE 'allowed' END AS verdict,
       date_trunc('hour', from_unixtime(f.start)) AT TIME ZONE 'UTC' AS hour_utc,
       count(*) OVER (PARTITION BY p.instance_id ORDER BY f.start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
       p.answer_count
FROM pools AS p
JOIN resolved AS r ON r.instance_id = p.instance_id
JOIN ir_workshop.vpc_flow_logs AS f
  ON f.instance_id = p.instance_id
 AND f.dstaddr = r.address
 AND f.date_partition >= '2026/01/01'
WHERE f.start > to_unixtime(current_timestamp - INTERVAL '1' DAY)
  AND extract(hour FROM from_unixtime(f.start)) BETWEEN 0 AND 23
  AND f.srcaddr IS DISTINCT FROM f.dstaddr
ORDER BY flow_start DESC
LIMIT 100
