-- want: table cloudtrail_logs is read without a date_partition predicate
-- Names date_partition, but only in the select list and ORDER BY.
SELECT date_partition, eventname
FROM ir_workshop.cloudtrail_logs
WHERE eventname = 'CreateUser'
ORDER BY date_partition
