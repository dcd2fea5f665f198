-- Where a login attempt came from: the client's address (behind trusted proxies) and its
-- browser's User-Agent (cut to 200 characters), shown on the person's 360° page.
ALTER TABLE login_attempts ADD COLUMN ip TEXT;
ALTER TABLE login_attempts ADD COLUMN user_agent TEXT;
