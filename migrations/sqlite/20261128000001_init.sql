-- Core schema: articles, authors, comments, verdicts, reports, moderators, moderation log.
-- Times are UTC RFC 3339 strings with millisecond precision, so they sort as text.

CREATE TABLE articles (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT,
    url         TEXT,
    closed      INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    created_at  TEXT NOT NULL
);

-- An author is identified by their e-mail (lower-cased) when given, else by name.
CREATE TABLE authors (
    key           TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    banned        INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
    premoderated  INTEGER NOT NULL DEFAULT 0 CHECK (premoderated IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE moderators (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('moderator', 'admin')),
    token_id       TEXT NOT NULL UNIQUE,
    token_hash     TEXT NOT NULL,
    password_hash  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     TEXT NOT NULL
);

CREATE TABLE comments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id    TEXT NOT NULL REFERENCES articles(id),
    parent_id     INTEGER REFERENCES comments(id),
    author_key    TEXT NOT NULL REFERENCES authors(key),
    author_name   TEXT NOT NULL,
    author_email  TEXT,
    body          TEXT NOT NULL,
    body_hash     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('published', 'pending', 'removed')),
    -- Set when reader reports reach the configured count; cleared by a moderator decision.
    reported      INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1)),
    report_count  INTEGER NOT NULL DEFAULT 0,
    -- Highest label score of the current verdict, for sorting the queue.
    max_score     REAL NOT NULL DEFAULT 0,
    -- Set when a moderator last decided on this comment (approved queue).
    moderated_by  INTEGER REFERENCES moderators(id),
    moderated_at  TEXT,
    language      TEXT,
    client_ip     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE INDEX comments_thread ON comments (article_id, status, created_at, id);
CREATE INDEX comments_queue ON comments (status, created_at, id);
CREATE INDEX comments_reported ON comments (reported, created_at, id) WHERE reported = 1;
CREATE INDEX comments_score ON comments (status, max_score DESC, id);
CREATE INDEX comments_author ON comments (author_key, status);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_duplicate ON comments (article_id, author_key, body_hash, created_at);

-- One row per scoring of a comment (at intake and on each re-score).
CREATE TABLE verdicts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id     INTEGER NOT NULL REFERENCES comments(id),
    status         TEXT NOT NULL CHECK (status IN ('published', 'pending', 'removed')),
    scores         TEXT NOT NULL,  -- JSON {label: probability}
    hits           TEXT NOT NULL,  -- JSON [{list, category, term, action, start, end}]
    reasons        TEXT NOT NULL,  -- JSON [{kind, ...}]
    model_id       TEXT NOT NULL,
    rules_version  TEXT NOT NULL,
    decided_by     TEXT NOT NULL DEFAULT 'system',
    created_at     TEXT NOT NULL
);
CREATE INDEX verdicts_comment ON verdicts (comment_id, id);

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id  INTEGER NOT NULL REFERENCES comments(id),
    reason      TEXT NOT NULL CHECK (reason IN ('offensive', 'abusive', 'spam', 'other')),
    note        TEXT,
    client_ip   TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX reports_comment ON reports (comment_id);

-- Append-only: who did what to which comment or author, when, why, old and new status.
CREATE TABLE moderation_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id    INTEGER REFERENCES comments(id),
    author_key    TEXT,
    moderator_id  INTEGER REFERENCES moderators(id),
    actor         TEXT NOT NULL,  -- moderator name, or 'system'
    action        TEXT NOT NULL,
    reason        TEXT,
    note          TEXT,
    old_status    TEXT,
    new_status    TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX moderation_log_comment ON moderation_log (comment_id, id);

CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log
BEGIN
    SELECT RAISE(ABORT, 'moderation_log is append-only');
END;
CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log
BEGIN
    SELECT RAISE(ABORT, 'moderation_log is append-only');
END;
