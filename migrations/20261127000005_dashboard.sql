-- Advisor dashboard: search index, audit trail, merged and closed accounts, deactivated staff,
-- emails linked to the account they were sent to. Portable SQL (SQLite, PostgreSQL).

-- The account an email was sent to (found by its address when queued), so advisors see every
-- email a person was sent, and a merge moves them.
ALTER TABLE outbox ADD COLUMN user_id TEXT;
UPDATE outbox SET user_id = (SELECT u.id FROM users u WHERE u.email_normalized = lower(outbox.to_address));
CREATE INDEX outbox_by_user ON outbox (user_id, created_at);

-- Folded (lower case, no accents) "name first-name", for sorting and keyset pagination; NULL
-- until indexed (the server indexes missing rows at start).
ALTER TABLE users ADD COLUMN search_name TEXT;
-- Folded first name, birth name and birth date: accounts sharing it are suspected duplicates.
ALTER TABLE users ADD COLUMN identity_key TEXT;
-- A merged account: closed, and the account it was merged into.
ALTER TABLE users ADD COLUMN merged_into TEXT;
ALTER TABLE users ADD COLUMN closed_at BIGINT;
-- Staff accounts that may no longer log in.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
CREATE INDEX users_by_search ON users (role, search_name, id);
CREATE INDEX users_by_identity ON users (identity_key);
CREATE INDEX users_by_referent ON users (referent_id);

-- Every folded word of a beneficiary's names, for prefix search ("helene" finds "Hélène"),
-- with their sort key: a page of matches is read from this table's index alone.
CREATE TABLE search_terms (
    term        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    search_name TEXT NOT NULL,
    PRIMARY KEY (term, user_id)
);
CREATE INDEX search_terms_by_term_and_name ON search_terms (term, search_name, user_id);
CREATE INDEX search_terms_by_user ON search_terms (user_id);

-- What staff did, to whom, when and why. Never updated nor deleted.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor_id       TEXT NOT NULL REFERENCES users (id),
    beneficiary_id TEXT REFERENCES users (id),
    action         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    -- what changed, in words (for example "ancienne adresse : a***@x.fr")
    detail         TEXT NOT NULL
);
CREATE INDEX audit_log_by_at ON audit_log (at, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_by_beneficiary ON audit_log (beneficiary_id, at);

-- Published versions of the CGU and of the privacy policy. The newest of each is in force;
-- a beneficiary who has not accepted it does so at their next login.
CREATE TABLE legal_versions (
    id           TEXT PRIMARY KEY,
    -- cgu | privacy
    document     TEXT NOT NULL,
    version      TEXT NOT NULL,
    -- what changed, shown before acceptance
    summary      TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT REFERENCES users (id),
    UNIQUE (document, version)
);
INSERT INTO legal_versions (id, document, version, summary, published_at, published_by) VALUES
    ('legal-cgu-1', 'cgu', '1', 'Première version.', 0, NULL),
    ('legal-privacy-1', 'privacy', '1', 'Première version.', 0, NULL);
