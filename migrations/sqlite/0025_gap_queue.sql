-- The thumbs-down's questions wait here until the embedding worker (or a
-- listing) moves them into `gap_questions`: an append touches the table's
-- last page only, where an insert into `gap_questions` also wrote a page of
-- each of its indexes on answer and gap id, at random places, in every
-- write transaction of thumbs.
CREATE TABLE gap_queue (
    seq         INTEGER PRIMARY KEY,
    account_id  TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    queued_at   INTEGER NOT NULL
);
