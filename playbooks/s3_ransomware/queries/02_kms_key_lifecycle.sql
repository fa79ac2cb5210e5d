-- S3 ransomware, step 2: the life of every KMS key created, scheduled for
-- deletion, cancelled, disabled or re-enabled, by anyone: who, when, and
-- the deletion date KMS set. A key created by a workload that never
-- creates keys, then scheduled for deletion, is the intruder's clock: once
-- KMS deletes the key, whatever is encrypted under it is lost. Cancel the
-- deletion before deletion_date.
-- Replace 2025/12/30 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventtime,
  useridentity.arn AS principal_arn,
  sourceipaddress,
  eventname,
  coalesce(
    json_extract_scalar(responseelements, '$.keyMetadata.keyId'),
    json_extract_scalar(requestparameters, '$.keyId')
  ) AS key_id,
  json_extract_scalar(responseelements, '$.deletionDate') AS deletion_date,
  errorcode
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/30'
  AND eventsource = 'kms.amazonaws.com'
  AND eventname IN (
    'CreateKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'DisableKey', 'EnableKey', 'PutKeyPolicy', 'DeleteImportedKeyMaterial'
  )
ORDER BY eventtime
