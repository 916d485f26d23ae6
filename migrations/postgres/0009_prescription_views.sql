-- Read model of prescriptions, built from the prescription streams of the
-- log; `filiere rebuild` empties and replays it. Households appear by their
-- opaque id only: names and contact details stay in `households`.
INSERT INTO projection_checkpoints (name, position) VALUES ('prescriptions', 0);

CREATE TABLE prescription_views (
    prescription_id TEXT PRIMARY KEY,
    -- PrescriptionStatus name: issued, accepted, declined, reserved,
    -- handed_over, returned, cancelled or expired.
    status TEXT NOT NULL,
    referrer_organisation TEXT NOT NULL,
    -- Workshop that accepted or declined it; NULL while issued.
    workshop_organisation TEXT,
    category TEXT NOT NULL,
    purpose TEXT NOT NULL,
    preferred_mode TEXT NOT NULL,
    -- loan, donation or solidarity_sale once handed over.
    handover_mode TEXT,
    household_id TEXT NOT NULL,
    commune TEXT NOT NULL,
    -- Device reserved or handed over; NULL before a reservation and after a
    -- release.
    device_id TEXT,
    device_code TEXT,
    training_prescribed BIGINT NOT NULL,
    training_attended BIGINT NOT NULL,
    trainings_missed BIGINT NOT NULL,
    -- Days as YYYY-MM-DD (UTC), so text order is date order.
    issued_on TEXT NOT NULL,
    accepted_on TEXT,
    handed_over_on TEXT,
    -- Due date of a loan, following its extensions; NULL for any other mode.
    due_on TEXT,
    returned_on TEXT,
    closed BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX prescription_views_by_referrer ON prescription_views (referrer_organisation, issued_on);
CREATE INDEX prescription_views_by_workshop ON prescription_views (workshop_organisation, status);
CREATE INDEX prescription_views_by_status ON prescription_views (status);
CREATE INDEX prescription_views_by_due ON prescription_views (due_on);
