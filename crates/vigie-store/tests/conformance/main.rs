//! The store's conformance suite: every story runs unchanged on SQLite and on PostgreSQL, as
//! `<story>::sqlite` and `<story>::postgres`.
//!
//! PostgreSQL needs `VIGIE_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`); each
//! test creates its own database there and drops it. Without it the PostgreSQL tests print
//! "skipping PostgreSQL: VIGIE_TEST_PG_URL unset" and pass, unless `VIGIE_REQUIRE_PG=1`.
//!

/// Bulk loads and reopening.
mod bulk;
/// Concurrent commands through group commit.
mod concurrency;
/// Teams, agents, customers, tokens.
mod directory;
/// Fixed instants, actors, and the helpers that call the store.
mod fixtures;
/// Backends, test databases and their cleanup (shared with the binary's tests).
use vigie_testdb as harness;
/// Idempotency keys on creates.
mod idempotency;
/// Filters, orders and keyset pagination.
mod lists;
/// SLA checks and claims: exactly once under concurrency.
mod sla;
/// One ticket's life: create, patch, comment.
mod tickets;

/// Declares `<story>::sqlite` and `<story>::postgres` for stories `async fn(&Store)`.
macro_rules! on_both_backends {
    ($($module:ident :: $story:ident),+ $(,)?) => {
        $(
            mod $story {
                use crate::harness::{Backend, run};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(Backend::Sqlite, crate::$module::$story).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(Backend::Postgres, crate::$module::$story).await;
                }
            }
        )+
    };
}

on_both_backends!(
    tickets::story_create,
    tickets::story_patch,
    tickets::story_comments,
    tickets::story_sub_microsecond_now,
    tickets::story_panicking_listener,
    directory::story_directory,
    directory::story_tokens,
    idempotency::story_idempotency,
    concurrency::story_concurrent_creates,
    concurrency::story_concurrent_writes_to_one_ticket,
    lists::story_lists,
    lists::story_list_repeated_status,
    bulk::story_bulk_load,
    bulk::story_create_after_load_keeps_loaded_tickets,
    bulk::story_load_never_overwrites,
    bulk::story_load_histories,
    sla::story_sla_checks_record_once,
    sla::story_claims_take_the_first_free_candidate,
);

/// Closing and reopening needs the database, not only a store over it.
mod story_reopen {
    use crate::harness::{Backend, run_with_db};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run_with_db(Backend::Sqlite, crate::bulk::story_reopen).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run_with_db(Backend::Postgres, crate::bulk::story_reopen).await;
    }
}
