-- Hunting, DNS: the domains the instances looked up, by base domain (the
-- last two labels), the rarest first: by how many instances, then how many
-- lookups. A domain that one instance alone looks up, many distinct names
-- under one domain, or mostly NXDOMAIN answers is where mining pools,
-- command and control and DNS tunnels show up; the common domains of AWS
-- and package repositories sink to the bottom.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  regexp_extract(query_name, '([^.]+\.[^.]+)\.?$', 1) AS base_domain,
  count(DISTINCT srcids.instance) AS instances,
  count(*) AS lookups,
  count(DISTINCT query_name) AS distinct_names,
  count_if(rcode = 'NXDOMAIN') AS nxdomain_answers,
  min(query_timestamp) AS first_seen,
  min(query_name) AS example_name
FROM ir_workshop.dns_query_logs
WHERE date_partition >= '2026/01/01'
GROUP BY 1
ORDER BY instances, lookups, base_domain
LIMIT 20
