-- Read models built from the event log. They hold nothing that the log does
-- not: `filiere rebuild` empties and replays them.

-- Position up to which each projection has applied the log. Updated in the
-- same transaction as the projection's rows; the projector locks its row
-- first, so one process at a time updates a projection.
CREATE TABLE projection_checkpoints (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO projection_checkpoints (name, position) VALUES ('stock', 0);
INSERT INTO projection_checkpoints (name, position) VALUES ('timeline', 0);
INSERT INTO projection_checkpoints (name, position) VALUES ('donations', 0);

-- One row per device: its current state.
CREATE TABLE stock_devices (
    device_id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    donation_id TEXT NOT NULL,
    category TEXT NOT NULL,
    brand TEXT NOT NULL,
    model TEXT NOT NULL,
    serial TEXT,
    status TEXT NOT NULL,
    site TEXT NOT NULL,
    location TEXT NOT NULL,
    grade TEXT,
    functional_test TEXT,
    -- none (nothing to erase), pending, failed or passed
    erasure TEXT NOT NULL,
    ready BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX stock_devices_by_status ON stock_devices (status);
CREATE INDEX stock_devices_by_site ON stock_devices (site);
CREATE INDEX stock_devices_by_donation ON stock_devices (donation_id);
CREATE INDEX stock_devices_by_code ON stock_devices (code);

-- One row per device event, for the device page.
CREATE TABLE device_timeline (
    position BIGINT PRIMARY KEY,
    device_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX device_timeline_by_device ON device_timeline (device_id, position);

-- One row per donation batch.
CREATE TABLE donation_batches (
    donation_id TEXT PRIMARY KEY,
    donor_name TEXT NOT NULL,
    donor_kind TEXT NOT NULL,
    free_transfer BIGINT NOT NULL,
    received_on TEXT NOT NULL,
    site TEXT NOT NULL,
    reference TEXT NOT NULL,
    device_count BIGINT NOT NULL,
    recorded_at TEXT NOT NULL
);
