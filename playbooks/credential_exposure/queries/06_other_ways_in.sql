-- Credential exposure, step 6: other ways back in. Calls by the leaked key,
-- the keys created with it, its user or the users created with it that give
-- credentials other than access keys: console passwords and sign-ins, MFA
-- devices, SSH keys, service-specific credentials, signing certificates,
-- temporary credentials, roles created, changed or assumed. An empty result
-- is the answer you hope for.
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1, and integration
-- with the name of the user that owns the leaked key.
WITH suspect_keys AS (
  SELECT 'AKIAIOSFODNN7EXAMPLE' AS key_id
  UNION ALL
  SELECT json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS key_id
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
    AND eventname = 'CreateAccessKey'
    AND errorcode IS NULL
),
suspect_users AS (
  SELECT 'integration' AS user_name
  UNION ALL
  SELECT json_extract_scalar(requestparameters, '$.userName') AS user_name
  FROM ir_workshop.cloudtrail_logs
  WHERE date_partition >= '2026/01/01'
    AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
    AND eventname = 'CreateUser'
    AND errorcode IS NULL
)
SELECT
  ct.eventtime,
  ct.useridentity.username AS caller,
  ct.useridentity.accesskeyid AS access_key_id,
  ct.eventname,
  ct.errorcode,
  coalesce(
    json_extract_scalar(ct.requestparameters, '$.userName'),
    json_extract_scalar(ct.requestparameters, '$.roleName'),
    json_extract_scalar(ct.requestparameters, '$.roleArn')
  ) AS target,
  json_extract_scalar(ct.responseelements, '$.credentials.accessKeyId') AS temporary_key_id,
  ct.sourceipaddress
FROM ir_workshop.cloudtrail_logs AS ct
WHERE ct.date_partition >= '2026/01/01'
  AND (
    ct.useridentity.accesskeyid IN (SELECT key_id FROM suspect_keys)
    OR ct.useridentity.username IN (SELECT user_name FROM suspect_users)
  )
  AND ct.eventname IN (
    'ConsoleLogin', 'CreateLoginProfile', 'UpdateLoginProfile', 'CreateVirtualMFADevice',
    'EnableMFADevice', 'UploadSSHPublicKey', 'CreateServiceSpecificCredential',
    'UploadSigningCertificate', 'GetSessionToken', 'GetFederationToken', 'AssumeRole',
    'CreateRole', 'UpdateAssumeRolePolicy', 'AttachRolePolicy', 'PutRolePolicy',
    'AddUserToGroup', 'CreateOpenIDConnectProvider', 'CreateSAMLProvider'
  )
ORDER BY ct.eventtime
