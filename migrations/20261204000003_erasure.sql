-- Erasure (issue 16): when an account's personal data was erased (the row stays, emptied, for
-- what the funding body must keep), and the stored files still to delete, retried until the
-- store has deleted them.
ALTER TABLE users ADD COLUMN erased_at BIGINT;
CREATE TABLE storage_purges (
    storage_key     TEXT PRIMARY KEY,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL
);
