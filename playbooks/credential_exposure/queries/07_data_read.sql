-- Credential exposure, step 7: what the leaked key and the keys created
-- with it read: secret values (Secrets Manager), parameters read with
-- decryption (Parameter Store), KMS decryptions (the ones Secrets Manager
-- and Parameter Store make for the caller name the secret or parameter),
-- and S3 objects (S3 data events). One row per key, address, action and
-- thing read. A read without errorcode from an address the owner does not
-- recognise is data the intruder has: rotate it in Recover.
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
  ct.useridentity.accesskeyid AS access_key_id,
  ct.sourceipaddress,
  ct.eventsource,
  ct.eventname,
  coalesce(
    json_extract_scalar(ct.requestparameters, '$.secretId'),
    json_extract_scalar(ct.requestparameters, '$.name'),
    json_extract_scalar(ct.requestparameters, '$.names[0]'),
    json_extract_scalar(ct.requestparameters, '$.path'),
    json_extract_scalar(ct.requestparameters, '$.encryptionContext.SecretARN'),
    json_extract_scalar(ct.requestparameters, '$.encryptionContext.PARAMETER_ARN'),
    json_extract_scalar(ct.requestparameters, '$.keyId'),
    json_extract_scalar(ct.requestparameters, '$.bucketName') || '/' || json_extract_scalar(ct.requestparameters, '$.key')
  ) AS what_was_read,
  ct.errorcode,
  count(*) AS reads,
  min(ct.eventtime) AS first_read,
  max(ct.eventtime) AS last_read
FROM ir_workshop.cloudtrail_logs AS ct
JOIN suspect_keys AS s ON ct.useridentity.accesskeyid = s.key_id
WHERE ct.date_partition >= '2026/01/01'
  AND (
    (ct.eventsource = 'secretsmanager.amazonaws.com' AND ct.eventname IN ('GetSecretValue', 'BatchGetSecretValue'))
    OR (
      ct.eventsource = 'ssm.amazonaws.com'
      AND ct.eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath', 'GetParameterHistory')
      AND json_extract_scalar(ct.requestparameters, '$.withDecryption') = 'true'
    )
    OR (ct.eventsource = 'kms.amazonaws.com' AND ct.eventname = 'Decrypt')
    OR (ct.eventsource = 's3.amazonaws.com' AND ct.eventname IN ('GetObject', 'SelectObjectContent'))
  )
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY first_read, eventsource
