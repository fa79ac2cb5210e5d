-- want: output column n is named without AS
-- An output alias without AS reads as a column, and n is none.
SELECT count(*) n
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
