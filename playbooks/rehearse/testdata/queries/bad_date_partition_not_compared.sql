-- want: table cloudtrail_logs is read without a date_partition predicate
-- date_partition in the WHERE clause, but not compared with anything.
SELECT eventname
FROM ir_workshop.cloudtrail_logs
WHERE date_partition IS NOT NULL
