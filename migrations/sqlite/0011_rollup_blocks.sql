-- Blocks of 8 and 64 days, counted at the bot grains beside the 15-minute,
-- hour and day rows. A total over a period (the CSAT questions, the votes, a
-- comparison by bot) reads the longest blocks that fit in it and shorter
-- spans for what is left at either end: a year is a few dozen rows instead
-- of 365. Series still read days or hours. The blocks of what is already
-- counted are the sums of its day rows, pending changes included.

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT account_id, bot_id, variant, topic, has_reason, 691200000, bucket / 691200000 * 691200000, SUM(up), SUM(down)
FROM thumb_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, topic, has_reason, bucket / 691200000 * 691200000;

INSERT INTO thumb_rollup_pending (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT account_id, bot_id, variant, topic, has_reason, 691200000, bucket / 691200000 * 691200000, up, down
FROM thumb_rollup_pending WHERE span = 86400000 AND variant = '*';

INSERT INTO thumb_rollup (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT account_id, bot_id, variant, topic, has_reason, 5529600000, bucket / 5529600000 * 5529600000, SUM(up), SUM(down)
FROM thumb_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, topic, has_reason, bucket / 5529600000 * 5529600000;

INSERT INTO thumb_rollup_pending (account_id, bot_id, variant, topic, has_reason, span, bucket, up, down)
SELECT account_id, bot_id, variant, topic, has_reason, 5529600000, bucket / 5529600000 * 5529600000, up, down
FROM thumb_rollup_pending WHERE span = 86400000 AND variant = '*';

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT account_id, bot_id, variant, 691200000, bucket / 691200000 * 691200000, SUM(up), SUM(down), SUM(value_sum)
FROM vote_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, bucket / 691200000 * 691200000;

INSERT INTO vote_rollup_pending (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT account_id, bot_id, variant, 691200000, bucket / 691200000 * 691200000, up, down, value_sum
FROM vote_rollup_pending WHERE span = 86400000 AND variant = '*';

INSERT INTO vote_rollup (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT account_id, bot_id, variant, 5529600000, bucket / 5529600000 * 5529600000, SUM(up), SUM(down), SUM(value_sum)
FROM vote_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, bucket / 5529600000 * 5529600000;

INSERT INTO vote_rollup_pending (account_id, bot_id, variant, span, bucket, up, down, value_sum)
SELECT account_id, bot_id, variant, 5529600000, bucket / 5529600000 * 5529600000, up, down, value_sum
FROM vote_rollup_pending WHERE span = 86400000 AND variant = '*';

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT account_id, bot_id, variant, question_code, 691200000, bucket / 691200000 * 691200000, SUM(total), SUM(count)
FROM csat_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, question_code, bucket / 691200000 * 691200000;

INSERT INTO csat_rollup_pending (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT account_id, bot_id, variant, question_code, 691200000, bucket / 691200000 * 691200000, total, count
FROM csat_rollup_pending WHERE span = 86400000 AND variant = '*';

INSERT INTO csat_rollup (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT account_id, bot_id, variant, question_code, 5529600000, bucket / 5529600000 * 5529600000, SUM(total), SUM(count)
FROM csat_rollup WHERE span = 86400000 AND variant = '*'
GROUP BY account_id, bot_id, variant, question_code, bucket / 5529600000 * 5529600000;

INSERT INTO csat_rollup_pending (account_id, bot_id, variant, question_code, span, bucket, total, count)
SELECT account_id, bot_id, variant, question_code, 5529600000, bucket / 5529600000 * 5529600000, total, count
FROM csat_rollup_pending WHERE span = 86400000 AND variant = '*';
