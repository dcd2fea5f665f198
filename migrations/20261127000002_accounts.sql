-- Accounts: identity of beneficiaries, activation, throttling, single-use links, consents,
-- rate limits, robot-check replay protection, merge requests. Portable SQL (SQLite, PostgreSQL).

ALTER TABLE users ADD COLUMN civility TEXT;
ALTER TABLE users ADD COLUMN birth_name TEXT;
ALTER TABLE users ADD COLUMN usage_name TEXT;
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN birth_date TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
-- AES-256-GCM ciphertext of the NIR (base64), and its keyed hash (HMAC-SHA256, hex) for uniqueness.
ALTER TABLE users ADD COLUMN nir_encrypted TEXT;
ALTER TABLE users ADD COLUMN nir_hash TEXT;
-- NULL until the activation link is used (staff: until their password is set).
ALTER TABLE users ADD COLUMN activated_at BIGINT;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
-- Consecutive failed logins since the last success or reset, and the lock they caused.
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;

CREATE UNIQUE INDEX users_nir_hash ON users (nir_hash);

-- Single-use links (activation, password reset, staff password set-up). Only the SHA-256 of the
-- token is stored. A newer link of the same purpose supersedes the older ones.
CREATE TABLE account_tokens (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- activation | reset | staff_setup
    purpose       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    superseded_at BIGINT
);
CREATE INDEX account_tokens_by_user ON account_tokens (user_id, purpose);

-- Every login attempt on an existing account, with its outcome (throttling, and the advisors' view).
CREATE TABLE login_attempts (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         BIGINT NOT NULL,
    -- success | bad_password | locked | not_activated
    outcome    TEXT NOT NULL
);
CREATE INDEX login_attempts_by_user ON login_attempts (user_id, at);

-- Accepted versions of the CGU and of the privacy policy, with the time.
CREATE TABLE consents (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- cgu | privacy
    document    TEXT NOT NULL,
    version     TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);
CREATE INDEX consents_by_user ON consents (user_id);

-- Events counted by sliding-window rate limits (per IP, per account…), shared by every server.
CREATE TABLE rate_events (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_events_by_bucket ON rate_events (bucket, at);

-- Robot-check challenges already used: a solved challenge counts once.
CREATE TABLE used_challenges (
    challenge_hash TEXT PRIMARY KEY,
    used_at        BIGINT NOT NULL
);

-- Requests to merge a new registration into an existing account (same NIR), for advisors.
CREATE TABLE merge_requests (
    id                 TEXT PRIMARY KEY,
    existing_user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- what the person typed, without the password (JSON)
    submitted          TEXT NOT NULL,
    contact_email      TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    -- open | merged | rejected
    status             TEXT NOT NULL
);

-- Form values and errors kept across a plain (JavaScript-off) form post and its redirect.
-- Never holds a password; deleted when read, and after 10 minutes at most.
CREATE TABLE form_flashes (
    id_hash    TEXT PRIMARY KEY,
    form       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
