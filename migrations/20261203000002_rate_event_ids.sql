-- Each rate event gets an id, so a reservation made before a password check can be given back
-- when the password proves right (login limits count failures, not logins). NULL for events
-- recorded before this step.
ALTER TABLE rate_events ADD COLUMN id TEXT;
