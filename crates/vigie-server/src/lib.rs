//! vigie's server: the HTTP API over the store, with authentication and roles.
//!
//! Start reading at [`app`]: it assembles the routes (each documented for OpenAPI by
//! `#[utoipa::path]`, so the served `/api/v1/openapi.json` is generated from the code), the
//! body limit and the request tracing.
//!
//! **Architecture Invariant:** only this crate knows HTTP and the JSON shapes of the API.
//! Handlers parse, call the store (which calls the core), and render; no business rule lives
//! here. Errors leave through one type, [`error::ApiError`], as RFC 9457 problem+json.
//!
//! **Architecture Invariant:** "now" is read here, once per request, from [`AppState`]'s clock,
//! and handed down; tests substitute the clock.

pub mod admin;
pub mod alerts;
pub mod auth;
pub mod automation;
pub mod backlog;
pub mod bulk;
pub mod clusters;
pub mod directory;
pub mod error;
pub mod extract;
pub mod history;
mod lease;
pub mod live;
pub mod macros;
pub mod metrics;
pub mod queue;
pub mod reviews;
pub mod rules;
pub mod scheduler;
pub mod settings;
pub mod similar;
pub mod stream;
pub mod tail;
pub mod tickets;
pub mod web;
pub mod workflows;

use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use tower_http::trace::TraceLayer;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigie_core::Actor;
use vigie_store::{Committed, Store, StoreError, Submission, SubmitError, TicketCommand};

use crate::error::{ApiError, Problem};
use crate::live::LiveState;
use crate::rules::RulesHandle;

/// Largest request body accepted (a ticket's body is at most 64 KiB; JSON escaping may double it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Where "now" comes from: the system clock in production, a fixed or stepped one in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub tokens: Arc<auth::TokenCache>,
    /// The rules in force (calendars, SLA policies, queue weights, handle times).
    pub rules: Arc<RulesHandle>,
    /// The open tickets in queue order, kept current by the store's commits.
    pub live: Arc<LiveState>,
    /// The open tickets' fingerprints, for their likely duplicates; kept current the same way.
    pub similar: Arc<similar::SimilarTickets>,
    /// The clusters of similar tickets, recomputed in the background.
    pub clusters: Arc<clusters::ClusterBoard>,
    /// What building the live state at start took.
    pub startup: live::RebuildSummary,
    /// The roster and the dashboard's settings, from the configuration file.
    pub operations: Arc<settings::Operations>,
    /// The counters `/metrics` serves.
    pub metrics: metrics::Metrics,
    /// Every committed ticket change, for the live streams.
    pub changes: tokio::sync::broadcast::Sender<stream::TicketChange>,
    /// Set when the server stops: ends the live streams.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Builds the live state from the store, and wires it to the store's commits: from now on
    /// every commit reaches it before its caller is answered.
    pub async fn start(store: Store, clock: Clock, rules: RulesHandle) -> Result<AppState, StoreError> {
        install_crypto();
        let rules = Arc::new(rules);
        let live = Arc::new(LiveState::new(rules.rules()));
        let started = std::time::Instant::now();
        let rebuilt = live.rebuild(&store, clock()).await?;
        tracing::info!(
            n_open = rebuilt.n_tickets,
            elapsed_ms = started.elapsed().as_millis() as u64,
            reading_ms = rebuilt.reading.as_millis() as u64,
            indexing_ms = rebuilt.indexing.as_millis() as u64,
            "live state built"
        );
        // The teams the rules name should exist. Through the API a rule naming an unknown team is
        // refused; a configuration file is read before anyone could create its teams, so it is
        // taken, with a warning per team missing (a ticket handed to it is refused until it
        // exists).
        let rules_in_force = rules.rules();
        let teams = store.teams().await?;
        for (field, team) in
            rules_in_force.named_teams().into_iter().filter(|(_, team)| !teams.iter().any(|t| &t.id == team))
        {
            tracing::warn!(%field, %team, "the rules name a team that does not exist yet");
        }
        let similar = Arc::new(similar::SimilarTickets::new(vigie_dedup::DEFAULT_THRESHOLD));
        let started = std::time::Instant::now();
        let held = similar.build(&store).await?;
        tracing::info!(n_open = held, elapsed_ms = started.elapsed().as_millis() as u64, "similar tickets indexed");
        let listener_similar = Arc::downgrade(&similar);
        let listener_live = Arc::downgrade(&live);
        let counters = metrics::Metrics::default();
        let listener_counters = counters.clone();
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let listener_changes = changes.clone();
        store.on_commit(Arc::new(move |committed: &[&Committed]| {
            let Some(live) = listener_live.upgrade() else { return };
            let breaches = committed
                .iter()
                .flat_map(|commit| &commit.events)
                .filter(|event| matches!(event.kind, vigie_core::EventKind::SlaBreached { .. }))
                .count();
            listener_counters.count_sla_breaches(breaches as u64);
            let similar = listener_similar.upgrade();
            for commit in committed {
                let at = commit.events.iter().map(|event| event.at).max().unwrap_or(commit.ticket.updated_at);
                // The ticket the command was about, and any other it changed (a merge's target).
                let changed = std::iter::once((&commit.ticket, commit.last_seq))
                    .chain(commit.also.iter().map(|(ticket, last_seq)| (ticket, *last_seq)));
                for (ticket, last_seq) in changed {
                    // Nobody listening is not an error.
                    let _ = listener_changes.send(stream::TicketChange {
                        id: ticket.id.to_string(),
                        status: ticket.status.as_str(),
                        priority: ticket.priority.as_str(),
                        team: ticket.team.clone(),
                        version: ticket.version,
                    });
                    live.apply(ticket, last_seq, at);
                    if let Some(similar) = &similar {
                        similar.follow(ticket, live.holds(ticket.id.as_str()));
                    }
                }
            }
        }));
        Ok(AppState {
            store,
            clock,
            tokens: Arc::new(auth::TokenCache::default()),
            rules,
            live,
            similar,
            clusters: Arc::new(clusters::ClusterBoard::new(vigie_dedup::DEFAULT_THRESHOLD)),
            startup: rebuilt,
            operations: Arc::new(settings::Operations::default()),
            metrics: counters,
            changes,
            closing: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    /// The same state with these operations settings (roster, dashboard).
    pub fn with_operations(mut self, operations: settings::Operations) -> AppState {
        self.operations = Arc::new(operations);
        self
    }

    /// Submits a command under the rules in force, at `now`.
    pub async fn submit_at(
        &self,
        command: TicketCommand,
        actor: Actor,
        now: Timestamp,
    ) -> Result<Committed, SubmitError> {
        self.store.submit(Submission { command, actor, now, rules: self.rules.rules() }).await
    }

    /// Submits a command under the rules in force, now.
    pub async fn submit(&self, command: TicketCommand, actor: Actor) -> Result<Committed, SubmitError> {
        self.submit_at(command, actor, self.now()).await
    }

    /// The system clock.
    pub fn system_clock() -> Clock {
        Arc::new(Timestamp::now)
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "vigie", description = "Support and back-office backlog control: the core HTTP API."),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and their OpenAPI description, from one list.
pub fn api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tickets::create_ticket, tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::patch_ticket))
        .routes(routes!(tickets::create_comment))
        .routes(routes!(tickets::ticket_events))
        .routes(routes!(tickets::similar_tickets))
        .routes(routes!(tickets::merge_ticket))
        .routes(routes!(clusters::list_clusters))
        .routes(routes!(bulk::bulk_change))
        .routes(routes!(queue::next_ticket))
        .routes(routes!(backlog::get_backlog))
        .routes(routes!(history::get_history))
        .routes(routes!(reviews::get_morning))
        .routes(routes!(reviews::get_weekly))
        .routes(routes!(stream::api_stream))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(automation::list_outbox))
        .routes(routes!(automation::retry_message))
        .routes(routes!(automation::list_automations))
        .routes(routes!(automation::put_automation, automation::delete_automation))
        .routes(routes!(automation::dry_run_in_force))
        .routes(routes!(automation::dry_run_draft))
        .routes(routes!(automation::put_template))
        .routes(routes!(macros::list_macros))
        .routes(routes!(automation::public_status))
        .routes(routes!(macros::apply_macro))
        .routes(routes!(workflows::hand_over))
        .routes(routes!(workflows::list_workflows))
        .routes(routes!(admin::get_rules, admin::put_rules))
        .routes(routes!(admin::list_calendars))
        .routes(routes!(admin::put_calendar, admin::delete_calendar))
        .routes(routes!(admin::get_sla, admin::put_sla))
        .routes(routes!(admin::recompute_sla))
        .routes(routes!(directory::create_team, directory::list_teams))
        .routes(routes!(directory::create_agent, directory::list_agents))
        .routes(routes!(directory::create_customer, directory::list_customers))
        .routes(routes!(metrics::metrics))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .split_for_parts();
    let mut openapi = openapi;
    describe_responses(&mut openapi);
    (router, openapi)
}

