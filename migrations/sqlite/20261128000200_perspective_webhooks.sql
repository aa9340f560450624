-- Perspective-compatible API (keys, feedback, opt-in request log) and the webhook outbox.

-- Keys for /v1alpha1/comments:*; only an argon2 hash of each key is kept. `key_id` is the
-- public part of the key and locates the row without hashing.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL UNIQUE,
    key_hash    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
-- A name may be reused once its key is revoked; revoked rows stay for the record.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- Analyze requests, kept only when [perspective] store_requests = true and the request did
-- not set doNotStore.
CREATE TABLE perspective_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    api_key_id    INTEGER NOT NULL REFERENCES api_keys(id),
    text          TEXT NOT NULL,
    languages     TEXT NOT NULL,  -- JSON ["en"]
    scores        TEXT NOT NULL,  -- JSON {attribute: summary score}
    model_id      TEXT NOT NULL,
    client_token  TEXT,
    created_at    TEXT NOT NULL
);

-- SuggestCommentScore feedback: labelled examples for later calibration.
CREATE TABLE perspective_feedback (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    api_key_id        INTEGER NOT NULL REFERENCES api_keys(id),
    text              TEXT NOT NULL,
    attribute_scores  TEXT NOT NULL,  -- JSON as sent: {attribute: {summaryScore, spanScores}}
    languages         TEXT,           -- JSON ["en"]
    community_id      TEXT,
    client_token      TEXT,
    context           TEXT,           -- JSON as sent
    created_at        TEXT NOT NULL
);

-- Outbox: one row per event, written in the same transaction as the change it describes.
-- `payload` is the exact body sent to every endpoint.
CREATE TABLE webhook_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL UNIQUE,  -- evt_<hex>
    event_type     TEXT NOT NULL,
    comment_id     INTEGER,
    payload        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    -- Set once a delivery row exists for every endpoint subscribed at that time.
    dispatched_at  TEXT
);
CREATE INDEX webhook_events_undispatched ON webhook_events (id) WHERE dispatched_at IS NULL;

-- One row per (event, endpoint), with the state of its retries.
CREATE TABLE webhook_deliveries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id          INTEGER NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    endpoint          TEXT NOT NULL,  -- the endpoint's name (its url unless named)
    status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,           -- set while pending
    last_status_code  INTEGER,
    last_error        TEXT,
    delivered_at      TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (event_id, endpoint)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id);

-- Every attempt of a delivery: the delivery log admins read.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
