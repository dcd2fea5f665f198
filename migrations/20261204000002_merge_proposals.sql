-- Four eyes on merges (issue 16): a merge of two accounts whose identity keys or NIR hashes
-- differ is first proposed, then carried out by a second staff member's approval. Both steps
-- are in the audit trail; this table holds the proposal until it is approved.
CREATE TABLE merge_proposals (
    id          TEXT PRIMARY KEY,
    kept_id     TEXT NOT NULL REFERENCES users (id),
    closed_id   TEXT NOT NULL REFERENCES users (id),
    -- the merge request the merge answers, if any
    request_id  TEXT,
    reason      TEXT NOT NULL,
    proposed_by TEXT NOT NULL REFERENCES users (id),
    proposed_at BIGINT NOT NULL,
    -- en_attente | approuvee
    status      TEXT NOT NULL,
    approved_by TEXT REFERENCES users (id),
    approved_at BIGINT
);
CREATE UNIQUE INDEX merge_proposals_pending ON merge_proposals (kept_id, closed_id) WHERE status = 'en_attente';
