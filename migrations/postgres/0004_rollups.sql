-- Rollups: signals counted ahead of time per 15-minute bucket, at three
-- grains (every bot '*', one bot, and one bot with the filterable
-- dimensions). Dimension values are stored as '-' (none) or '=value'. The
-- two coarse grains are also counted per hour and per day of UTC (`span`),
-- so that a year's overview reads 365 rows a series.
-- Kept in step by every write; the statements below count what is already
-- there.
CREATE TABLE thumb_rollup (
    account_id  TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    variant     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    has_reason  BIGINT NOT NULL,
    span        BIGINT NOT NULL,
    bucket      BIGINT NOT NULL,
    up          BIGINT NOT NULL,
    down        BIGINT NOT NULL,
    PRIMARY KEY (account_id, bot_id, variant, topic, has_reason, span, bucket)
);

CREATE TABLE vote_rollup (
    account_id  TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    variant     TEXT NOT NULL,
    span        BIGINT NOT NULL,
    bucket      BIGINT NOT NULL,
    up          BIGINT NOT NULL,
    down        BIGINT NOT NULL,
    value_sum   BIGINT NOT NULL,
    PRIMARY KEY (account_id, bot_id, variant, span, bucket)
);

-- question_code '' holds conversation ratings (total in millionths, counted
-- at each conversation's latest answer); a code holds its answers' points.
CREATE TABLE csat_rollup (
    account_id     TEXT NOT NULL,
    bot_id         TEXT NOT NULL,
    variant        TEXT NOT NULL,
    question_code  TEXT NOT NULL,
    span           BIGINT NOT NULL,
    bucket         BIGINT NOT NULL,
    total          BIGINT NOT NULL,
    count          BIGINT NOT NULL,
    PRIMARY KEY (account_id, bot_id, variant, question_code, span, bucket)
);

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, '*', '*', '*', -1, 900000, (f.submitted_at / 900000) * 900000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, '*', '*', '*', -1, 3600000, (f.submitted_at / 3600000) * 3600000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, '*', '*', '*', -1, 86400000, (f.submitted_at / 86400000) * 86400000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, f.bot_id, '*', '*', -1, 900000, (f.submitted_at / 900000) * 900000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, f.bot_id, '*', '*', -1, 3600000, (f.submitted_at / 3600000) * 3600000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, f.bot_id, '*', '*', -1, 86400000, (f.submitted_at / 86400000) * 86400000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT f.account_id, f.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END, CASE WHEN m.topic IS NULL THEN '-' ELSE '=' || m.topic END, CASE WHEN f.reason IS NULL THEN 0 ELSE 1 END, 900000, (f.submitted_at / 900000) * 900000,
       SUM(CASE WHEN f.feedback_type = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.feedback_type = 'negative' THEN 1 ELSE 0 END)
FROM message_feedback f
JOIN messages m ON m.account_id = f.account_id AND m.id = f.message_id
JOIN conversations v ON v.account_id = f.account_id AND v.id = f.conversation_id
WHERE f.retracted_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, '*', '*', 900000, (s.created_at / 900000) * 900000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, '*', '*', 3600000, (s.created_at / 3600000) * 3600000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, '*', '*', 86400000, (s.created_at / 86400000) * 86400000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, s.bot_id, '*', 900000, (s.created_at / 900000) * 900000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, s.bot_id, '*', 3600000, (s.created_at / 3600000) * 3600000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, s.bot_id, '*', 86400000, (s.created_at / 86400000) * 86400000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT s.account_id, s.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END, 900000, (s.created_at / 900000) * 900000,
       SUM(CASE WHEN s.direction = 'up' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.direction = 'down' THEN 1 ELSE 0 END),
       SUM(s.value)
FROM votes s
JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, '*', '*', s.question_code, 900000, (s.answered_at / 900000) * 900000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, '*', '*', s.question_code, 3600000, (s.answered_at / 3600000) * 3600000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, '*', '*', s.question_code, 86400000, (s.answered_at / 86400000) * 86400000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, s.bot_id, '*', s.question_code, 900000, (s.answered_at / 900000) * 900000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, s.bot_id, '*', s.question_code, 3600000, (s.answered_at / 3600000) * 3600000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, s.bot_id, '*', s.question_code, 86400000, (s.answered_at / 86400000) * 86400000, SUM(s.score), COUNT(*)
FROM csat_answers s
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT s.account_id, s.bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END, s.question_code, 900000, (s.answered_at / 900000) * 900000, SUM(s.score), COUNT(*)
FROM csat_answers s
JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 900000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, '*' AS bot_id, '*' AS variant, (MAX(s.answered_at) / 900000) * 900000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 3600000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, '*' AS bot_id, '*' AS variant, (MAX(s.answered_at) / 3600000) * 3600000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 86400000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, '*' AS bot_id, '*' AS variant, (MAX(s.answered_at) / 86400000) * 86400000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 900000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, s.bot_id AS bot_id, '*' AS variant, (MAX(s.answered_at) / 900000) * 900000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 3600000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, s.bot_id AS bot_id, '*' AS variant, (MAX(s.answered_at) / 3600000) * 3600000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 86400000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, s.bot_id AS bot_id, '*' AS variant, (MAX(s.answered_at) / 86400000) * 86400000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT r.account_id, r.bot_id, r.variant, '', 900000, r.bucket, SUM(r.micros), COUNT(*)
FROM (SELECT s.account_id, s.bot_id AS bot_id, CASE WHEN v.variant IS NULL THEN '-' ELSE '=' || v.variant END AS variant, (MAX(s.answered_at) / 900000) * 900000 AS bucket,
             (CAST(SUM(s.score) AS BIGINT) * 2000000 + COUNT(*)) / (2 * COUNT(*)) AS micros
     FROM csat_answers s
     JOIN conversations v ON v.account_id = s.account_id AND v.id = s.conversation_id
     GROUP BY s.account_id, s.conversation_id, 2, 3) r
GROUP BY 1, 2, 3, 6;
