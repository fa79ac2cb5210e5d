-- want: does not bind: Binder Error: Referenced column "access_key_id" not found
-- A typo in a column name.
SELECT eventname, access_key_id
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/03/01'
