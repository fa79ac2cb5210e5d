-- S3 exfiltration, step 2: who read the data bucket's objects, from where,
-- and how much (S3 data events): one row per principal, key and address.
-- The usual readers read a few objects on a schedule; a burst of many
-- distinct objects in minutes, from an address the owner does not know,
-- is data taken (Exfiltration:S3/AnomalousBehavior). bytes_out is what
-- S3 sent.
-- Replace ir-workshop-data-111122223333-us-east-1 with the bucket of the
-- finding, and 2025/12/31 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  useridentity.arn AS principal_arn,
  useridentity.accesskeyid AS access_key_id,
  sourceipaddress,
  count(*) AS reads,
  count(DISTINCT json_extract_scalar(requestparameters, '$.key')) AS objects,
  sum(CAST(json_extract_scalar(additionaleventdata, '$.bytesTransferredOut') AS bigint)) AS bytes_out,
  min(eventtime) AS first_read,
  max(eventtime) AS last_read
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/31'
  AND eventsource = 's3.amazonaws.com'
  AND eventname = 'GetObject'
  AND json_extract_scalar(requestparameters, '$.bucketName') = 'ir-workshop-data-111122223333-us-east-1'
GROUP BY 1, 2, 3
ORDER BY first_read
