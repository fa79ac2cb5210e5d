-- S3 ransomware, step 3: which IAM users' keys wrote, copied and deleted in
-- the data bucket (S3 data events; the responders' role sessions left out),
-- one row per user, key, address, call and top folder. Copies into a new folder, then a DeleteObjects of the records and
-- a note at the top of the bucket is the ransomware: the folder holds the
-- encrypted copies, the delete markers hide the records, whose earlier
-- versions remain in a versioned bucket. CloudTrail does not list the keys
-- of a DeleteObjects: list the delete markers (Recover) for them.
-- Replace ir-workshop-data-111122223333-us-east-1 with the bucket of the
-- finding, and 2025/12/30 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  useridentity.arn AS principal_arn,
  useridentity.accesskeyid AS access_key_id,
  sourceipaddress,
  eventname,
  split_part(json_extract_scalar(requestparameters, '$.key'), '/', 1) AS top_folder,
  count(*) AS calls,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/30'
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN ('PutObject', 'CopyObject', 'DeleteObject', 'DeleteObjects', 'CompleteMultipartUpload', 'RestoreObject')
  AND json_extract_scalar(requestparameters, '$.bucketName') = 'ir-workshop-data-111122223333-us-east-1'
  AND useridentity.type = 'IAMUser'
GROUP BY 1, 2, 3, 4, 5
ORDER BY first_seen
