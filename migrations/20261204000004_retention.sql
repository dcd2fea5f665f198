-- Retention (issue 16): when an inactive account was told it will be erased, and the daily jobs
-- one server at a time runs (claimed like the outbox's emails).
ALTER TABLE users ADD COLUMN inactivity_warned_at BIGINT;
CREATE TABLE jobs (
    name          TEXT PRIMARY KEY,
    next_run_at   BIGINT NOT NULL,
    claimed_until BIGINT
);
INSERT INTO jobs (name, next_run_at) VALUES ('retention', 0);
