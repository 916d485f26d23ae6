-- Event log on PostgreSQL. Appends are serialised on the single log_head
-- row: each append locks it first and commits before the next one can read
-- it, so positions are assigned in commit order with no gaps, and a reader
-- that follows positions never skips an event committed late.

CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO log_head (id, position, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE streams (
    stream_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE events (
    position BIGINT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    stream_version BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    -- Canonical JSON kept as text: jsonb would reorder keys and break the hash.
    payload TEXT NOT NULL,
    actor TEXT NOT NULL,
    organisation TEXT NOT NULL,
    command_id TEXT,
    correlation_id TEXT NOT NULL,
    causation_id TEXT,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE TABLE commands (
    command_id TEXT PRIMARY KEY,
    result TEXT NOT NULL
);

CREATE TABLE unique_keys (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    PRIMARY KEY (namespace, value)
);
CREATE INDEX unique_keys_by_stream ON unique_keys (stream_id);

CREATE FUNCTION reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is not allowed', TG_OP;
END
$$;

CREATE TRIGGER events_reject_change
BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION reject_event_change();

CREATE TRIGGER events_reject_truncate
BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION reject_event_change();
