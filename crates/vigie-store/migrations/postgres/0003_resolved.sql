-- The dashboard's flow (tickets resolved per hour) and its SLA compliance over the last 28 days
-- read the tickets resolved since an instant at start: an index range. A closed ticket's
-- resolution is never before its creation, so this also finds every one created since then.
CREATE INDEX tickets_by_resolved ON tickets (resolved_at, id);
