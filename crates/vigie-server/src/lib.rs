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

pub mod auth;
pub mod directory;
pub mod error;
pub mod extract;
pub mod tickets;

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
use vigie_store::Store;

use crate::error::{ApiError, Problem};

/// Largest request body accepted (a ticket's body is at most 64 KiB; JSON escaping may double it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Where "now" comes from: the system clock in production, a fixed or stepped one in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub tokens: Arc<auth::TokenCache>,
}

impl AppState {
    pub fn new(store: Store, clock: Clock) -> Self {
        AppState { store, clock, tokens: Arc::new(auth::TokenCache::default()) }
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
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tickets::create_ticket, tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::patch_ticket))
        .routes(routes!(tickets::create_comment))
        .routes(routes!(tickets::ticket_events))
        .routes(routes!(directory::create_team, directory::list_teams))
        .routes(routes!(directory::create_agent, directory::list_agents))
        .routes(routes!(directory::create_customer, directory::list_customers))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .split_for_parts()
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

/// Serves `app` on `listener` until `shutdown` resolves, then lets the store finish what it
/// has queued (every acknowledged write is already durable; queued ones get committed).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let result = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await;
    store.close().await;
    result
}
