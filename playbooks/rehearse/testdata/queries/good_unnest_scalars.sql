-- UNNEST of an array of scalars, and of two arrays at once, as in Trino.
SELECT c.eventname, t.word, z.n, z.letter
FROM ir_workshop.cloudtrail_logs AS c
CROSS JOIN UNNEST(split(c.eventname, 'e')) AS t (word)
CROSS JOIN UNNEST(ARRAY[1, 2], ARRAY['x', 'y', 'z']) AS z (n, letter)
WHERE c.date_partition = '2026/03/14'
