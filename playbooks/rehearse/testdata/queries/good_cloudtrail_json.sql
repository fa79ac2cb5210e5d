-- JSON strings, structs and arrays of the CloudTrail table.
SELECT eventname,
       json_extract_scalar(requestparameters, '$.userName') AS user_name,
       useridentity.sessioncontext.sessionissuer.username AS issuer,
       element_at(resources, 1).arn AS first_resource
FROM cloudtrail_logs AS ct
WHERE ct.date_partition = '2026/03/14'
  AND from_iso8601_timestamp(eventtime) > TIMESTAMP '2026-03-14 00:00:00'
