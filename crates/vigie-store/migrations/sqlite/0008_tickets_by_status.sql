-- The time rules that apply to solved tickets read them every minute (`status = 'solved'`,
-- oldest first): an index range, not a walk of every ticket ever recorded.
CREATE INDEX tickets_by_status_created ON tickets (status, created_at, id);
