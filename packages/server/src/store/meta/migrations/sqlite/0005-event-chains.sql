-- Each device's sync events form a chain through the append-only event log: an event points to the
-- device's previously recorded event (prev_id), and the device's state points to the newest
-- (last_event_id). History walks the chain by primary key, so recording an event appends to the
-- table and touches no per-device index: an index on (dev_no, at) took a random leaf page per event
-- (a 4 KiB page written to the WAL and checkpointed for each ~40-byte event, 15× the cost of the
-- insert itself at 10 million events).
ALTER TABLE sync_events ADD COLUMN prev_id INTEGER;
ALTER TABLE device_sync_state ADD COLUMN last_event_id INTEGER;

UPDATE sync_events SET prev_id = p.prev
FROM (SELECT id, LAG(id) OVER (PARTITION BY dev_no ORDER BY at, id) AS prev FROM sync_events) AS p
WHERE p.id = sync_events.id AND p.prev IS NOT NULL;

UPDATE device_sync_state SET last_event_id = (
  SELECT e.id FROM sync_events e WHERE e.dev_no = device_sync_state.dev_no ORDER BY e.at DESC, e.id DESC LIMIT 1
);

DROP INDEX sync_events_device;
