-- Sample step 2: what one mining pool name resolved to, Trino's UNNEST of
-- an array of rows giving one column per field.
SELECT d.query_name, a.rdata AS address, a.answer_type, count(*) AS answers
FROM ir_workshop.dns_query_logs AS d
CROSS JOIN UNNEST(d.answers) AS a (rdata, answer_type, answer_class)
WHERE d.date_partition >= '2026/01/01'
  AND d.query_name = 'xmr.nanopool.org.'
GROUP BY d.query_name, a.rdata, a.answer_type
ORDER BY address
