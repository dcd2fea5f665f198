-- The beneficiary's space: profile, messages with the referent and services, documents,
-- document requests, deletion requests. Portable SQL (SQLite, PostgreSQL).

-- Profile (the phone is already in users).
ALTER TABLE users ADD COLUMN address_line TEXT;
ALTER TABLE users ADD COLUMN postal_code TEXT;
ALTER TABLE users ADD COLUMN city TEXT;
ALTER TABLE users ADD COLUMN current_job TEXT;
ALTER TABLE users ADD COLUMN employer TEXT;
ALTER TABLE users ADD COLUMN contract_type TEXT;
ALTER TABLE users ADD COLUMN seniority_years BIGINT;
ALTER TABLE users ADD COLUMN highest_diploma TEXT;

-- What a single-use link carries besides its purpose (the new address of an email change).
ALTER TABLE account_tokens ADD COLUMN payload TEXT;

-- Services a beneficiary can write to (administrators edit them later).
CREATE TABLE services (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
INSERT INTO services (id, slug, name, active, created_at) VALUES
    ('service-accueil', 'accueil', 'Accueil', 1, 0),
    ('service-instruction', 'instruction', 'Instruction des dossiers', 1, 0),
    ('service-paiement', 'paiement', 'Paiement', 1, 0);

-- Staff members of each service: they are told when a beneficiary writes to it
-- (`passerelle admin create --services`; administration pages come with the dashboard).
CREATE TABLE staff_services (
    user_id    TEXT NOT NULL REFERENCES users (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    PRIMARY KEY (user_id, service_id)
);

-- A conversation between one beneficiary and their referent advisor or a service.
CREATE TABLE threads (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL REFERENCES users (id),
    -- NULL: the referent advisor; otherwise the service written to.
    service_id     TEXT REFERENCES services (id),
    subject        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL
);
CREATE INDEX threads_by_beneficiary ON threads (beneficiary_id, last_message_at);
CREATE INDEX threads_by_last_message ON threads (last_message_at);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES threads (id),
    author_id  TEXT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_by_thread ON messages (thread_id, created_at);

-- Up to when each person has read each thread (unread counts).
CREATE TABLE thread_reads (
    thread_id    TEXT NOT NULL REFERENCES threads (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    last_read_at BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);

-- What staff asked a beneficiary to provide.
CREATE TABLE document_requests (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL REFERENCES users (id),
    requested_by   TEXT NOT NULL REFERENCES users (id),
    category       TEXT NOT NULL,
    note           TEXT NOT NULL,
    -- YYYY-MM-DD
    due_date       TEXT,
    -- demandee | recue
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    fulfilled_at   BIGINT
);
CREATE INDEX document_requests_by_beneficiary ON document_requests (beneficiary_id, created_at);

-- Files of a beneficiary's file: uploaded by them or posted by staff, possibly attached to a
-- message or answering a request. The bytes are in the file store under storage_key.
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    beneficiary_id TEXT NOT NULL REFERENCES users (id),
    uploaded_by    TEXT NOT NULL REFERENCES users (id),
    category       TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    -- application/pdf | image/jpeg | image/png, decided from the content
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    storage_key    TEXT NOT NULL UNIQUE,
    message_id     TEXT REFERENCES messages (id),
    request_id     TEXT REFERENCES document_requests (id),
    created_at     BIGINT NOT NULL
);
CREATE INDEX documents_by_beneficiary ON documents (beneficiary_id, created_at);
CREATE INDEX documents_by_message ON documents (message_id);

-- "Supprimer mon compte": a request handled by advisors.
CREATE TABLE deletion_requests (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    -- ouverte | traitee
    status     TEXT NOT NULL
);
CREATE INDEX deletion_requests_by_user ON deletion_requests (user_id);
