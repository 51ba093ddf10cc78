//! What differs between SQLite and PostgreSQL, and nothing else.

use std::future::Future;

use sqlx::{Database, PgConnection, Postgres, Sqlite, SqliteConnection};

/// The counters the store hands out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    /// The number in a new ticket's id (`T-<number>`).
    TicketNumber,
    /// The global sequence number of an event.
    EventSeq,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Counter::TicketNumber => "ticket_number",
            Counter::EventSeq => "event_seq",
        }
    }
}

pub(crate) trait Dialect: Database {
    /// Appended to the SELECT that reads the rows a batch will change.
    const LOCK_FOR_UPDATE: &'static str;

    /// `n` fresh values of `counter`, increasing, inside the current transaction.
    fn next_values(
        conn: &mut Self::Connection,
        counter: Counter,
        n: i64,
    ) -> impl Future<Output = Result<Vec<i64>, sqlx::Error>> + Send;

    /// Makes sure `counter` never hands out `value` or less from now on.
    fn advance_to(
        conn: &mut Self::Connection,
        counter: Counter,
        value: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// How many rows a statement changed (sqlx has no generic accessor for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Whether retrying the same transaction may succeed (deadlock, serialization failure).
    fn is_transient(error: &sqlx::Error) -> bool;
}

impl Dialect for Sqlite {
    // SQLite locks the whole database for the writer (BEGIN IMMEDIATE): no row locks needed.
    const LOCK_FOR_UPDATE: &'static str = "";

    async fn next_values(conn: &mut SqliteConnection, counter: Counter, n: i64) -> Result<Vec<i64>, sqlx::Error> {
        // One writer at a time, so a counter row is as good as a sequence and is rolled back
        // with the transaction, leaving no gaps.
        let last: i64 = sqlx::query_scalar("UPDATE sequences SET value = value + $1 WHERE name = $2 RETURNING value")
            .bind(n)
            .bind(counter.name())
            .fetch_one(&mut *conn)
            .await?;
        Ok((last - n + 1..=last).collect())
    }

    async fn advance_to(conn: &mut SqliteConnection, counter: Counter, value: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sequences SET value = MAX(value, $1) WHERE name = $2")
            .bind(value)
            .bind(counter.name())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn is_transient(error: &sqlx::Error) -> bool {
        // SQLITE_BUSY (5) can only come from another process holding the file.
        matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("5"))
    }
}

impl Dialect for Postgres {
    const LOCK_FOR_UPDATE: &'static str = " FOR UPDATE";

    async fn next_values(conn: &mut PgConnection, counter: Counter, n: i64) -> Result<Vec<i64>, sqlx::Error> {
        // Real sequences, so that concurrent writers (several instances, several writer tasks)
        // never queue on one counter row. Gaps after a rollback are harmless.
        let sql = match counter {
            Counter::TicketNumber => "SELECT nextval('ticket_number') FROM generate_series(1, $1)",
            Counter::EventSeq => "SELECT nextval('event_seq') FROM generate_series(1, $1)",
        };
        let mut values: Vec<i64> = sqlx::query_scalar(sql).bind(n).fetch_all(&mut *conn).await?;
        values.sort_unstable();
        Ok(values)
    }

    async fn advance_to(conn: &mut PgConnection, counter: Counter, value: i64) -> Result<(), sqlx::Error> {
        let sql = match counter {
            Counter::TicketNumber => {
                "SELECT setval('ticket_number', GREATEST($1, (SELECT last_value FROM ticket_number)))"
            }
            Counter::EventSeq => "SELECT setval('event_seq', GREATEST($1, (SELECT last_value FROM event_seq)))",
        };
        sqlx::query(sql).bind(value).execute(&mut *conn).await?;
        Ok(())
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn is_transient(error: &sqlx::Error) -> bool {
        // 40001 serialization_failure, 40P01 deadlock_detected.
        matches!(error, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("40001" | "40P01")))
    }
}
