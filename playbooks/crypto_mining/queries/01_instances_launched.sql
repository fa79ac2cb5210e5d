-- Crypto mining, step 1: every RunInstances call, oldest first: who made it,
-- from where, with which key, and what it launched. Mining campaigns launch
-- many instances at once, often large or GPU types, often in Regions the
-- account does not use.
-- Replace 2026/01/01 with the first day (UTC, yyyy/MM/dd) to search.
SELECT
  eventtime,
  awsregion,
  useridentity.type AS identity_type,
  useridentity.arn AS principal_arn,
  useridentity.accesskeyid AS access_key_id,
  sourceipaddress,
  json_extract_scalar(requestparameters, '$.instanceType') AS instance_type,
  json_extract_scalar(requestparameters, '$.instancesSet.items[0].imageId') AS image_id,
  json_extract_scalar(responseelements, '$.instancesSet.items[0].vpcId') AS vpc_id,
  json_extract_scalar(responseelements, '$.instancesSet.items[0].subnetId') AS subnet_id,
  array_join(array_distinct(regexp_extract_all(responseelements, '\bi-[0-9a-f]{8,17}\b')), ', ') AS instance_ids,
  errorcode,
  useragent
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'RunInstances'
ORDER BY eventtime
