-- Exceptional accesses (issue 16): an administrator or a member of the `accueil` service opening
-- a person outside their scope gives a reason; the access then holds for that person in that
-- session only (`session_hash`, the session's id hash), until `expires_at` at the latest.
-- The access itself is a line of the audit trail (`acces_exceptionnel`); this table only says
-- whether it still holds.
CREATE TABLE exceptional_accesses (
    session_hash   TEXT NOT NULL,
    beneficiary_id TEXT NOT NULL REFERENCES users (id),
    staff_id       TEXT NOT NULL REFERENCES users (id),
    reason         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (session_hash, beneficiary_id)
);
CREATE INDEX exceptional_accesses_by_expiry ON exceptional_accesses (expires_at);
