//! Black-box tests of the HTTP API, in process (`tower::ServiceExt::oneshot` on the real
//! router), each run twice: over a real SQLite file and over a real PostgreSQL database
//! (`VIGIE_TEST_PG_URL`; see vigie-testdb). This suite covers the HTTP contract of
//! shared/API.md; the store's own behaviour is the conformance suite's (vigie-store).

/// Declares `<test>::sqlite` and `<test>::postgres` for tests `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                use vigie_testdb::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::TestApp::new(Backend::Sqlite).await {
                        super::$test(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::TestApp::new(Backend::Postgres).await {
                        super::$test(app).await;
                    }
                }
            }
        )+
    };
}

mod helpers;

/// Tokens, roles and team scoping.
mod auth;
/// Automation: time rules across business hours and restarts, triggers, dry runs, the outbox, bad rules.
mod automation;
/// The live backlog snapshot: every change, time passing, a restart, thresholds.
mod backlog;
/// Every kind of bad input gets its documented 4xx, names the field, and changes nothing.
mod bad_input;
/// Bulk changes: by ids and by filter, a result per ticket.
mod bulk;
/// Clusters of similar open tickets, their spikes (an alert) and the weekly recurring ones.
mod clusters;
/// Lists: filters, orders, keyset pagination.
mod lists;
/// The OpenAPI document describes every route.
mod openapi;
/// The pages' sign-in, sessions and refusal of forged writes.
mod pages;
/// "Next ticket": the queue, the skills, the atomic claim under concurrency.
mod queue;
/// Likely duplicates: at intake (an event), on demand, after a restart, within the caller's teams.
mod similar;
/// SLA clocks, the scheduler, the SLA filters and the rules (API and configuration file).
mod sla;
/// Creating, reading, changing and commenting: the happy paths and their headers.
mod tickets;
/// Workflows: a request's path across teams, handoffs, their checks, the bottleneck, bad paths.
mod workflows;
