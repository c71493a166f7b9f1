-- The conversation's language becomes a dimension of the rollups, beside
-- the variant: `locale` is '*' at the coarse grains (its default) and, at the
-- finest, '-' (none) or '=' and the tag in lower case.

ALTER TABLE thumb_rollup ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';
ALTER TABLE thumb_rollup DROP CONSTRAINT thumb_rollup_pkey;
ALTER TABLE thumb_rollup ADD PRIMARY KEY (account_id, bot_id, variant, topic, has_reason, locale, span, bucket);
ALTER TABLE thumb_rollup_pending ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';

ALTER TABLE vote_rollup ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';
ALTER TABLE vote_rollup DROP CONSTRAINT vote_rollup_pkey;
ALTER TABLE vote_rollup ADD PRIMARY KEY (account_id, bot_id, variant, locale, span, bucket);
ALTER TABLE vote_rollup_pending ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';

ALTER TABLE csat_rollup ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';
ALTER TABLE csat_rollup DROP CONSTRAINT csat_rollup_pkey;
ALTER TABLE csat_rollup ADD PRIMARY KEY (account_id, bot_id, variant, question_code, locale, span, bucket);
ALTER TABLE csat_rollup_pending ADD COLUMN locale TEXT COLLATE "C" NOT NULL DEFAULT '*';

-- Recount. The finest rows are counted again from the signals, now per
-- language. What the signals no longer hold (a retention purge keeps the
-- rollups of what it deletes) stays counted under no language, so that every
-- other filter reads the same figures as before.

CREATE TEMPORARY TABLE thumb_before AS
SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, SUM(up) AS up, SUM(down) AS down
FROM (SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, up, down FROM thumb_rollup WHERE variant <> '*'
      UNION ALL SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, up, down FROM thumb_rollup_pending WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, topic, has_reason, span, bucket;
DELETE FROM thumb_rollup WHERE variant <> '*';
DELETE FROM thumb_rollup_pending WHERE variant <> '*';

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, locale, span, bucket, up, down)
SELECT f.account_id, f.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END,
       CASE WHEN m.topic IS NULL THEN '-' ELSE '=' || m.topic END, CASE WHEN f.reason IS NULL THEN 0 ELSE 1 END,
       CASE WHEN v.locale IS NULL THEN '-' ELSE '=' || LOWER(v.locale) END, 900000, (f.submitted_at / 900000) * 900000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
JOIN conversations v ON v.account_id = f.account_id AND v.id = f.conversation_id
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, locale, span, bucket, up, down)
SELECT account_id, bot_id, variant, topic, has_reason, '-', span, bucket, SUM(up), SUM(down)
FROM (SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, up, down FROM thumb_before
      UNION ALL SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, -up, -down FROM thumb_rollup WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, topic, has_reason, span, bucket
HAVING SUM(up) <> 0 OR SUM(down) <> 0
ON CONFLICT (account_id, bot_id, variant, topic, has_reason, locale, span, bucket) DO UPDATE SET up = thumb_rollup.up + excluded.up, down = thumb_rollup.down + excluded.down;
DROP TABLE thumb_before;

CREATE TEMPORARY TABLE vote_before AS
SELECT account_id, bot_id, variant, span, bucket, SUM(up) AS up, SUM(down) AS down, SUM(value_sum) AS value_sum
FROM (SELECT account_id, bot_id, variant, span, bucket, up, down, value_sum FROM vote_rollup WHERE variant <> '*'
      UNION ALL SELECT account_id, bot_id, variant, span, bucket, up, down, value_sum FROM vote_rollup_pending WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, span, bucket;
DELETE FROM vote_rollup WHERE variant <> '*';
DELETE FROM vote_rollup_pending WHERE variant <> '*';

INSERT INTO vote_rollup (account_id, bot_id, variant, locale, span, bucket, up, down, value_sum)
SELECT s.account_id, s.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END, CASE WHEN v.locale IS NULL THEN '-' ELSE '=' || LOWER(v.locale) END, 900000, (s.created_at / 900000) * 900000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO vote_rollup (account_id, bot_id, variant, locale, span, bucket, up, down, value_sum)
SELECT account_id, bot_id, variant, '-', span, bucket, SUM(up), SUM(down), SUM(value_sum)
FROM (SELECT account_id, bot_id, variant, span, bucket, up, down, value_sum FROM vote_before
      UNION ALL SELECT account_id, bot_id, variant, span, bucket, -up, -down, -value_sum FROM vote_rollup WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, span, bucket
HAVING SUM(up) <> 0 OR SUM(down) <> 0 OR SUM(value_sum) <> 0
ON CONFLICT (account_id, bot_id, variant, locale, span, bucket) DO UPDATE SET up = vote_rollup.up + excluded.up, down = vote_rollup.down + excluded.down, value_sum = vote_rollup.value_sum + excluded.value_sum;
DROP TABLE vote_before;

CREATE TEMPORARY TABLE csat_before AS
SELECT account_id, bot_id, variant, question_code, span, bucket, SUM(total) AS total, SUM(count) AS count
FROM (SELECT account_id, bot_id, variant, question_code, span, bucket, total, count FROM csat_rollup WHERE variant <> '*'
      UNION ALL SELECT account_id, bot_id, variant, question_code, span, bucket, total, count FROM csat_rollup_pending WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, question_code, span, bucket;
DELETE FROM csat_rollup WHERE variant <> '*';
DELETE FROM csat_rollup_pending WHERE variant <> '*';

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, locale, span, bucket, total, count)
SELECT s.account_id, s.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END, s.question_code, CASE WHEN v.locale IS NULL THEN '-' ELSE '=' || LOWER(v.locale) END, 900000,
       (s.answered_at / 900000) * 900000, SUM(s.score), COUNT(*)
FROM csat_answers s
JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, locale, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', r.locale, 900000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, s.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END AS variant, CASE WHEN v.locale IS NULL THEN '-' ELSE '=' || LOWER(v.locale) END AS locale,
             (MAX(s.answered_at) / 900000) * 900000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
      FROM csat_answers s
      JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
      GROUP BY s.account_id, s.conversation_id, s.bot_id, v.variant, v.locale) r
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, locale, span, bucket, total, count)
SELECT account_id, bot_id, variant, question_code, '-', span, bucket, SUM(total), SUM(count)
FROM (SELECT account_id, bot_id, variant, question_code, span, bucket, total, count FROM csat_before
      UNION ALL SELECT account_id, bot_id, variant, question_code, span, bucket, -total, -count FROM csat_rollup WHERE variant <> '*') r
GROUP BY account_id, bot_id, variant, question_code, span, bucket
HAVING SUM(total) <> 0 OR SUM(count) <> 0
ON CONFLICT (account_id, bot_id, variant, question_code, locale, span, bucket) DO UPDATE SET total = csat_rollup.total + excluded.total, count = csat_rollup.count + excluded.count;
DROP TABLE csat_before;
