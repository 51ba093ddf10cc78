-- Alerts fired, one row per destination (a webhook or a mail list; '' when a rule notifies
-- nobody): the history and the outbox at once. The rows of one firing are written by one
-- statement; a delivery is retried with backoff until `delivered_at` is set or it gives up.
CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    rule TEXT NOT NULL,
    fired_at BIGINT NOT NULL,
    value TEXT NOT NULL,
    summary TEXT NOT NULL,
    payload TEXT NOT NULL,
    channel TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX alerts_by_rule ON alerts (rule, fired_at);
CREATE INDEX alerts_due ON alerts (next_attempt_at);
