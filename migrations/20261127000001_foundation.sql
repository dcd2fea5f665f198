-- Portable schema: TEXT ids, BIGINT timestamps in milliseconds since the Unix epoch, no BOOLEAN
-- (sqlx's Any driver cannot decode SQLite booleans). Runs unchanged on SQLite and PostgreSQL.

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    -- lower-cased address: one account per address, whatever the case typed
    email_normalized TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    -- beneficiary | advisor | admin
    role             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

-- Server-side sessions, shared by every `passerelle serve` process. The cookie holds a random
-- token; only its SHA-256 is stored here.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Email outbox: a row is written in the same transaction as what caused the email; the mail
-- worker delivers it, with retries, and records the outcome.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- pending | sending | sent | failed
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- a worker that claimed the row owns it until then; after that another may retry it
    claimed_until   BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
