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

    /// An aggregate that turns the rows of a subquery into one JSON text: an array with one
    /// `element` (a JSON expression of the row) a row, in the order of `order_by` (`NULL`, or
    /// `[]`, for no row).
    fn json_rows(element: &str, order_by: &str) -> String;

    /// A JSON array of the values of `columns` (a comma-separated list).
    fn json_array(columns: &str) -> String;

    /// The key of a full scan of `tickets` in its storage order (the fastest to read it all),
    /// and how to continue after a key: (`prefix`, bound key as text, `suffix`).
    const SCAN_KEY: &'static str;
    /// The scan key as text, for the cursor.
    const SCAN_KEY_TEXT: &'static str;
    const SCAN_AFTER: (&'static str, &'static str);
    /// The open flag, as the scan filters on it.
    const SCAN_OPEN: &'static str;
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

    fn json_rows(element: &str, order_by: &str) -> String {
        format!("json_group_array({element} ORDER BY {order_by})")
    }

    fn json_array(columns: &str) -> String {
        format!("json_array({columns})")
    }

    // The table's rowid: tickets are keyed by a text id, so a scan in id order looks every row
    // up in the table through the index; the rowid order reads the table as it lies.
    const SCAN_KEY: &'static str = "rowid";
    const SCAN_KEY_TEXT: &'static str = "CAST(rowid AS TEXT)";
    const SCAN_AFTER: (&'static str, &'static str) = ("rowid > CAST(", " AS INTEGER)");
    // Unary `+` keeps SQLite off the index on `is_open`: without statistics it reads that index
    // and sorts every open ticket again for each page (quadratic at a million), where the
    // rowid range is read in order and stops at the page's end.
    const SCAN_OPEN: &'static str = "+is_open";

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

    fn json_rows(element: &str, order_by: &str) -> String {
        format!("json_agg({element} ORDER BY {order_by})::text")
    }

    fn json_array(columns: &str) -> String {
        format!("json_build_array({columns})")
    }

    const SCAN_KEY: &'static str = "id";
    const SCAN_KEY_TEXT: &'static str = "id";
    const SCAN_AFTER: (&'static str, &'static str) = ("id > ", "");
    const SCAN_OPEN: &'static str = "is_open";

    fn is_transient(error: &sqlx::Error) -> bool {
        // 40001 serialization_failure, 40P01 deadlock_detected.
        matches!(error, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("40001" | "40P01")))
    }
}
