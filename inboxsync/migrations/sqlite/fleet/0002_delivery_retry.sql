-- A delivery whose handling failed waits until next_at before it is tried
-- again (backoff); last_error says why its last attempt failed. A delivery
-- done (done_at) with last_error set failed for good.
ALTER TABLE fleet_deliveries ADD COLUMN next_at TEXT;
ALTER TABLE fleet_deliveries ADD COLUMN last_error TEXT;
