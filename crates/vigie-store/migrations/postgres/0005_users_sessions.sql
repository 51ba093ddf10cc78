-- People who sign in to the pages: a name (also their actor id: an agent's is their agent id),
-- an argon2 hash of the password (PHC string), a role and teams, as API tokens have.
CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    teams TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Signed-in sessions: the digest of the cookie's secret (never the secret), the form token
-- that proves a write comes from our own page, and when the session ends.
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY NOT NULL,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_user ON sessions (user_name);
