//! vigie's storage: the event log and the ticket projection, on SQLite or PostgreSQL.
//!
//! A write goes: [`Store::submit`] → the group-commit queue ([`writer`]) → a batch of commands
//! decided by `vigie-core` against the rows read in the same transaction → the events appended
//! and the projection upserted → one commit (one fsync for the whole batch) → every caller of
//! the batch answered. Reads go straight to SQL on a pool of reader connections.
//!
//! **Architecture Invariant:** a command is acknowledged only after the transaction that holds
//! its events and its projection row has committed durably (SQLite `synchronous=FULL` in WAL
//! mode; PostgreSQL `synchronous_commit=on`).
//!
//! **Architecture Invariant:** the two backends share one implementation of every query
//! ([`queries`], generic over the sqlx database); they differ only in the [`dialect`]: how
//! counters are handed out, row locks, and which errors are worth a retry.
//!
//! **Architecture Invariant:** this crate knows SQL, not HTTP: no status codes, no JSON
//! bodies (the JSON it writes is the storage format of event payloads).

mod codec;
mod dialect;
mod queries;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use vigie_core::directory::{Agent, Customer, Team};
use vigie_core::{
    Actor, AgentId, CommandError, CustomerId, Event, ExpectedVersion, NewComment, NewTicket, Priority, Role, Rules,
    Status, TeamId, Ticket, TicketId, TicketPatch,
};

pub use codec::{event_data, to_stored_precision};
use queries::Queries;
pub use writer::CommitListener;

/// What can go wrong in the store, apart from a command being refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with this key already exists (a team, an agent, a customer, a token).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The URL names no backend vigie knows.
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://...")]
    BadUrl(String),
    /// Stored data that does not parse: a bug or a damaged database, never the client's fault.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A bulk-loaded history that does not replay (a change before the creation, two creations).
    #[error("invalid ticket history: {0}")]
    InvalidHistory(String),
    /// The SQLite file's directory does not exist (vigie creates the file, not directories).
    #[error("the directory `{0}` does not exist")]
    MissingDirectory(String),
    /// The commit of a batch failed in a way that leaves its outcome unknown (the connection
    /// was lost during COMMIT): the commands may or may not have been recorded.
    #[error("the outcome of this write is unknown (the database connection failed during commit): {0}")]
    OutcomeUnknown(String),
    /// The database refused a statement of a command (a bug: the core should have refused the
    /// command first); nothing of that command was written.
    #[error("the database refused the write: {0}")]
    Refused(String),
    /// The database cannot take writes now (connection lost, server down); nothing was written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The writer has stopped (the server is shutting down).
    #[error("the store is shutting down")]
    Closed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::Corrupt(what.into())
    }
}

/// A ticket command as the store receives it: what, by whom, and when ("now" is decided by the
/// caller, never read here).
#[derive(Debug, Clone)]
pub struct Submission {
    pub command: TicketCommand,
    pub actor: Actor,
    pub now: Timestamp,
    /// The rules the command is decided under (SLA policies, calendars): those in force when
    /// it was submitted.
    pub rules: Arc<Rules>,
}

#[derive(Debug, Clone)]
pub enum TicketCommand {
    Create {
        new_ticket: NewTicket,
        idempotency: Option<IdempotencyKey>,
    },
    Patch {
        ticket_id: TicketId,
        expected: ExpectedVersion,
        patch: TicketPatch,
    },
    Comment {
        ticket_id: TicketId,
        comment: NewComment,
    },
    /// Gives the first of `candidates` still free to `agent` ("next ticket"): atomic, so that
    /// two claims never get the same ticket.
    Claim {
        agent: AgentId,
        candidates: Vec<TicketId>,
    },
    /// Merges `ticket_id` (if it is at `expected`) into `into`: both tickets decided and
    /// written in one transaction.
    Merge {
        ticket_id: TicketId,
        expected: ExpectedVersion,
        into: TicketId,
    },
    /// Records the SLA warnings and breaches due now (the scheduler's command).
    CheckSla {
        ticket_id: TicketId,
    },
    /// Applies the current SLA policies to an open ticket (an admin's request).
    ApplySla {
        ticket_id: TicketId,
    },
    /// Applies macro `name` (its changes and its reply) to the ticket, if it is at `expected`.
    ApplyMacro {
        ticket_id: TicketId,
        expected: ExpectedVersion,
        name: String,
    },
    /// Hands the ticket over along its category's path (see `vigie_core::workflow`), if it is
    /// at `expected`.
    HandOver {
        ticket_id: TicketId,
        expected: ExpectedVersion,
        handoff: vigie_core::workflow::Handoff,
    },
    /// Tells the customer the expected wait (`expected_start`, the pass's prediction) if it is
    /// longer than its channel tolerates and they were not told yet.
    NotifyWait {
        ticket_id: TicketId,
        expected_start: Timestamp,
    },
    /// Fires time rule `rule` on the ticket if it still applies (the automation pass's
    /// command; see `vigie_core::automation::automate`).
    Automate {
        ticket_id: TicketId,
        rule: String,
    },
}

