-- A contact's conversations, found by the contact: the inbox's and the
-- export's `contact_id=` filter, and (later) erasing one person.
CREATE INDEX conversations_by_contact ON conversations (account_id, contact_id, created_at, seq);
