-- SLA: what the clock of each ticket needs, kept in the projection so that the open tickets'
-- deadlines can be computed at start without reading the event log.
-- `status_history`: every status entered, `status@micros` joined by `;` (NULL on rows written
-- before this migration: the store rebuilds them from the event log when it opens).
-- `sla_targets`: the targets applied, as JSON (NULL: no policy matched).
-- `sla_marks`: the warnings and breaches recorded, as bits (1 first response at risk,
-- 2 first response breached, 4 resolution at risk, 8 resolution breached).
-- `last_seq`: the sequence number of the ticket's last event, so that a copy of the ticket
-- read from here can be ordered against the events a server applies as they commit.
ALTER TABLE tickets ADD COLUMN language TEXT;
ALTER TABLE tickets ADD COLUMN status_history TEXT;
ALTER TABLE tickets ADD COLUMN sla_targets TEXT;
ALTER TABLE tickets ADD COLUMN sla_marks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET last_seq = COALESCE((SELECT MAX(seq) FROM events WHERE events.ticket_id = tickets.id), 0);

-- The engine's rules (calendars, SLA policies, queue weights, handle times), every version
-- kept: who changed what, when, from the configuration file or through the API. The newest
-- revision is the one in force. `file_digest` is the digest of the configuration file a
-- revision was read from, so that a server started again on the same file does not undo
-- changes made through the API since.
CREATE TABLE rules_revisions (
    revision INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    file_digest TEXT,
    document TEXT NOT NULL
);

-- The prioritisation order now lives in the server's live state; SQL lists run in creation
-- order only. The open tickets of a team (or of all teams) oldest first are an index range.
DROP INDEX tickets_by_queue;
DROP INDEX tickets_by_team_queue;
CREATE INDEX tickets_by_open_created ON tickets (is_open, created_at, id);
CREATE INDEX tickets_by_team_open_created ON tickets (team, is_open, created_at, id);
