-- Credential exposure, step 2: the IAM changes made with the leaked key,
-- oldest first: the users, access keys, passwords, policies and roles an
-- intruder creates to stay in. target_user, policy and created_key_id name
-- what to contain and eradicate.
-- Replace AKIAIOSFODNN7EXAMPLE and 2026/01/01 as in step 1.
SELECT
  eventtime,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.userName') AS target_user,
  json_extract_scalar(requestparameters, '$.roleName') AS target_role,
  json_extract_scalar(requestparameters, '$.groupName') AS target_group,
  coalesce(
    json_extract_scalar(requestparameters, '$.policyArn'),
    json_extract_scalar(requestparameters, '$.policyName')
  ) AS policy,
  json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS created_key_id,
  sourceipaddress,
  useragent
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND useridentity.accesskeyid = 'AKIAIOSFODNN7EXAMPLE'
  AND eventsource = 'iam.amazonaws.com'
  AND readonly = 'false'
ORDER BY eventtime
