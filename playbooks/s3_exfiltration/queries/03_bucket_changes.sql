-- S3 exfiltration, step 3: changes to any bucket's access and logging,
-- refused ones included: policies, ACLs, Block Public Access, logging,
-- replication, ownership. A refused PutBucketPolicy or PutBucketAcl is an
-- attempt to open a bucket that Block Public Access stopped; a
-- PutBucketLogging without a target turns server access logging off
-- (Stealth:S3/ServerAccessLoggingDisabled).
-- Replace 2025/12/31 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventtime,
  useridentity.arn AS principal_arn,
  sourceipaddress,
  eventname,
  json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
  errorcode
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/31'
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN (
    'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutObjectAcl', 'PutBucketPublicAccessBlock',
    'DeleteBucketPublicAccessBlock', 'PutBucketLogging', 'PutBucketReplication', 'PutBucketOwnershipControls'
  )
ORDER BY eventtime
