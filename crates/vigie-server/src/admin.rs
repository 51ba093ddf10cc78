//! The rules through the API: calendars, SLA policies, queue weights, handle times. Everyone
//! with a token reads them; admins change them. A change is checked as a whole (the rules must
//! hold together: a policy's calendar must exist...), saved as a new revision with its author,
//! and put in force at once: the live state computes every open ticket's place again. Tickets
//! keep the SLA targets they were given; `POST /api/v1/sla/recompute` applies the current
//! policies to the open ones.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use vigie_core::calendar::ALWAYS_OPEN;
use vigie_core::{Actor, TicketId};
use vigie_store::{StoreError, TicketCommand};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
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

fn admin_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.can_manage_directory() { Ok(()) } else { Err(ApiError::Forbidden("only admins change the rules".into())) }
}

/// Checks, saves and puts in force a new version of the rules.
async fn change(state: &AppState, actor: &Actor, document: RulesDocument) -> Result<RulesBody, ApiError> {
    let now = state.now();
    let (rules, revision) = match state.rules.change(&state.store, document.clone(), &actor.name, now).await {
        Ok(changed) => changed,
        Err(RulesChangeError::Invalid(errors)) => return Err(ApiError::invalid(errors)),
        Err(RulesChangeError::Store(StoreError::Conflict(detail))) => {
            return Err(ApiError::StateConflict { code: "concurrent_change", detail });
        }
        Err(RulesChangeError::Store(error)) => return Err(error.into()),
    };
    state.live.set_rules(rules, now);
    Ok(RulesBody { revision, rules: document })
}

/// The whole rules document in force.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", responses((status = 200, body = RulesBody), (status = 401, body = Problem)))]
pub async fn get_rules(State(state): State<AppState>, _caller: Caller) -> Json<RulesBody> {
    Json(RulesBody { revision: state.rules.revision(), rules: (*state.rules.document()).clone() })
}

/// Replaces the whole rules document (admins).
#[utoipa::path(put, path = "/api/v1/rules", tag = "rules", request_body = RulesDocument,
    responses((status = 200, body = RulesBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_rules(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<RulesDocument>,
) -> Result<Json<RulesBody>, ApiError> {
    admin_only(&actor)?;
    Ok(Json(change(&state, &actor, body.value).await?))
}

/// The calendars, the built-in 24x7 first.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "rules", responses((status = 200, body = CalendarList), (status = 401, body = Problem)))]
pub async fn list_calendars(State(state): State<AppState>, _caller: Caller) -> Json<CalendarList> {
    let built_in = CalendarBody {
        name: ALWAYS_OPEN.to_owned(),
        built_in: true,
        calendar: CalendarDocument { time_zone: "UTC".into(), always_open: true, ..CalendarDocument::default() },
    };
    let document = state.rules.document();
    let defined = document.calendars.iter().map(|(name, calendar)| CalendarBody {
        name: name.clone(),
        built_in: false,
        calendar: calendar.clone(),
    });
    Json(CalendarList { items: std::iter::once(built_in).chain(defined).collect() })
}

/// Creates or replaces a calendar (admins). 201 when new, 200 when replaced.
#[utoipa::path(put, path = "/api/v1/calendars/{name}", tag = "rules", request_body = CalendarDocument,
    params(("name" = String, Path)),
    responses((status = 200, body = RulesBody), (status = 201, body = RulesBody), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    body: JsonBody<CalendarDocument>,
) -> Result<(StatusCode, Json<RulesBody>), ApiError> {
    admin_only(&actor)?;
    let mut document = (*state.rules.document()).clone();
    let created = document.calendars.insert(name, body.value).is_none();
    let changed = change(&state, &actor, document).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(changed)))
}

/// Deletes a calendar (admins): refused while a policy or a team uses it.
#[utoipa::path(delete, path = "/api/v1/calendars/{name}", tag = "rules", params(("name" = String, Path)),
    responses((status = 200, body = RulesBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> Result<Json<RulesBody>, ApiError> {
    admin_only(&actor)?;
    let mut document = (*state.rules.document()).clone();
    if document.calendars.remove(&name).is_none() {
        return Err(ApiError::NotFound(format!("no calendar is named `{name}`")));
    }
    if let Some(policy) = document.sla.policies.iter().find(|p| p.calendar.as_deref() == Some(name.as_str())) {
        return Err(ApiError::StateConflict {
            code: "calendar_in_use",
            detail: format!("the SLA policy `{}` counts on calendar `{name}`: change it first", policy.name),
        });
    }
    if let Some(team) = state.store.teams().await?.into_iter().find(|t| t.calendar.as_deref() == Some(name.as_str())) {
        return Err(ApiError::StateConflict {
            code: "calendar_in_use",
            detail: format!("team `{}` works to calendar `{name}`", team.id),
        });
    }
    Ok(Json(change(&state, &actor, document).await?))
}

/// The SLA settings: pausing statuses, warning lead, policies.
#[utoipa::path(get, path = "/api/v1/sla", tag = "rules", responses((status = 200, body = SlaDocument), (status = 401, body = Problem)))]
pub async fn get_sla(State(state): State<AppState>, _caller: Caller) -> Json<SlaDocument> {
    Json(state.rules.document().sla.clone())
}

/// Replaces the SLA settings (admins). Applies to tickets created from now on; see
/// `POST /api/v1/sla/recompute` for the open ones.
#[utoipa::path(put, path = "/api/v1/sla", tag = "rules", request_body = SlaDocument,
    responses((status = 200, body = RulesBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_sla(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<SlaDocument>,
) -> Result<Json<RulesBody>, ApiError> {
    admin_only(&actor)?;
    let mut document = (*state.rules.document()).clone();
    document.sla = body.value;
    Ok(Json(change(&state, &actor, document).await?))
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
    let ids: Vec<TicketId> = state.live.ids_matching(&crate::live::LiveQuery::default(), state.now());
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
