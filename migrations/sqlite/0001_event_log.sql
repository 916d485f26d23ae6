-- Event log on SQLite. Positions are assigned by the appender from
-- log_head while it holds the database's single write lock, so position
-- order is commit order and a position is never reused.

-- One row: the position and hash of the last event. Every append updates it
-- first, which takes the write lock for the whole transaction.
CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO log_head (id, position, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Current version of each stream, for optimistic concurrency.
CREATE TABLE streams (
    stream_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    stream_version BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    -- Canonical JSON (sorted keys, no spaces): the hash covers these bytes.
    payload TEXT NOT NULL,
    actor TEXT NOT NULL,
    organisation TEXT NOT NULL,
    command_id TEXT,
    correlation_id TEXT NOT NULL,
    causation_id TEXT,
    -- RFC 3339 UTC with microseconds, so text order is time order.
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    -- SHA-256 over the previous event's hash and this event's fields.
    hash TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
);

-- Commands already applied, with the result returned the first time, so a
-- repeated command (a phone re-sending a scan) records nothing twice.
CREATE TABLE commands (
    command_id TEXT PRIMARY KEY,
    result TEXT NOT NULL
);

-- Values that must belong to one stream only, such as device codes and
-- serial numbers. Written in the same transaction as the events.
CREATE TABLE unique_keys (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    PRIMARY KEY (namespace, value)
);
CREATE INDEX unique_keys_by_stream ON unique_keys (stream_id);

CREATE TRIGGER events_reject_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events is not allowed');
END;

CREATE TRIGGER events_reject_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events is not allowed');
END;
