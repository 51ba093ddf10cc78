-- Automation. A ticket remembers the time rules that fired since its last status change (`;`
-- joined), so that each fires once per status.
ALTER TABLE tickets ADD COLUMN rules_applied TEXT NOT NULL DEFAULT '';
-- Where a customer's messages go.
ALTER TABLE customers ADD COLUMN email TEXT;
-- The outbox: one row per `message_queued` event, written in the transaction that records the
-- event, delivered after the commit by a worker with retries. `delivery_key` is the event's
-- number: unique, and what a receiver deduplicates a resend on (Message-ID, webhook header).
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    delivery_key TEXT NOT NULL UNIQUE,
    event_seq BIGINT NOT NULL,
    ticket_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    audience TEXT NOT NULL,
    recipient TEXT NOT NULL,
    template TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    destination TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
CREATE INDEX outbox_by_ticket ON outbox (ticket_id, id);
