-- Credential exposure, step 4: S3 buckets created or opened up, and objects
-- written or read, by the leaked key or the keys created with it (S3 data
-- events). This is where an intruder stages what it collected before taking
-- it out.
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1.
WITH suspect_keys AS (
  SELECT 'AKIAIOSFODNN7EXAMPLE' AS key_id
  UNION ALL
  SELECT json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS key_id
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
    AND eventname = 'CreateAccessKey'
    AND errorcode IS NULL
)
SELECT
  ct.eventtime,
  ct.useridentity.username AS user_name,
  ct.eventname,
  json_extract_scalar(ct.requestparameters, '$.bucketName') AS bucket,
  json_extract_scalar(ct.requestparameters, '$.key') AS object_key,
  ct.awsregion,
  ct.errorcode
FROM ir_workshop.cloudtrail_logs AS ct
JOIN suspect_keys AS s ON ct.useridentity.accesskeyid = s.key_id
WHERE ct.date_partition >= '2026/01/01'
  AND ct.eventsource = 's3.amazonaws.com'
  AND ct.eventname IN (
    'CreateBucket', 'PutBucketPolicy', 'PutBucketAcl', 'DeleteBucketPublicAccessBlock',
    'PutBucketPublicAccessBlock', 'PutBucketReplication', 'PutObject', 'CopyObject',
    'CompleteMultipartUpload', 'GetObject'
  )
ORDER BY ct.eventtime
