-- A typo in a column name.
SELECT eventnme
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
