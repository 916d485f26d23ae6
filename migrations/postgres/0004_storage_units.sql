-- Storage units found at each device's latest diagnosis, by the match key of
-- their serial (upper case, letters and digits only), so that a disk report
-- or an erasure log can be matched to its device. Part of the stock
-- projection: rebuilt with it.
CREATE TABLE stock_storage_units (
    device_id TEXT NOT NULL,
    unit TEXT NOT NULL,
    match_key TEXT NOT NULL,
    PRIMARY KEY (device_id, unit)
);
CREATE INDEX stock_storage_units_by_key ON stock_storage_units (match_key);
