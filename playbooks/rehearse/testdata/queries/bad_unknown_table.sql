-- want: does not bind: Catalog Error: Table with name guardduty_findings does not exist
-- No such table in the workshop database.
SELECT *
FROM ir_workshop.guardduty_findings
WHERE date_partition >= '2026/03/01'
