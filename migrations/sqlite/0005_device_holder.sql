-- Organisation holding each device, so that stock views and permission
-- checks can filter by it. Devices received before organisations existed
-- belong to "local".
ALTER TABLE stock_devices ADD COLUMN holder TEXT NOT NULL DEFAULT 'local';
CREATE INDEX stock_devices_by_holder ON stock_devices (holder);
