-- Organisations, people and their access. Not part of the event log: these
-- rows change (a password, a revoked token) and personal data in them must
-- be erasable. Every event records the acting user and organisation ids.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- argon2id PHC string; NULL until the person sets a password.
    password_hash TEXT,
    created_at TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, organisation_id, role)
);

-- Sign-in sessions, API tokens and one-time links are stored by the SHA-256
-- of their secret: a copy of the database does not let anyone sign in.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL,
    role TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

-- One-time links: the first-run setup link and password reset links.
CREATE TABLE one_time_links (
    token_sha256 TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0
);

-- Failed sign-ins, counted per account and per client address for the rate
-- limit.
CREATE TABLE failed_sign_ins (
    key TEXT NOT NULL,
    attempted_at TEXT NOT NULL
);
CREATE INDEX failed_sign_ins_by_key ON failed_sign_ins (key, attempted_at);
