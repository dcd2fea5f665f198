-- The claim a worker holds on an email: recording the outcome, or extending the claim while
-- sending, needs this token, so a worker whose claim expired and was taken over cannot send the
-- email a second time nor overwrite the new claimer's outcome.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
