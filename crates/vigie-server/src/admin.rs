//! The rules through the API: calendars, SLA policies, queue weights, handle times. Everyone
//! with a token reads them; admins change them. A change is checked as a whole (the rules must
//! hold together: a policy's calendar must exist...), saved as a new revision with its author,
//! and put in force at once: the live state computes every open ticket's place again. Tickets
//! keep the SLA targets they were given; `POST /api/v1/sla/recompute` applies the current
//! policies to the open ones.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vigie_core::calendar::ALWAYS_OPEN;
use vigie_core::{Actor, TicketId};
use vigie_store::{StoreError, TicketCommand};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, if_match_optional};
use crate::rules::{CalendarDocument, RulesChangeError, RulesDocument, SlaDocument};

/// The rules in force and their revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesBody {
    /// Grows with each change (0: never saved, the defaults).
    pub revision: i64,
    pub rules: RulesDocument,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarBody {
    pub name: String,
    /// The built-in 24x7 calendar cannot be changed.
    pub built_in: bool,
    #[serde(flatten)]
    pub calendar: CalendarDocument,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub items: Vec<CalendarBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecomputeReport {
    /// Open tickets looked at.
    pub n_tickets: usize,
    /// Tickets whose targets changed.
    pub n_changed: usize,
    pub n_failed: usize,
}

pub(crate) fn admin_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.can_manage_directory() { Ok(()) } else { Err(ApiError::Forbidden("only admins change the rules".into())) }
}

/// The revision a change is made from: the one `If-Match` names (412 if it is no longer the
/// one in force), else the one in force.
pub(crate) fn base_revision(state: &AppState, headers: &HeaderMap) -> Result<(Arc<RulesDocument>, i64), ApiError> {
    let (document, revision) = state.rules.snapshot();
    if !if_match_optional(headers)?.matches(revision) {
        return Err(ApiError::StaleVersion { current: revision });
    }
    Ok((document, revision))
}

/// Checks, saves and puts in force a new version of the rules, made from revision `base`.
pub(crate) async fn change(
    state: &AppState,
    actor: &Actor,
    base: i64,
    document: RulesDocument,
) -> Result<Response, ApiError> {
    let now = state.now();
    // The teams the rules name must exist (the directory is the store's, not the document's).
    if let Ok(rules) = document.to_rules() {
        let teams = state.store.teams().await?;
        let unknown: Vec<vigie_core::FieldError> = rules
            .named_teams()
            .into_iter()
            .filter(|(_, team)| !teams.iter().any(|t| &t.id == team))
            .map(|(field, team)| vigie_core::FieldError::new(field, format!("`{team}` is not a team")))
            .collect();
        vigie_core::ValidationErrors::finish(unknown).map_err(ApiError::invalid)?;
    }
    // A calendar still counted on cannot go: tickets would silently fall back to 24x7 and
    // record breaches that never happened.
    let (current, _) = state.rules.snapshot();
    let removed: Vec<&String> =
        current.calendars.keys().filter(|name| !document.calendars.contains_key(*name)).collect();
    if !removed.is_empty() {
        let teams = state.store.teams().await?;
        if let Some(team) = teams.iter().find(|t| t.calendar.as_ref().is_some_and(|c| removed.contains(&c))) {
            return Err(ApiError::StateConflict {
                code: "calendar_in_use",
                detail: format!(
                    "team `{}` works to calendar `{}`",
                    team.id,
                    team.calendar.as_deref().unwrap_or_default()
                ),
            });
        }
        let in_use = state.live.calendars_in_use();
        if let Some(name) = removed.iter().find(|name| in_use.contains(name.as_str())) {
            return Err(ApiError::StateConflict {
                code: "calendar_in_use",
                detail: format!(
                    "open tickets run on calendar `{name}`: apply policies on other calendars to them first \
                     (POST /api/v1/sla/recompute), then remove it"
                ),
            });
        }
    }
    let (rules, revision) = match state.rules.change(&state.store, base, document.clone(), &actor.name, now).await {
        Ok(changed) => changed,
        Err(RulesChangeError::Invalid(errors)) => return Err(ApiError::invalid(errors)),
        Err(RulesChangeError::Store(StoreError::Conflict(detail))) => {
            return Err(ApiError::StateConflict { code: "concurrent_change", detail });
        }
        Err(RulesChangeError::Store(error)) => return Err(error.into()),
    };
    state.live.set_rules(rules, revision, now);
    Ok(with_revision(Json(RulesBody { revision, rules: document }).into_response(), revision))
}

fn with_revision(response: Response, revision: i64) -> Response {
    crate::tickets::with_etag(response, revision)
}

/// The whole rules document in force. `ETag` is its revision: send it back in `If-Match` to
/// change the rules only if nobody changed them since.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, description = "The rules in force", body = RulesBody, headers(("ETag" = String, description = "\"<revision>\""))),
        (status = 401, body = Problem)))]
pub async fn get_rules(State(state): State<AppState>, _caller: Caller) -> Response {
    let (document, revision) = state.rules.snapshot();
    with_revision(Json(RulesBody { revision, rules: (*document).clone() }).into_response(), revision)
}

