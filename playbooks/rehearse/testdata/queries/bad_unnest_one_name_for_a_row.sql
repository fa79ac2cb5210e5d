-- want: an UNNEST's column list does not name each of its columns
-- DuckDB would take "answer" for the first of the three fields; Athena
-- refuses a column list of 1 name for 3 columns.
SELECT t.answer
FROM ir_workshop.dns_query_logs
CROSS JOIN UNNEST(answers) AS t (answer)
WHERE date_partition >= '2026/03/01'
