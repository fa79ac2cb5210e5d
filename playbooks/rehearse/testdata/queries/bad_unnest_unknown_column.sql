-- want: does not bind: Binder Error: Values list "t" does not have a column named "ip"
-- The UNNEST names its columns rdata, answer_type and answer_class; there is
-- no ip.
SELECT t.ip
FROM ir_workshop.dns_query_logs
CROSS JOIN UNNEST(answers) AS t (rdata, answer_type, answer_class)
WHERE date_partition >= '2026/01/01'
