-- want: does not bind: Binder Error: Cannot extract field 'rdata' from expression "answer"
-- DNS answers are rows: UNNEST gives one column per field (rdata, type,
-- class), so "answer" names the first field, a string.
SELECT d.query_name, answer.rdata
FROM ir_workshop.dns_query_logs AS d
CROSS JOIN UNNEST(d.answers) AS t (answer)
WHERE d.date_partition >= '2026/03/01'
