//! Macros through the API: the list, and applying one to a ticket (the bulk API applies one to
//! many). A macro is a reply rendered from a template and changes, one command: decided by
//! `vigie_core::automation::apply_macro`, recorded under the agent's name.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vigie_store::TicketCommand;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::if_match_optional;
use crate::rules::MacroDocument;
use crate::tickets::{TicketBody, with_etag};

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroBody {
    pub name: String,
    #[serde(flatten)]
    pub definition: MacroDocument,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroList {
    pub items: Vec<MacroBody>,
}

/// The macros in force, by name.
#[utoipa::path(get, path = "/api/v1/macros", tag = "automation",
    responses((status = 200, body = MacroList), (status = 401, body = Problem)))]
pub async fn list_macros(State(state): State<AppState>, _caller: Caller) -> Json<MacroList> {
    let (document, _) = state.rules.snapshot();
    let items = document
        .macros
        .iter()
        .map(|(name, definition)| MacroBody { name: name.clone(), definition: definition.clone() })
        .collect();
    Json(MacroList { items })
}

/// Applies macro `name` to the ticket: its changes, then its reply, one command. With
/// `If-Match`, only to that version (412 otherwise).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/macros/{name}", tag = "tickets",
    params(("id" = String, Path), ("name" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The ETag read, or * (the default)")),
    responses((status = 200, body = TicketBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn apply_macro(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ticket_id = crate::tickets::parse_ticket_id(id)?;
    let expected = if_match_optional(&headers)?;
    let now = state.now();
    let committed = state.submit_at(TicketCommand::ApplyMacro { ticket_id, expected, name }, actor, now).await?;
    let body = TicketBody::render(&state, &committed.ticket, now);
    Ok(with_etag(Json(body).into_response(), committed.ticket.version))
}