/// A client's `Idempotency-Key` with a digest of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_digest: String,
}

/// An acknowledged command: durable by the time the caller sees it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub ticket: Ticket,
    /// The events recorded, with their sequence numbers (empty for a no-op or a replay).
    pub events: Vec<Event>,
    /// The command was a repeat of an earlier create with the same idempotency key and body:
    /// nothing new was written and `ticket` is the current state of the ticket it created.
    pub replayed: bool,
    /// The sequence number of the ticket's last event once this command is recorded (its own
    /// last event, or the one before it when it recorded nothing); 0 for a replay.
    pub last_seq: i64,
    /// The other tickets the command changed (a merge's target), each with the sequence number
    /// of its last event: the commit listener applies them like `ticket`.
    pub also: Vec<(Ticket, i64)>,
}

/// A ticket as stored, with the sequence number of its last event: what orders a copy read
/// from the store against the events applied as they commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub last_seq: i64,
}

/// Why a submission was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Rejected(#[from] CommandError),
    /// The idempotency key was used before with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which tickets a list returns, from where; oldest first.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    /// Any of these statuses; empty means any status.
    pub statuses: Vec<Status>,
    pub teams: Vec<TeamId>,
    pub priorities: Vec<Priority>,
    pub categories: Vec<String>,
    pub channels: Vec<vigie_core::Channel>,
    pub assignees: Vec<String>,
    pub customer_ids: Vec<CustomerId>,
    /// The teams the reader may see (agents); `None` means every ticket.
    pub scope: Option<Vec<TeamId>>,
    /// At most this many items (the caller bounds it).
    pub limit: u32,
    /// Start after this position (exclusive), from the previous page.
    pub after: Option<Cursor>,
}

/// A position in a list (oldest first: `created_at`, then `id`), for keyset pagination: the
/// sort key of the last item served. The prioritisation order is not the store's: the server's
/// live state holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn of(ticket: &Ticket) -> Self {
        Cursor { created_at: codec::micros(ticket.created_at), id: ticket.id.to_string() }
    }
}

#[derive(Debug, Clone)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Where a scan of the open tickets stopped ([`Store::open_tickets_page`]): opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCursor(String);

impl ScanCursor {
    pub(crate) fn new(key: String) -> Self {
        ScanCursor(key)
    }

    pub(crate) fn key(&self) -> &str {
        &self.0
    }
}

/// What a bulk load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadSummary {
    pub n_tickets: usize,
    /// Of those, the ones open (not solved or closed) at the end of their history.
    pub n_open: usize,
    pub n_events: usize,
}

/// An API token as stored: the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: String,
    pub name: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
}

/// The instant [`Store::for_each_since`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// `created_at`: every ticket, open or not.
    Created,
    /// `resolved_at`: the tickets no longer open.
    Resolved,
}

/// An alert that fired, with where it must go.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub rule: String,
    pub fired_at: Timestamp,
    pub value: f64,
    pub summary: String,
    /// What is sent (the server's JSON): the store keeps text.
    pub payload: String,
    /// The webhooks and mail lists to deliver it to.
    pub channels: Vec<String>,
}

/// One destination of a fired alert, and how its delivery went.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDelivery {
    /// Unique per delivery: what receivers deduplicate on.
    pub id: i64,
    pub rule: String,
    pub fired_at: Timestamp,
    pub value: f64,
    pub summary: String,
    pub payload: String,
    /// `""` when the rule notifies nobody.
    pub channel: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// What asking for another round of attempts at an outbox message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Given up before, queued again from now.
    Queued,
    NotFound,
    Delivered,
    /// Not given up: still being tried (or held).
    Pending,
}

