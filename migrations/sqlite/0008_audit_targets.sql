-- Territory targets for funders' audit reports. Each `filiere audit target
-- set` adds a revision; the highest revision is the current target, and
-- earlier ones stay for the record.
CREATE TABLE audit_targets (
    revision BIGINT PRIMARY KEY,
    national_target BIGINT NOT NULL,
    -- devices, computers or households
    unit TEXT NOT NULL,
    -- département, EPCI (SIREN) or INSEE commune code
    territory_code TEXT NOT NULL,
    -- population or manual
    share_method TEXT NOT NULL,
    -- Set only when share_method is manual.
    manual_share BIGINT,
    -- JSON array of organisation ids whose devices count for the territory.
    workshops TEXT NOT NULL,
    set_by TEXT NOT NULL,
    -- RFC 3339 UTC
    set_at TEXT NOT NULL
);
