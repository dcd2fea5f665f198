-- When a reset or an advisor's unlock last cleared the account's failed logins: failures before
-- it no longer count towards the 24-hour limit (milliseconds since the epoch; NULL = never).
ALTER TABLE users ADD COLUMN failures_cleared_at BIGINT;
