-- A transcript finds its answers' feedback through the unique key on
-- (account, message, user), from the answers it has already read, rather
-- than through an index of its own on (account, conversation). That index
-- was the one random page every new thumb wrote besides the key and the
-- conversation's counts, read by nothing else.
DROP INDEX feedback_by_conversation;
