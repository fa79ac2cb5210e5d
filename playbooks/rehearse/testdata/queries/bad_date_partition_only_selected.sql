-- want: table cloudtrail_logs is read without a date_partition predicate
SELECT date_partition, eventname
FROM ir_workshop.cloudtrail_logs
WHERE eventname = 'CreateUser'
ORDER BY date_partition
