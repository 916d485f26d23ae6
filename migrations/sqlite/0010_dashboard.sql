-- Funders' dashboard: counters pre-aggregated from the event log, so that
-- the pages read a few small rows instead of replaying millions of events.
-- Like every projection, `filiere rebuild` empties and replays these tables.
-- They hold statistical attributes only: no name, contact or address.

INSERT INTO projection_checkpoints (name, position) VALUES ('dashboard', 0);

-- Funder programme of an eligibility scheme, copied into each prescription
-- issued under it. NULL for schemes recorded before programmes existed.
ALTER TABLE eligibility_schemes ADD COLUMN programme TEXT;

-- Flow counters: events counted by month and dimensions. `metric` is one of
-- donated_device, donation_batch, handover, device_handed_over,
-- household_equipped, lead_time, loan_returned, training_attended. Empty
-- strings stand for "not known" (no prescription, no programme). `days` is
-- the lead time in days for lead_time rows and 0 otherwise.
CREATE TABLE dashboard_counters (
    metric TEXT NOT NULL,
    -- YYYY-MM, UTC
    month TEXT NOT NULL,
    workshop TEXT NOT NULL,
    category TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    -- qpv, zrr, qpv_zrr, neither, or '' without a prescription
    area TEXT NOT NULL,
    programme TEXT NOT NULL,
    -- département of the household's commune
    departement TEXT NOT NULL,
    days BIGINT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (metric, month, workshop, category, eligibility, area, programme, departement, days)
);
CREATE INDEX dashboard_counters_by_departement ON dashboard_counters (departement, metric);
CREATE INDEX dashboard_counters_by_workshop ON dashboard_counters (workshop, metric, month);

-- The same counters summed over workshops, one dimension at a time, for
-- the pages without a workshop filter: `dimension` is total (item ''),
-- workshop, eligibility, area, programme, or days (lead_time only, item =
-- days). Only the rows of the workshop dimension grow with the number of
-- workshops; the others grow with months, départements and categories.
-- Every count is stored under its département and again under the
-- département '*', the whole country, read by the national pages.
CREATE TABLE dashboard_rollup (
    metric TEXT NOT NULL,
    dimension TEXT NOT NULL,
    month TEXT NOT NULL,
    departement TEXT NOT NULL,
    category TEXT NOT NULL,
    item TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (metric, dimension, departement, month, category, item)
);

-- The household-related flow counters again, by commune, read only when a
-- commune or an EPCI is chosen, through the index on the commune.
CREATE TABLE dashboard_commune_counters (
    metric TEXT NOT NULL,
    month TEXT NOT NULL,
    workshop TEXT NOT NULL,
    category TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    area TEXT NOT NULL,
    programme TEXT NOT NULL,
    commune TEXT NOT NULL,
    days BIGINT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (commune, metric, month, workshop, category, eligibility, area, programme, days)
);

-- Devices per current state: in_stock (day = day stocked), reserved,
-- loan (day = due date, with the household's commune), recycled, dismantled,
-- written_off. `grams` sums the recycled weight of recycled devices.
CREATE TABLE dashboard_status (
    status TEXT NOT NULL,
    workshop TEXT NOT NULL,
    category TEXT NOT NULL,
    departement TEXT NOT NULL,
    commune TEXT NOT NULL,
    day TEXT NOT NULL,
    value BIGINT NOT NULL,
    grams BIGINT NOT NULL,
    PRIMARY KEY (status, workshop, category, departement, commune, day)
);

-- Per-device state needed to key later events.
CREATE TABLE dashboard_devices (
    device_id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    donation_id TEXT NOT NULL,
    -- YYYY-MM-DD of the device's reception event
    received_on TEXT NOT NULL,
    holder TEXT NOT NULL,
    status TEXT NOT NULL,
    -- YYYY-MM-DD of the latest `stocked` event while in stock, else empty
    stocked_on TEXT NOT NULL,
    -- YYYY-MM-DD due date while lent, else empty
    due_on TEXT NOT NULL,
    handed_over BIGINT NOT NULL,
    recycled_grams BIGINT NOT NULL,
    -- Statistical attributes of the prescription the device is reserved
    -- for or handed over under; empty without one.
    eligibility TEXT NOT NULL,
    area TEXT NOT NULL,
    programme TEXT NOT NULL,
    departement TEXT NOT NULL,
    commune TEXT NOT NULL
);

-- Per-prescription statistical attributes.
CREATE TABLE dashboard_prescriptions (
    prescription_id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    workshop TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    area TEXT NOT NULL,
    programme TEXT NOT NULL,
    departement TEXT NOT NULL,
    commune TEXT NOT NULL
);

-- Opaque ids of the households already equipped, to count each once.
CREATE TABLE dashboard_households (
    household_id TEXT PRIMARY KEY
);

-- Donation batches: reception day, and whether a device of the batch was
-- already counted.
CREATE TABLE dashboard_batches (
    donation_id TEXT PRIMARY KEY,
    -- YYYY-MM-DD, empty until the batch's own event is applied
    received_on TEXT NOT NULL,
    counted BIGINT NOT NULL
);
