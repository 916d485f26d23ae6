-- Households' identity and contact details, kept outside the event log so
-- that they can be erased (GDPR right to erasure, retention limit) while
-- the events, which refer to a household by id only, stay unchanged.
-- Erasing sets every identity column to NULL and records erased_at.
CREATE TABLE households (
    id TEXT PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    email TEXT,
    address TEXT,
    -- RFC 3339 UTC with microseconds, so text order is time order.
    created_at TEXT NOT NULL,
    erased_at TEXT
);
CREATE INDEX households_by_erased_at ON households (erased_at);

-- Eligibility schemes configured by an administrator. `rule` is the JSON
-- of filiere_domain::prescription::EligibilityRule.
CREATE TABLE eligibility_schemes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    created_at TEXT NOT NULL
);
