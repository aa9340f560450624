-- Moderator console sessions. Only the SHA-256 of the random session id is stored, so a
-- copy of the database does not let anyone sign in.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,  -- hex SHA-256 of the cookie value
    moderator_id  INTEGER NOT NULL REFERENCES moderators(id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,              -- idle expiry counts from here
    expires_at    TEXT NOT NULL,              -- absolute expiry
    user_agent    TEXT
);
CREATE INDEX console_sessions_moderator ON console_sessions (moderator_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
