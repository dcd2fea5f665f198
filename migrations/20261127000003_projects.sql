-- Projets de transition professionnelle: one per beneficiary, its text as a JSON draft, its
-- state, and every transition in project_events. Portable SQL (SQLite, PostgreSQL).

-- The beneficiary's referent advisor (assigned by advisors; NULL until then).
ALTER TABLE users ADD COLUMN referent_id TEXT;

CREATE TABLE projects (
    id                  TEXT PRIMARY KEY,
    beneficiary_id      TEXT NOT NULL UNIQUE REFERENCES users (id),
    -- brouillon | soumis | en_instruction | rouvert | accepte | refuse
    state               TEXT NOT NULL,
    -- +1 at every saved change of the text: a save must name the version it started from
    version             BIGINT NOT NULL,
    -- JSON object: field key -> text typed
    draft               TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    submitted_at        BIGINT,
    reopen_requested_at BIGINT
);
CREATE INDEX projects_by_state ON projects (state, updated_at);

-- Who did what to a project, when and why. Never updated, never deleted.
CREATE TABLE project_events (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    actor_id    TEXT NOT NULL REFERENCES users (id),
    -- soumettre | instruire | rouvrir | accepter | refuser | reouverture_demandee
    kind        TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX project_events_by_project ON project_events (project_id, created_at);
