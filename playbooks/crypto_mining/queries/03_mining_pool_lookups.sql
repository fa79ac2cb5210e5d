-- Crypto mining, step 3: DNS lookups of names that belong to cryptocurrency
-- mining pools, one row per instance, name and answer code, the busiest
-- first. The name list is a starting point: add the pools your threat
-- intelligence names.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  srcids.instance AS instance_id,
  query_name,
  query_type,
  rcode,
  count(*) AS lookups,
  min(query_timestamp) AS first_seen,
  max(query_timestamp) AS last_seen
FROM ir_workshop.dns_query_logs
WHERE date_partition >= '2026/01/01'
  AND regexp_like(
    lower(query_name),
    '(xmr|monero|nicehash|nanopool|minergate|hashvault|2miners|f2pool|antpool|ethermine|c3pool|herominers|unmineable|cryptonight|stratum|miningpool)'
  )
GROUP BY srcids.instance, query_name, query_type, rcode
ORDER BY lookups DESC