/// Replaces the whole rules document (admins). With `If-Match`, only if the rules are still at
/// that revision (412 otherwise).
#[utoipa::path(put, path = "/api/v1/rules", tag = "rules", request_body = RulesDocument,
    params(("If-Match" = Option<String>, Header, description = "The revision read (its ETag)")),
    responses((status = 200, body = RulesBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_rules(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: JsonBody<RulesDocument>,
) -> Result<Response, ApiError> {
    admin_only(&actor)?;
    let (_, base) = base_revision(&state, &headers)?;
    change(&state, &actor, base, body.value).await
}

/// The calendars, the built-in 24x7 first.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "rules", responses((status = 200, body = CalendarList), (status = 401, body = Problem)))]
pub async fn list_calendars(State(state): State<AppState>, _caller: Caller) -> Response {
    let built_in = CalendarBody {
        name: ALWAYS_OPEN.to_owned(),
        built_in: true,
        calendar: CalendarDocument { time_zone: "UTC".into(), always_open: true, ..CalendarDocument::default() },
    };
    let (document, revision) = state.rules.snapshot();
    let defined = document.calendars.iter().map(|(name, calendar)| CalendarBody {
        name: name.clone(),
        built_in: false,
        calendar: calendar.clone(),
    });
    let list = CalendarList { items: std::iter::once(built_in).chain(defined).collect() };
    with_revision(Json(list).into_response(), revision)
}

/// Creates or replaces a calendar (admins). 201 when new, 200 when replaced.
#[utoipa::path(put, path = "/api/v1/calendars/{name}", tag = "rules", request_body = CalendarDocument,
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The rules' revision read (their ETag)")),
    responses((status = 200, body = RulesBody), (status = 201, body = RulesBody), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody<CalendarDocument>,
) -> Result<Response, ApiError> {
    admin_only(&actor)?;
    let (current, base) = base_revision(&state, &headers)?;
    let mut document = (*current).clone();
    let created = document.calendars.insert(name, body.value).is_none();
    let mut response = change(&state, &actor, base, document).await?;
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// Deletes a calendar (admins): refused while a policy, a team or an open ticket uses it.
#[utoipa::path(delete, path = "/api/v1/calendars/{name}", tag = "rules",
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The rules' revision read (their ETag)")),
    responses((status = 200, body = RulesBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin_only(&actor)?;
    let (current, base) = base_revision(&state, &headers)?;
    let mut document = (*current).clone();
    if document.calendars.remove(&name).is_none() {
        return Err(ApiError::NotFound(format!("no calendar is named `{name}`")));
    }
    if let Some(policy) = document.sla.policies.iter().find(|p| p.calendar.as_deref() == Some(name.as_str())) {
        return Err(ApiError::StateConflict {
            code: "calendar_in_use",
            detail: format!("the SLA policy `{}` counts on calendar `{name}`: change it first", policy.name),
        });
    }
    change(&state, &actor, base, document).await
}

/// The SLA settings: pausing statuses, warning lead, policies.
#[utoipa::path(get, path = "/api/v1/sla", tag = "rules", responses((status = 200, body = SlaDocument), (status = 401, body = Problem)))]
pub async fn get_sla(State(state): State<AppState>, _caller: Caller) -> Response {
    let (document, revision) = state.rules.snapshot();
    with_revision(Json(document.sla.clone()).into_response(), revision)
}

/// Replaces the SLA settings (admins). `policies` is required (`[]` removes every policy).
/// Applies to tickets created from now on; see `POST /api/v1/sla/recompute` for the open ones.
#[utoipa::path(put, path = "/api/v1/sla", tag = "rules", request_body = SlaDocument,
    params(("If-Match" = Option<String>, Header, description = "The rules' revision read (their ETag)")),
    responses((status = 200, body = RulesBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_sla(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: JsonBody<SlaDocument>,
) -> Result<Response, ApiError> {
    admin_only(&actor)?;
    // A forgotten `policies` would remove every policy: make it a deliberate `[]`.
    let raw: serde_json::Value = serde_json::from_slice(&body.raw).unwrap_or_default();
    if raw.get("policies").is_none() {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
            "policies",
            "is required (send [] to remove every policy)",
        )));
    }
    let (current, base) = base_revision(&state, &headers)?;
    let mut document = (*current).clone();
    document.sla = body.value;
    change(&state, &actor, base, document).await
}

/// Applies the SLA policies in force to every open ticket (admins): a ticket whose matching
/// policy changed gets the new targets (an `sla_applied` event), and its deadlines move.
#[utoipa::path(post, path = "/api/v1/sla/recompute", tag = "rules",
    responses((status = 200, body = RecomputeReport), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn recompute_sla(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<RecomputeReport>, ApiError> {
    admin_only(&actor)?;
    let ids: Vec<TicketId> = state.live.ids_matching(&crate::live::LiveQuery::default(), state.now(), usize::MAX);
    let now = state.now();
    let mut report = RecomputeReport { n_tickets: ids.len(), n_changed: 0, n_failed: 0 };
    for chunk in ids.chunks(2_048) {
        let mut tasks = tokio::task::JoinSet::new();
        for ticket_id in chunk {
            let state = state.clone();
            let actor = actor.clone();
            let command = TicketCommand::ApplySla { ticket_id: ticket_id.clone() };
            tasks.spawn(async move { state.submit_at(command, actor, now).await });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(committed)) => {
                    if committed.events.iter().any(|e| e.kind.name() == "sla_applied") {
                        report.n_changed += 1;
                    }
                }
                Ok(Err(vigie_store::SubmitError::Rejected(vigie_core::CommandError::NotFound))) => {}
                _ => report.n_failed += 1,
            }
        }
    }
    Ok(Json(report))
}
