-- Knowledge gaps: a golden example can be the answer an admin wrote for a
-- group of thumbed-down questions. It names the group (`gap_id`, unique per
-- account, so a group is answered once) and has its own origin.
ALTER TABLE golden_examples DROP CONSTRAINT golden_examples_origin_check;
ALTER TABLE golden_examples ADD CONSTRAINT golden_examples_origin_check
    CHECK (origin IN ('auto_approved', 'reviewed', 'knowledge_gap'));
ALTER TABLE golden_examples ADD COLUMN gap_id TEXT;
CREATE UNIQUE INDEX golden_by_gap ON golden_examples (account_id, gap_id);
