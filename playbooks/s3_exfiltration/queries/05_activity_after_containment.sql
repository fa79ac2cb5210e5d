-- S3 exfiltration, step 5: calls signed by the suspected key after
-- containment. After the key is inactive, CloudTrail records none:
-- calls with an inactive key fail authentication before any service sees
-- them. Expect no rows; a row is a key still working: contain again.
-- Replace AKIAREPORTINGEXAMPLE and 2025/12/31 as in step 1, and
-- 2025-12-31T11:45:00Z with the time (UTC) containment was done.
SELECT eventtime, sourceipaddress, eventsource, eventname, errorcode
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/31'
  AND useridentity.accesskeyid = 'AKIAREPORTINGEXAMPLE'
  AND eventtime > '2025-12-31T11:45:00Z'
ORDER BY eventtime
