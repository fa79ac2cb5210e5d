-- The field is useridentity.accesskeyid.
SELECT useridentity.accesskey
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
