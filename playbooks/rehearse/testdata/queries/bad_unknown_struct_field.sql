-- want: does not bind: Binder Error: Could not find key "accesskey" in struct
-- The field is useridentity.accesskeyid.
SELECT useridentity.accesskey
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/03/01'
