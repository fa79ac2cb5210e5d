-- want: does not bind: Catalog Error: Scalar Function with name json_extract_scaler does not exist
-- A typo in a function name.
SELECT json_extract_scaler(requestparameters, '$.userName') AS user_name
FROM ir_workshop.cloudtrail_logs
WHERE date_partition >= '2026/01/01'
