-- want: does not bind: Binder Error: Cannot extract field 'foo' from expression "eventname" because it is not a struct
-- eventname is a string: it has no fields.
SELECT eventname.foo
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
