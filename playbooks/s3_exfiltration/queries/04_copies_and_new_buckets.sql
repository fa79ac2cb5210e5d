-- S3 exfiltration, step 4: where the key put data: buckets it created, and
-- objects it wrote or copied (S3 data events), one row per call and
-- bucket. A bucket created by a workload that never creates buckets, then
-- filled with CopyObject, is a staging area: lock it in Contain, and check
-- who else may read it (its policy, its account).
-- Replace AKIAREPORTINGEXAMPLE and 2025/12/31 as in step 1.
SELECT
  eventname,
  json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
  errorcode,
  count(*) AS calls,
  count(DISTINCT json_extract_scalar(requestparameters, '$.key')) AS objects,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/31'
  AND useridentity.accesskeyid = 'AKIAREPORTINGEXAMPLE'
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN ('CreateBucket', 'PutObject', 'CopyObject', 'UploadPartCopy', 'CompleteMultipartUpload', 'PutBucketTagging')
GROUP BY 1, 2, 3
ORDER BY first_seen
