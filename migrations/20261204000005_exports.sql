-- One personal-data export at a time per person (issue 16): a row is a running export's claim,
-- deleted when its archive has been sent; `until` lets the claim of a stopped server lapse.
CREATE TABLE exports_running (
    user_id TEXT PRIMARY KEY,
    until   BIGINT NOT NULL
);