/// How a delivery attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Delivered {
        at: Timestamp,
    },
    /// Failed; tried again at `retry_at`, or never again (`None`: given up).
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
    /// Not tried: its destination is not configured. Looked at again at `until`, without
    /// counting as an attempt.
    Held {
        reason: String,
        until: Timestamp,
    },
}

/// A message of the outbox: written with the event that queued it, delivered after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    /// Unique (`event-<seq>`): the Message-ID and webhook header receivers deduplicate on.
    pub delivery_key: String,
    pub event_seq: i64,
    pub ticket_id: String,
    /// Who queued it (`rule:<name>`, or the agent who applied a macro).
    pub actor: String,
    /// `customer` or `team`.
    pub audience: String,
    /// The customer's or the team's id.
    pub recipient: String,
    pub template: String,
    pub subject: String,
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: i64,
    /// When it is tried next; `None` once delivered or given up.
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    /// Where it went (an address, a webhook's name).
    pub destination: Option<String>,
    pub last_error: Option<String>,
    /// The customer's address on record now (customer messages).
    pub email: Option<String>,
}

/// Someone who signs in to the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Also the actor id of what they do (an agent signs in under their agent id).
    pub name: String,
    /// argon2, as a PHC string.
    pub password_hash: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
}

/// A signed-in session: the digest of the cookie's secret, the user, the form token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: String,
    pub user: String,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The backlog at an instant, as its writer (the server) spells it: the store keeps text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogSnapshot {
    pub at: Timestamp,
    /// `live` (taken at the instant) or `rebuilt` (reconstructed later from the histories).
    pub source: String,
    pub point: String,
}

/// A saved version of the engine's rules. The store keeps the document as text: its shape
/// belongs to whoever writes it (the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesRevision {
    pub revision: i64,
    pub at: Timestamp,
    /// Who changed them (a token's name, or `config-file`).
    pub actor: String,
    /// `file` or `api`.
    pub source: String,
    /// The digest of the configuration file it was read from, for revisions from a file.
    pub file_digest: Option<String>,
    pub document: String,
}

/// A revision to save, as the one after revision `base` (0 for the first).
#[derive(Debug, Clone)]
pub struct NewRulesRevision {
    /// The revision this one replaces: if another was saved since, the save is a conflict.
    pub base: i64,
    pub at: Timestamp,
    pub actor: String,
    pub source: String,
    pub file_digest: Option<String>,
    pub document: String,
}

/// Rows rebuilt per transaction when the store fills in what older versions did not record.
const BACKFILL_CHUNK: u32 = 1_000;

/// The advisory lock key of the scheduler's lease (any constant; "vigie-sc" in ASCII).
const SCHEDULER_LOCK: i64 = 0x7669_6769_652d_7363;

/// The advisory lock of the alerts' evaluation and delivery.
const ALERTS_LOCK: i64 = 0x7669_6769_652d_616c;

/// The advisory lock of the time rules and the outbox's delivery.
const AUTOMATION_LOCK: i64 = 0x7669_6769_652d_6175;

/// The right to run the scheduler, or the alerts (see [`Store::scheduler_lease`]).
pub struct SchedulerLease {
    /// PostgreSQL: the connection holding the advisory lock.
    connection: Option<sqlx::PgConnection>,
    key: i64,
}

impl SchedulerLease {
    /// Whether the lease still holds: its connection answers (a lost connection lost the lock).
    pub async fn is_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => sqlx::query("SELECT 1").execute(&mut *connection).await.is_ok(),
        }
    }

    /// Gives the lease up at once (dropping it gives it up when the database notices the
    /// connection closed).
    pub async fn release(mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(self.key).execute(&mut connection).await;
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}

/// The store: one of the two backends behind one set of domain verbs.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writer: writer::Writer,
}

#[derive(Clone)]
enum Backend {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
        /// The background checkpoints (see [`checkpoints`]); aborted on close.
        checkpoints: Arc<tokio::task::JoinHandle<()>>,
    },
    Postgres(PgPool),
}

