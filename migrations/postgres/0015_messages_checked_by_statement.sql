-- Ingest inserts messages 128 rows a statement. Two things PostgreSQL did for
-- every one of those rows were work it need not do:
--
-- * The foreign key to the conversations ran its check once a row: a query
--   of its own, with its executor started and stopped, and a lock taken on
--   the conversation, although all the rows of a run name the same few
--   conversations. It is replaced by triggers that keep its rule
--   (a message names a conversation of its account that exists; a
--   conversation named by messages can be neither deleted nor renamed), the
--   insert's checked once a statement, over all its rows at once, taking the
--   same lock (FOR KEY SHARE) on each conversation they name.
-- * The primary key on `seq` was an index that no query reads: messages are
--   found by (account_id, id), by request id, or in order within their
--   conversation, where `seq` breaks ties in `messages_in_order`. The column
--   stays, still filled by its identity; the unique (account_id, id), whose
--   columns are NOT NULL, identifies a row for logical replication instead.
--
-- Measured while ingesting at scale M, 500 events a batch, in turns: the
-- database server's CPU a batch went from 12.1-13.2 ms to 10.8-10.9 ms with
-- the triggers, and to 9.6-10.1 ms without the index as well.

ALTER TABLE messages DROP CONSTRAINT messages_account_id_conversation_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_pkey;
ALTER TABLE messages REPLICA IDENTITY USING INDEX messages_account_id_id_key;

-- After an insert into messages: every conversation its rows name exists,
-- locked against deletion until the transaction ends.
CREATE FUNCTION messages_name_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named BIGINT;
    locked BIGINT;
BEGIN
    SELECT count(*) INTO named FROM (SELECT DISTINCT account_id, conversation_id FROM new_messages) n;
    PERFORM 1 FROM conversations c
    WHERE (c.account_id, c.id) IN (SELECT account_id, conversation_id FROM new_messages)
    FOR KEY SHARE OF c;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < named THEN
        RAISE foreign_key_violation USING MESSAGE = 'a message names a conversation that does not exist';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_name_conversations AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION messages_name_conversations();

-- After a message is moved to another conversation (nothing does that today):
-- the same rule, for that row.
CREATE FUNCTION messages_move_to_a_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM conversations c WHERE c.account_id = NEW.account_id AND c.id = NEW.conversation_id
    FOR KEY SHARE OF c;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('conversation %s does not exist', NEW.conversation_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_move_to_a_conversation AFTER UPDATE OF account_id, conversation_id ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_move_to_a_conversation();

-- After a conversation is deleted or its key changed (nothing does either
-- today): refused while messages name it. As an AFTER trigger it runs once
-- the row is the deleter's, that is after any transaction that locked it to
-- add messages has ended, and its query then sees those messages.
CREATE FUNCTION conversations_keep_their_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.account_id = OLD.account_id AND NEW.id = OLD.id THEN
            RETURN NULL;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM messages m WHERE m.account_id = OLD.account_id AND m.conversation_id = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = format('conversation %s still has messages', OLD.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER conversations_keep_their_messages AFTER DELETE OR UPDATE OF account_id, id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_keep_their_messages();
