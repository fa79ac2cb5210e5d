-- DNS answers are structs: UNNEST gives one column per field (rdata, type,
-- class), so one alias is an error in Athena.
SELECT answer.rdata
FROM ir_workshop.dns_query_logs
CROSS JOIN UNNEST(answers) AS t (answer)
WHERE date_partition >= '2026/01/01'
