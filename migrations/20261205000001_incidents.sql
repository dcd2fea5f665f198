-- Internal errors a person met (issue 17): the reference their page showed, where and when, and
-- whose session it was, so that the phone platform finds what happened from the reference read
-- out on the phone. No cause is kept here (causes may quote personal data): the server's log
-- has it, on the line that carries the same reference and request id.
CREATE TABLE incidents (
    reference  TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    method     TEXT NOT NULL,
    route      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    user_id    TEXT
);
CREATE INDEX incidents_by_user ON incidents (user_id, at);