/// OpenAPI requires a description on every response; the routes declare only their status and
/// body, so each one without a description gets its status's reason ("Not Found").
fn describe_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    let reason = status.parse::<u16>().ok().and_then(|code| StatusCode::from_u16(code).ok());
                    response.description =
                        reason.and_then(|code| code.canonical_reason()).unwrap_or("Response").to_owned();
                }
            }
        }
    }
}

/// The whole application: API routes, the OpenAPI document, limits and tracing.
pub fn app(state: AppState) -> axum::Router {
    let (router, openapi) = api();
    let openapi = Arc::new(openapi);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .merge(web::routes())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::map_response(error::ensure_problem))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The store answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, Json<Health>), ApiError> {
    state.store.ping().await.map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok((StatusCode::OK, Json(Health { status: "ready" })))
}

/// Chooses ring as the process's TLS provider (webhooks over HTTPS, SMTP over TLS): rustls
/// cannot choose by itself when a build enables two providers (a test's browser driver brings
/// another). Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Serves `app` on `listener` and runs the SLA scheduler until `shutdown` resolves, then lets
/// the store finish what it has queued (every acknowledged write is already durable; queued
/// ones get committed).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let (stop_tasks, stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(scheduler::run(state.clone(), stopped.clone()));
    let snapshots = tokio::spawn(history::run(state.clone(), stopped.clone()));
    let alerting = tokio::spawn(alerts::run(state.clone(), stopped.clone()));
    let automating = tokio::spawn(automation::run(state.clone(), stopped.clone()));
    let clustering = tokio::spawn(clusters::run(state.clone(), stopped.clone()));
    // Several instances may share a PostgreSQL database: follow the others' commits.
    let tail = state.store.is_shared().then(|| tokio::spawn(tail::run(state.clone(), stopped)));
    let closing = state.closing.clone();
    let shutdown = async move {
        shutdown.await;
        // The live streams never end by themselves: end them, or the graceful shutdown waits.
        closing.send_replace(true);
    };
    let result = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await;
    let _ = stop_tasks.send(true);
    let _ = scheduler.await;
    let _ = snapshots.await;
    let _ = alerting.await;
    let _ = automating.await;
    let _ = clustering.await;
    if let Some(tail) = tail {
        let _ = tail.await;
    }
    store.close().await;
    result
}
