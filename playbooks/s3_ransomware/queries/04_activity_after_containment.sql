-- S3 ransomware, step 4: calls signed by the suspected key after
-- containment. After the key is inactive, CloudTrail records none:
-- calls with an inactive key fail authentication before any service sees
-- them. Expect no rows; a row is a key still working: contain again.
-- Replace AKIAINGESTKEYEXAMPLE and 2025/12/30 as in step 1, and
-- 2025-12-30T09:30:00Z with the time (UTC) containment was done.
SELECT eventtime, sourceipaddress, eventsource, eventname, errorcode
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2025/12/30'
  AND useridentity.accesskeyid = 'AKIAINGESTKEYEXAMPLE'
  AND eventtime > '2025-12-30T09:30:00Z'
ORDER BY eventtime