/// Dispatches one generic query to the backend in hand.
macro_rules! on_backend {
    ($self:expr, |$conn:ident, $q:ident| $body:expr) => {
        match &$self.backend {
            Backend::Sqlite { readers, .. } => {
                type $q = Queries<Sqlite>;
                let mut pooled = readers.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
            Backend::Postgres(pool) => {
                type $q = Queries<Postgres>;
                let mut pooled = pool.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

/// Dispatches one generic write to the backend's writing connection. Directory writes are
/// rare single statements: they go straight to the database (autocommit, durable) rather than
/// through the group-commit queue, which is built for ticket commands. On SQLite they take the
/// one writer connection between two batches.
macro_rules! on_writer {
    ($self:expr, |$conn:ident, $q:ident| $body:expr) => {
        match &$self.backend {
            Backend::Sqlite { writer, .. } => {
                type $q = Queries<Sqlite>;
                let mut pooled = writer.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
            Backend::Postgres(pool) => {
                type $q = Queries<Postgres>;
                let mut pooled = pool.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

/// How often the SQLite WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// Copies the SQLite WAL back into the database file, beside the writer. PASSIVE never waits
/// for (nor blocks) readers or the writer; it copies what it can, and the next round the rest.
/// The WAL itself is fsynced at every commit, so durability does not depend on this task.
async fn checkpoints(pool: SqlitePool) {
    let mut interval = tokio::time::interval(CHECKPOINT_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::warn!(%error, "WAL checkpoint failed; retrying");
        }
    }
}

/// How many reader connections SQLite gets: enough to keep 2 cores busy while one waits on I/O.
const SQLITE_READERS: u32 = 4;
/// PostgreSQL connections per instance: writers plus readers.
const POSTGRES_CONNECTIONS: u32 = 16;

impl Store {
    /// Opens (creating if needed) the database at `url` — a file path, `sqlite://PATH` or
    /// `postgres://...` — runs the migrations and starts the group-commit writer.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Durability must not depend on how the server or role is tuned: an acknowledged
            // write waits for the WAL flush, whatever `synchronous_commit` says elsewhere.
            let options = PgConnectOptions::from_str(url)?.options([("synchronous_commit", "on")]);
            // One plain connection first, so that a refused or misconfigured server is reported
            // at once with its real cause, rather than as a pool time-out.
            sqlx::Connection::close(sqlx::ConnectOptions::connect(&options).await?).await?;
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            if path.is_empty() || url.contains("://") && !url.starts_with("sqlite://") {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            if url.starts_with("sqlite:") && path.contains('?') {
                return Err(StoreError::BadUrl(format!(
                    "{url}` (no query parameters: vigie sets the SQLite options itself)"
                )));
            }
            let directory = std::path::Path::new(path).parent().filter(|dir| !dir.as_os_str().is_empty());
            if let Some(directory) = directory
                && !directory.is_dir()
            {
                return Err(StoreError::MissingDirectory(directory.display().to_string()));
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: the WAL is fsynced at every commit, so an acknowledged write survives
                // a power cut, not only a process crash (NORMAL would risk the last commits).
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // A million tickets' indexes do not fit SQLite's default 2 MiB page cache:
                // give each connection 64 MiB, and read through a memory map of the file.
                .pragma("cache_size", "-65536")
                .pragma("mmap_size", "1073741824");
            // One writer connection: SQLite has one writer at a time anyway, and a single
            // connection lets the group-commit task own the write lock without contention.
            // Copying the WAL back into the database is mostly done by `checkpoints`, beside
            // the writer, so that the automatic checkpoint a commit may trigger finds little
            // left to copy (measured: create p99 at 1M tickets 162 ms -> 6 ms, with the cache).
            let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            sqlx::migrate!("migrations/sqlite").run(&writer).await?;
            let readers = SqlitePoolOptions::new()
                .max_connections(SQLITE_READERS)
                .connect_with(options.clone().read_only(true))
                .await?;
            let checkpointer = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
            let checkpoints = Arc::new(tokio::spawn(checkpoints(checkpointer)));
            Backend::Sqlite { writer, readers, checkpoints }
        };
        let writer = writer::Writer::start(&backend);
        let store = Store { backend, writer };
        store.backfill().await?;
        Ok(store)
    }

    /// Rebuilds from the event log the projection columns that rows written by an older
    /// version lack (the status history), a chunk per transaction, before anything reads them.
    async fn backfill(&self) -> Result<(), StoreError> {
        let mut total = 0;
        let mut after: Option<String> = None;
        loop {
            let rebuilt = match &self.backend {
                Backend::Sqlite { writer, .. } => {
                    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                    let rebuilt =
                        Queries::<Sqlite>::backfill_status_history(&mut tx, after.as_deref(), BACKFILL_CHUNK).await?;
                    tx.commit().await?;
                    rebuilt
                }
                Backend::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    let rebuilt =
                        Queries::<Postgres>::backfill_status_history(&mut tx, after.as_deref(), BACKFILL_CHUNK).await?;
                    tx.commit().await?;
                    rebuilt
                }
            };
            let Some(last) = rebuilt.last() else { break };
            after = Some(last.clone());
            total += rebuilt.len();
        }
        if total > 0 {
            tracing::info!(n_tickets = total, "rebuilt the status history of tickets recorded by an older version");
        }
        Ok(())
    }

    /// Registers the one function told of every commit that recorded events, after the commit
    /// and before the callers are answered: what keeps an in-memory view (the live state) as
    /// fresh as what a caller has been told. It runs on the writer's task: it must be quick and
    /// must not wait on the store. Bulk loads do not call it.
    pub fn on_commit(&self, listener: CommitListener) {
        self.writer.set_listener(listener);
    }

    /// Every open ticket, `limit` at a time, without their texts (subject, body and tags are
    /// left empty): for building in-memory views. Pass the cursor returned with a page to get
    /// the next; `None` comes back after the last. The order is the storage's (the fastest to
    /// read), not a meaningful one.
    pub async fn open_tickets_page(
        &self,
        after: Option<&ScanCursor>,
        limit: u32,
    ) -> Result<(Vec<StoredTicket>, Option<ScanCursor>), StoreError> {
        on_backend!(self, |conn, Q| Q::open_tickets_page(conn, after, limit, false).await)
    }

    /// [`Store::open_tickets_page`] with the texts (subject, body, tags): for the index of
    /// similar open tickets.
    pub async fn open_tickets_page_with_texts(
        &self,
        after: Option<&ScanCursor>,
        limit: u32,
    ) -> Result<(Vec<StoredTicket>, Option<ScanCursor>), StoreError> {
        on_backend!(self, |conn, Q| Q::open_tickets_page(conn, after, limit, true).await)
    }

    /// Every ticket whose `by` instant is after `since` — created (open or not), or resolved
    /// (no longer open) — handed to `each` a page of `page` tickets at a time, in the order of
    /// that instant then id: an index range, never the whole table. A closed ticket's
    /// resolution is never before its creation, so `Resolved` also finds every closed ticket
    /// created since.
    pub async fn for_each_since(
        &self,
        by: Since,
        since: Timestamp,
        page: u32,
        each: impl FnMut(Vec<StoredTicket>),
    ) -> Result<(), StoreError> {
        self.scan_since(by, since, page, false, each).await
    }

    /// [`Store::for_each_since`] with the tickets' texts (subject, body, tags).
    pub async fn for_each_since_with_texts(
        &self,
        by: Since,
        since: Timestamp,
        page: u32,
        each: impl FnMut(Vec<StoredTicket>),
    ) -> Result<(), StoreError> {
        self.scan_since(by, since, page, true, each).await
    }

    async fn scan_since(
        &self,
        by: Since,
        since: Timestamp,
        page: u32,
        texts: bool,
        mut each: impl FnMut(Vec<StoredTicket>),
    ) -> Result<(), StoreError> {
        let mut after: Option<(Timestamp, String)> = None;
        loop {
            let cursor = after.as_ref().map(|(at, id)| (*at, id.as_str()));
            let rows = on_backend!(self, |conn, Q| Q::tickets_since_page(conn, by, since, cursor, page, texts).await)?;
            let full = rows.len() == page as usize;
            let Some(last) = rows.last() else { return Ok(()) };
            let key = match by {
                Since::Created => Some(last.ticket.created_at),
                Since::Resolved => last.ticket.resolved_at,
            };
            after = key.map(|at| (at, last.ticket.id.as_str().to_owned()));
            each(rows);
            if !full || after.is_none() {
                return Ok(());
            }
        }
    }

    /// The tickets with these ids, in no particular order; unknown ids are left out.
    pub async fn tickets_by_ids(&self, ids: &[TicketId]) -> Result<Vec<Ticket>, StoreError> {
        Ok(self.stored_tickets(ids).await?.into_iter().map(|stored| stored.ticket).collect())
    }

    /// Which of `ids` are stored, without reading the tickets (imports skip them).
    pub async fn existing_ticket_ids(
        &self,
        ids: &[TicketId],
    ) -> Result<std::collections::HashSet<TicketId>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let existing: Vec<String> = on_backend!(self, |conn, Q| Q::existing_ticket_ids(conn, ids).await)?;
        existing.into_iter().map(|id| TicketId::parse(id).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }

    /// [`Store::tickets_by_ids`] with each ticket's last sequence number.
    pub async fn stored_tickets(&self, ids: &[TicketId]) -> Result<Vec<StoredTicket>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_backend!(self, |conn, Q| Q::tickets_by_ids(conn, ids).await)
    }

    /// The events after sequence number `after`, in sequence order, at most `limit`: each
    /// one's number and ticket. With several writers (PostgreSQL) numbers are handed out before
    /// the commits, so an event may appear after higher numbers did: readers that follow the
    /// log look back a window (see the server's log tail).
    pub async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, TicketId)>, StoreError> {
        on_backend!(self, |conn, Q| Q::events_since(conn, after, limit).await)
    }

    /// The highest event sequence number on record (0 for none).
    pub async fn last_event_seq(&self) -> Result<i64, StoreError> {
        on_backend!(self, |conn, Q| Q::last_event_seq(conn).await)
    }

    /// Whether several server instances may share this store (PostgreSQL): they then follow
    /// each other's commits through the log and elect one scheduler.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Tries to become the one instance that runs the scheduler: on PostgreSQL an advisory
    /// lock held by a connection of its own (released when the lease is dropped or the
    /// connection lost); on SQLite (one server per file) always granted.
    pub async fn scheduler_lease(&self) -> Result<Option<SchedulerLease>, StoreError> {
        self.lease(SCHEDULER_LOCK).await
    }

    /// Tries to become the one instance that evaluates and delivers the alerts (as
    /// [`Store::scheduler_lease`], with a lock of its own).
    pub async fn alerts_lease(&self) -> Result<Option<SchedulerLease>, StoreError> {
        self.lease(ALERTS_LOCK).await
    }

    async fn lease(&self, key: i64) -> Result<Option<SchedulerLease>, StoreError> {
        match &self.backend {
            Backend::Sqlite { .. } => Ok(Some(SchedulerLease { connection: None, key })),
            Backend::Postgres(pool) => {
                let mut connection = pool.acquire().await?.detach();
                let held: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut connection).await?;
                Ok(held.then_some(SchedulerLease { connection: Some(connection), key }))
            }
        }
    }

    /// The rules in force: the newest revision saved, if any.
    pub async fn latest_rules(&self) -> Result<Option<RulesRevision>, StoreError> {
        on_backend!(self, |conn, Q| Q::latest_rules(conn).await)
    }

    /// Saves a new revision of the rules; its number. Two concurrent saves: one is a
    /// [`StoreError::Conflict`].
    pub async fn save_rules(&self, revision: &NewRulesRevision) -> Result<i64, StoreError> {
        on_writer!(self, |conn, Q| Q::insert_rules(conn, revision).await)
    }

    /// Records backlog snapshots; an instant already recorded keeps the one recorded first
    /// (several instances may take the same hour's).
    pub async fn save_backlog_snapshots(&self, snapshots: &[BacklogSnapshot]) -> Result<(), StoreError> {
        if snapshots.is_empty() {
            return Ok(());
        }
        on_writer!(self, |conn, Q| Q::insert_backlog_snapshots(conn, snapshots).await)
    }

    /// The backlog snapshots taken at instants in `[from, to]`, in time order.
    pub async fn backlog_snapshots(&self, from: Timestamp, to: Timestamp) -> Result<Vec<BacklogSnapshot>, StoreError> {
        on_backend!(self, |conn, Q| Q::backlog_snapshots(conn, from, to).await)
    }

    /// Which backend this is, for logs: `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Submits a ticket command and waits until it is durably committed (or refused).
    pub async fn submit(&self, mut submission: Submission) -> Result<Committed, SubmitError> {
        submission.now = codec::to_stored_precision(submission.now);
        self.writer.submit(submission).await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, |conn, Q| Q::ping(conn).await)
    }

    pub async fn ticket(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        on_backend!(self, |conn, Q| Q::ticket(conn, id).await)
    }

    pub async fn list_tickets(&self, query: &TicketQuery) -> Result<TicketPage, StoreError> {
        on_backend!(self, |conn, Q| Q::list_tickets(conn, query).await)
    }

    /// Every event of a ticket, in sequence order.
    pub async fn ticket_events(&self, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        on_backend!(self, |conn, Q| Q::ticket_events(conn, id).await)
    }

    pub async fn count_tickets(&self) -> Result<i64, StoreError> {
        on_backend!(self, |conn, Q| Q::count_tickets(conn).await)
    }

    pub async fn teams(&self) -> Result<Vec<Team>, StoreError> {
        on_backend!(self, |conn, Q| Q::teams(conn).await)
    }

    pub async fn agents(&self) -> Result<Vec<Agent>, StoreError> {
        on_backend!(self, |conn, Q| Q::agents(conn).await)
    }

    pub async fn customers(&self) -> Result<Vec<Customer>, StoreError> {
        on_backend!(self, |conn, Q| Q::customers(conn).await)
    }

    /// The token whose secret hashes to `hash`, if any.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_backend!(self, |conn, Q| Q::token_by_hash(conn, hash).await)
    }

    /// Every token, by name (their hashes, never secrets).
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        on_backend!(self, |conn, Q| Q::tokens(conn).await)
    }

    /// Revokes the token named `name`; `false` if there is none. Servers that cached it stop
    /// accepting it within their cache's lifetime (seconds).
    pub async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        on_writer!(self, |conn, Q| Q::delete_token(conn, name).await)
    }

    pub async fn create_team(&self, team: &Team, now: Timestamp) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_team(conn, team, now).await)
    }

    pub async fn create_agent(&self, agent: &Agent, now: Timestamp) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_agent(conn, agent, now).await)
    }

    pub async fn create_customer(&self, customer: &Customer, now: Timestamp) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_customer(conn, customer, now).await)
    }

    pub async fn create_token(&self, token: &TokenRecord, now: Timestamp) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_token(conn, token, now).await)
    }

    /// Records a fired alert and its deliveries to make, in one statement.
    pub async fn record_alert(&self, alert: &NewAlert) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_alert(conn, alert).await)
    }

    /// The payloads of `rule`'s alerts fired after `since` (each once, whatever its
    /// destinations), the latest first, at most 1,000.
    pub async fn alert_payloads_since(&self, rule: &str, since: Timestamp) -> Result<Vec<String>, StoreError> {
        on_backend!(self, |conn, Q| Q::alert_payloads_since(conn, rule, since).await)
    }

    /// When `rule` last fired.
    pub async fn last_alert_at(&self, rule: &str) -> Result<Option<Timestamp>, StoreError> {
        on_backend!(self, |conn, Q| Q::last_alert_at(conn, rule).await)
    }

    /// Deliveries due at `now`, the longest waiting first.
    pub async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<AlertDelivery>, StoreError> {
        on_backend!(self, |conn, Q| Q::alert_rows(conn, Some(now), limit).await)
    }

    /// Records an attempt at a delivery.
    pub async fn record_delivery(&self, id: i64, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::update_delivery(conn, id, outcome).await)
    }

    /// Outbox messages due at `now`, the longest waiting first.
    pub async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        on_backend!(self, |conn, Q| Q::outbox_rows(conn, Some(now), None, limit).await)
    }

    /// The latest outbox messages, newest first, optionally of one ticket.
    pub async fn outbox(&self, ticket: Option<&TicketId>, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        let ticket = ticket.map(TicketId::as_str);
        on_backend!(self, |conn, Q| Q::outbox_rows(conn, None, ticket, limit).await)
    }

    /// Records an attempt at delivering an outbox message (a delivered one stays delivered).
    pub async fn record_message_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        destination: Option<&str>,
    ) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::update_outbox(conn, id, outcome, destination).await)
    }

    /// Gives an outbox message that was given up (after its last attempt) a new round of
    /// attempts from `now`: its attempts counted from zero, due at once.
    pub async fn retry_message(&self, id: i64, now: Timestamp) -> Result<RetryOutcome, StoreError> {
        on_writer!(self, |conn, Q| Q::retry_outbox(conn, id, now).await)
    }

    /// Tries to become the one instance that runs the time rules and delivers the outbox (as
    /// [`Store::scheduler_lease`], with a lock of its own).
    pub async fn automation_lease(&self) -> Result<Option<SchedulerLease>, StoreError> {
        self.lease(AUTOMATION_LOCK).await
    }

    /// The latest alerts (one row per destination), newest first.
    pub async fn alert_history(&self, limit: u32) -> Result<Vec<AlertDelivery>, StoreError> {
        on_backend!(self, |conn, Q| Q::alert_rows(conn, None, limit).await)
    }

    /// Records a user; a taken name is a [`StoreError::Conflict`].
    pub async fn create_user(&self, user: &UserRecord, now: Timestamp) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_user(conn, user, now).await)
    }

    /// Replaces a user's password hash and ends their sessions (a password changed because it
    /// leaked must lock out whoever used it); whether the user exists.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        on_writer!(self, |conn, Q| Q::update_password(conn, name, password_hash).await)
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        on_backend!(self, |conn, Q| Q::user(conn, name).await)
    }

    /// Records a session (and clears the ended ones).
    pub async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::insert_session(conn, session).await)
    }

    /// The session with this digest and its user, unless it has ended at `now`.
    pub async fn session(&self, hash: &str, now: Timestamp) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        on_backend!(self, |conn, Q| Q::session(conn, hash, now).await)
    }

    pub async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        on_writer!(self, |conn, Q| Q::delete_session(conn, hash).await)
    }

    /// Loads tickets as they are (benchmarks, imports without history), each with one
    /// `ticket_created` event holding its current state. See [`Store::load_histories`].
    pub async fn load_tickets(&self, tickets: &[Ticket], actor: &str) -> Result<LoadSummary, StoreError> {
        let histories: Vec<Vec<Event>> = tickets
            .iter()
            .map(|ticket| {
                vec![Event {
                    seq: 0,
                    ticket_id: ticket.id.clone(),
                    version: ticket.version,
                    at: ticket.created_at,
                    actor: actor.to_owned(),
                    kind: vigie_core::EventKind::TicketCreated(Box::new(ticket.clone())),
                }]
            })
            .collect();
        self.load_histories(histories).await
    }

    /// Loads whole ticket histories (demo data, imports): each element is one ticket's events
    /// in order, from its `ticket_created`; the stored ticket is their replay. Transactions of
    /// a thousand tickets; no check beyond the replay and the database's constraints, so this
    /// is for trusted bulk data, not live commands. An id already stored is a
    /// [`StoreError::Conflict`]; a history that does not replay is a [`StoreError::InvalidHistory`].
    pub async fn load_histories(&self, histories: Vec<Vec<Event>>) -> Result<LoadSummary, StoreError> {
        let histories: Vec<Vec<Event>> = histories
            .into_iter()
            .map(|history| history.into_iter().map(codec::event_to_stored_precision).collect())
            .collect();
        let mut total = LoadSummary::default();
        for chunk in histories.chunks(queries::LOAD_CHUNK) {
            let summary = match &self.backend {
                Backend::Sqlite { writer, .. } => {
                    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                    let summary = Queries::<Sqlite>::load_histories(&mut tx, chunk).await?;
                    tx.commit().await?;
                    summary
                }
                Backend::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    let summary = Queries::<Postgres>::load_histories(&mut tx, chunk).await?;
                    tx.commit().await?;
                    summary
                }
            };
            total.n_tickets += summary.n_tickets;
            total.n_open += summary.n_open;
            total.n_events += summary.n_events;
        }
        Ok(total)
    }

    /// Stops the writer after the commands already queued, then closes the pools.
    pub async fn close(&self) {
        self.writer.shutdown().await;
        match &self.backend {
            Backend::Sqlite { writer, readers, checkpoints } => {
                checkpoints.abort();
                readers.close().await;
                // The last connection to close checkpoints the WAL into the database.
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
