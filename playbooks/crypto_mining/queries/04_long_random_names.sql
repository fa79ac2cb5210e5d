-- Crypto mining, step 4: lookups of long, random-looking names, one row per
-- instance and base domain (its last two labels): many distinct names with a
-- long first label under one domain is the pattern of DNS tunnelling and
-- exfiltration (GuardDuty's Trojan:EC2/DNSDataExfiltration). Long bucket or
-- service names under amazonaws.com are usually benign.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  srcids.instance AS instance_id,
  regexp_extract(query_name, '([^.]+\.[^.]+)\.?$', 1) AS base_domain,
  count(*) AS lookups,
  count(DISTINCT query_name) AS distinct_names,
  max(length(split_part(query_name, '.', 1))) AS longest_label,
  min(query_timestamp) AS first_seen,
  max(query_timestamp) AS last_seen,
  arbitrary(query_name) AS example_name
FROM ir_workshop.dns_query_logs
WHERE date_partition >= '2026/01/01'
  AND length(split_part(query_name, '.', 1)) >= 30
GROUP BY srcids.instance, regexp_extract(query_name, '([^.]+\.[^.]+)\.?$', 1)
ORDER BY distinct_names DESC
