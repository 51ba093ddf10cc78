-- The ticket projection: the current state of each ticket, rebuilt from `events` if need be.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at INTEGER,
    status TEXT NOT NULL,
    is_open BOOLEAN NOT NULL,
    priority INTEGER NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    customer_tier TEXT NOT NULL,
    team TEXT,
    assignee TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    csat INTEGER,
    tags TEXT NOT NULL,
    legal_risk BOOLEAN NOT NULL,
    blocking BOOLEAN NOT NULL
);
CREATE INDEX tickets_by_created ON tickets (created_at, id);
CREATE INDEX tickets_by_queue ON tickets (is_open, priority, created_at, id);
CREATE INDEX tickets_by_team_queue ON tickets (team, is_open, priority, created_at, id);
CREATE INDEX tickets_by_team_created ON tickets (team, created_at, id);

-- The event log: every change of every ticket. `seq` grows with each event; on SQLite (one
-- writer) it is also the commit order, on PostgreSQL (several writers) it may not be.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_by_ticket ON events (ticket_id, seq);

-- Counters handed out by the single writer: ticket numbers and event sequence numbers.
CREATE TABLE sequences (
    name TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('ticket_number', 0), ('event_seq', 0);

CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    calendar TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    teams TEXT NOT NULL,
    skill_categories TEXT NOT NULL,
    skill_languages TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- A customer first seen on a ticket is recorded with `auto_created`: an admin may then name it
-- and set its tier once (POST /customers), where a record an admin made is a conflict.
CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    auto_created BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);

-- API tokens: only the SHA-256 of the secret is kept.
-- The name is the actor of every change made with the token, and the scope of its idempotency
-- keys: unique, so that two people are never one actor.
CREATE TABLE api_tokens (
    hash TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    teams TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Idempotency keys of creates, per token name: the same key and body give the first result.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
