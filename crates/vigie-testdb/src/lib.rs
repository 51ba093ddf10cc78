//! Test databases: the two backends a story runs on: a fresh SQLite file, or a fresh PostgreSQL database that is
//! dropped afterwards (even when the story panics).
//!
//! PostgreSQL is selected by `VIGIE_TEST_PG_URL` (a server URL whose database we may connect to
//! and create databases from). Unset, the PostgreSQL half of each test prints a line and passes,
//! unless `VIGIE_REQUIRE_PG=1`, which CI sets so that a missing server fails loudly: a suite that
//! skips silently proves nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, PgPool};
use vigie_store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Opens a fresh database on `backend`, runs `story` on a store over it, closes the store and
/// deletes the database. Returns without running the story when PostgreSQL is not configured.
pub async fn run(backend: Backend, story: impl AsyncFnOnce(&Store)) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = db.open().await;
    story(&store).await;
    store.close().await;
    db.destroy().await;
}

/// Like [`run`], for the stories that open (and reopen) the store themselves.
pub async fn run_with_db(backend: Backend, story: impl AsyncFnOnce(&TestDb)) {
    let Some(db) = TestDb::create(backend).await else { return };
    story(&db).await;
    db.destroy().await;
}

/// The PostgreSQL server URL, or `None` (after saying so) when the PostgreSQL half is skipped.
fn postgres_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var("VIGIE_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(!required, "VIGIE_REQUIRE_PG=1 but VIGIE_TEST_PG_URL is unset: cannot run the PostgreSQL half");
            println!("skipping PostgreSQL: VIGIE_TEST_PG_URL unset");
            None
        }
    }
}

/// A database that exists for one test.
pub struct TestDb {
    url: String,
    /// Holds the SQLite file's directory; deleted on drop.
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server URL to administer from, and the database to drop.
    postgres: Option<PgDatabase>,
}

struct PgDatabase {
    admin_url: String,
    name: String,
    dropped: bool,
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory can be created");
                let path = dir.path().join("vigie.db");
                let url = path.to_str().expect("the temporary path is UTF-8").to_owned();
                Some(TestDb { url, _dir: Some(dir), postgres: None })
            }
            Backend::Postgres => {
                let admin_url = postgres_url()?;
                let name = unique_name();
                let admin = admin_pool(&admin_url).await;
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&admin)
                    .await
                    .expect("the test role may create databases");
                admin.close().await;
                let url = with_database(&admin_url, &name);
                Some(TestDb { url, _dir: None, postgres: Some(PgDatabase { admin_url, name, dropped: false }) })
            }
        }
    }

    /// The URL `Store::open` takes for this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        if self.postgres.is_some() { Backend::Postgres } else { Backend::Sqlite }
    }

    /// Opens a store on this database (the first time, this runs the migrations).
    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.expect("the store opens on a fresh test database")
    }

    /// Drops the PostgreSQL database (the SQLite file goes with its directory). Call after the
    /// stores on it are closed; the drop guard does the same after a panic.
    pub async fn destroy(mut self) {
        if let Some(pg) = &mut self.postgres {
            let admin = admin_pool(&pg.admin_url).await;
            sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name)))
                .execute(&admin)
                .await
                .expect("the test database can be dropped");
            admin.close().await;
            pg.dropped = true;
        }
    }
}

impl Drop for PgDatabase {
    /// After a panic the async cleanup never ran: drop the database from a thread of its own,
    /// since a destructor cannot await on the test's runtime.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup can be built");
            runtime.block_on(async {
                let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url).await?;
                sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                Ok::<_, sqlx::Error>(())
            })
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error}", self.name),
            Err(_) => eprintln!("could not drop test database {}: the cleanup thread panicked", self.name),
        }
    }
}

async fn admin_pool(admin_url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to VIGIE_TEST_PG_URL ({admin_url}): {error}"))
}

/// A database name no other test (of this run or of a crashed earlier one) uses.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The wall clock only makes the name unique across runs; no test reads it otherwise.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("vigie_test_{}_{n}_{nanos}", std::process::id())
}

/// `url` with its database replaced by `name` (keeping user, host, port and parameters).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgres://u:p@h/test?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
    }
}
