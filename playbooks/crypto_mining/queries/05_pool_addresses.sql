-- Crypto mining, step 5: the addresses the mining-pool names of step 3
-- resolved to, with the instances that asked: the addresses to look for in
-- the flow logs, and to block.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  d.query_name,
  a.rdata AS address,
  count(*) AS answers_seen,
  array_join(array_agg(DISTINCT d.srcids.instance), ', ') AS instance_ids
FROM ir_workshop.dns_query_logs AS d
CROSS JOIN UNNEST(d.answers) AS a (rdata, answer_type, answer_class)
WHERE d.date_partition >= '2026/01/01'
  AND a.answer_type = 'A'
  AND regexp_like(
    lower(d.query_name),
    '(xmr|monero|nicehash|nanopool|minergate|hashvault|2miners|f2pool|antpool|ethermine|c3pool|herominers|unmineable|cryptonight|stratum|miningpool)'
  )
GROUP BY d.query_name, a.rdata
ORDER BY d.query_name, address
