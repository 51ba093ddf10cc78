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
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use vigie_core::directory::{Agent, Customer, Team};
use vigie_core::{
    Actor, CommandError, CustomerId, Event, ExpectedVersion, NewComment, NewTicket, Priority, Role, Status, TeamId,
    Ticket, TicketId, TicketPatch,
};

pub use codec::{event_data, to_stored_precision};
use queries::Queries;

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
}

#[derive(Debug, Clone)]
pub enum TicketCommand {
    Create { new_ticket: NewTicket, idempotency: Option<IdempotencyKey> },
    Patch { ticket_id: TicketId, expected: ExpectedVersion, patch: TicketPatch },
    Comment { ticket_id: TicketId, comment: NewComment },
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

/// Which tickets a list returns, in which order, from where.
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
    pub order: TicketOrder,
    /// At most this many items (the caller bounds it).
    pub limit: u32,
    /// Start after this position (exclusive), from the previous page.
    pub after: Option<Cursor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketOrder {
    /// Oldest first: `created_at`, then `id`.
    #[default]
    Created,
    /// Most urgent first: `priority` (P1 first), then oldest first (`created_at`, then `id`).
    Queue,
}

/// A position in a list, for keyset pagination: the sort key of the last item served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub priority: i64,
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn of(ticket: &Ticket) -> Self {
        Cursor {
            priority: ticket.priority.rank(),
            created_at: codec::micros(ticket.created_at),
            id: ticket.id.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// An API token as stored: the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: String,
    pub name: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
}

/// The store: one of the two backends behind one set of domain verbs.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writer: writer::Writer,
}

#[derive(Clone)]
enum Backend {
    Sqlite { writer: SqlitePool, readers: SqlitePool },
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

/// How many reader connections SQLite gets: enough to keep 2 cores busy while one waits on I/O.
const SQLITE_READERS: u32 = 4;
/// PostgreSQL connections per instance: writers plus readers.
const POSTGRES_CONNECTIONS: u32 = 16;

impl Store {
    /// Opens (creating if needed) the database at `url` — a file path, `sqlite://PATH` or
    /// `postgres://...` — runs the migrations and starts the group-commit writer.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
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
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: the WAL is fsynced at every commit, so an acknowledged write survives
                // a power cut, not only a process crash (NORMAL would risk the last commits).
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // One writer connection: SQLite has one writer at a time anyway, and a single
            // connection lets the group-commit task own the write lock without contention.
            let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            sqlx::migrate!("migrations/sqlite").run(&writer).await?;
            let readers =
                SqlitePoolOptions::new().max_connections(SQLITE_READERS).connect_with(options.read_only(true)).await?;
            Backend::Sqlite { writer, readers }
        };
        let writer = writer::Writer::start(&backend);
        Ok(Store { backend, writer })
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

    /// Loads tickets as they are (demo data, benchmarks, imports), each with its
    /// `ticket_created` event, in transactions of a few thousand rows. Not for live commands:
    /// no check is made beyond the database's own constraints.
    pub async fn load_tickets(&self, tickets: &[Ticket], actor: &str) -> Result<(), StoreError> {
        let precise = |at| codec::to_stored_precision(at);
        let tickets: Vec<Ticket> = tickets
            .iter()
            .map(|ticket| Ticket {
                created_at: precise(ticket.created_at),
                updated_at: precise(ticket.updated_at),
                first_response_at: ticket.first_response_at.map(precise),
                resolved_at: ticket.resolved_at.map(precise),
                ..ticket.clone()
            })
            .collect();
        for chunk in tickets.chunks(queries::LOAD_CHUNK) {
            match &self.backend {
                Backend::Sqlite { writer, .. } => {
                    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                    Queries::<Sqlite>::load_tickets(&mut tx, chunk, actor).await?;
                    tx.commit().await?;
                }
                Backend::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    Queries::<Postgres>::load_tickets(&mut tx, chunk, actor).await?;
                    tx.commit().await?;
                }
            }
        }
        Ok(())
    }

    /// Stops the writer after the commands already queued, then closes the pools.
    pub async fn close(&self) {
        self.writer.shutdown().await;
        match &self.backend {
            Backend::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
