-- The robot check's difficulty counts the registrations of the last hour on every challenge:
-- an index, so that it reads those rows only, not every account.
CREATE INDEX users_by_creation ON users (created_at);
