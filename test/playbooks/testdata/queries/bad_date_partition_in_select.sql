-- Names date_partition, but only in the select list.
SELECT date_partition, eventname
FROM ir_workshop.cloudtrail_logs
WHERE eventname = 'CreateUser'
ORDER BY date_partition
