-- want: does not bind: Parser Error: syntax error at or near "FROM"
-- A parenthesis left open.
SELECT count(*
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
