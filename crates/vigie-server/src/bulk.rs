//! `POST /api/v1/tickets/bulk`: one change, one reply, or both, applied to many tickets chosen
//! by id or by filter (a batch of similar tickets answered at once), with a result per ticket.
//!
//! Each ticket's change is an ordinary `PATCH` (with `If-Match: *`): decided on its own and
//! recorded with its own events, so that one refused ticket (an illegal transition, a team its
//! assignee does not work for) does not stop the others. They are submitted together, so the
//! group commit records them in a few transactions.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigie_core::{ExpectedVersion, NewCommentInput, TicketId};
use vigie_store::{SubmitError, TicketCommand, TicketQuery};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::tickets::{CreateComment, Filters, PatchTicket};

/// Most tickets one bulk change may touch.
pub const MAX_BULK: usize = 10_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkChange {
    /// The tickets, by id (give either `ids` or `filter`).
    pub ids: Option<Vec<String>>,
    /// The tickets matching these filters, as in `GET /api/v1/tickets` (each a string or a list
    /// of strings; `due_before` a single instant). Without `status`, the open tickets only.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Map<String, serde_json::Value>>,
    /// The change, as in `PATCH /api/v1/tickets/{id}` (give `changes`, `reply` or both).
    pub changes: Option<PatchTicket>,
    /// One reply to them all (a batch of similar tickets answered at once), as in
    /// `POST /api/v1/tickets/{id}/comments`: each ticket gets it as its own comment, before
    /// the changes.
    pub reply: Option<CreateComment>,
    /// A macro applied to each (before the reply and the changes), rendered for each ticket.
    #[serde(rename = "macro")]
    pub macro_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub id: String,
    /// The status a `PATCH` of this ticket alone would have answered.
    pub status: u16,
    /// The ticket's version after the change (successes).
    pub version: Option<i64>,
    /// Whether something changed (successes).
    pub changed: Option<bool>,
    /// Why it was refused (failures): the problem document of that status.
    #[schema(value_type = Option<Object>)]
    pub problem: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReport {
    pub n_tickets: usize,
    pub n_changed: usize,
    pub n_unchanged: usize,
    pub n_failed: usize,
    /// One per ticket, in the order of `ids` (or the queue order for a filter).
    pub results: Vec<BulkResult>,
}

/// Applies one change to many tickets.
#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "tickets", request_body = BulkChange,
    responses((status = 200, body = BulkReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
pub async fn bulk_change(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<BulkChange>,
) -> Result<Json<BulkReport>, ApiError> {
    if !actor.can_write_tickets() {
        return Err(ApiError::Forbidden("viewers cannot change tickets".into()));
    }
    let request = body.value;
    // Fields named as the request does: `changes.priority`, `reply.body`.
    let patch = request
        .changes
        .map(|changes| changes.parse().map_err(|errors| ApiError::invalid(errors.prefixed("changes"))))
        .transpose()?;
    let reply = request
        .reply
        .map(|reply| {
            NewCommentInput { body: reply.body.unwrap_or_default(), public: reply.public }
                .parse()
                .map_err(|errors| ApiError::invalid(errors.prefixed("reply")))
        })
        .transpose()?;
    if patch.is_none() && reply.is_none() && request.macro_name.is_none() {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
            "changes",
            "give `changes`, `reply`, `macro`, or several",
        )));
    }
    if let Some(name) = &request.macro_name
        && state.rules.rules().automations.macro_named(name).is_none()
    {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one("macro", format!("`{name}` is not a macro"))));
    }
    let ids = match (request.ids, request.filter) {
        (Some(ids), None) => parse_ids(ids)?,
        (None, Some(filter)) => select(&state, &actor, filter).await?,
        _ => {
            return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
                "ids",
                "give exactly one of `ids` or `filter`",
            )));
        }
    };
    let steps = Steps { macro_name: request.macro_name, reply, patch };
    Ok(Json(apply(&state, &actor, &ids, steps).await?))
}

/// What a bulk change does to each ticket, in this order.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    pub macro_name: Option<String>,
    pub reply: Option<vigie_core::NewComment>,
    pub patch: Option<vigie_core::TicketPatch>,
}

/// The macro, the reply and the changes applied to each of `ids`, each ticket its own commands
/// and events, concurrently; one result per ticket, in the order of `ids`. The bulk API and
/// the batches page.
pub async fn apply(
    state: &AppState,
    actor: &vigie_core::Actor,
    ids: &[TicketId],
    steps: Steps,
) -> Result<BulkReport, ApiError> {
    let now = state.now();
    let mut submissions = tokio::task::JoinSet::new();
    for (idx, ticket_id) in ids.iter().enumerate() {
        let state = state.clone();
        let actor = actor.clone();
        let (ticket_id, steps) = (ticket_id.clone(), steps.clone());
        submissions.spawn(async move {
            // Each step its own command and events; a refused step leaves the rest undone.
            let mut commands = Vec::new();
            if let Some(name) = steps.macro_name {
                commands.push(TicketCommand::ApplyMacro {
                    ticket_id: ticket_id.clone(),
                    expected: ExpectedVersion::Any,
                    name,
                });
            }
            if let Some(comment) = steps.reply {
                commands.push(TicketCommand::Comment { ticket_id: ticket_id.clone(), comment });
            }
            if let Some(patch) = steps.patch {
                commands.push(TicketCommand::Patch { ticket_id, expected: ExpectedVersion::Any, patch });
            }
            let mut outcome: Option<Result<vigie_store::Committed, SubmitError>> = None;
            for command in commands {
                let result = state.submit_at(command, actor.clone(), now).await;
                outcome = Some(match (outcome, result) {
                    (Some(Ok(before)), Ok(mut committed)) => {
                        let mut events = before.events;
                        events.append(&mut committed.events);
                        committed.events = events;
                        Ok(committed)
                    }
                    (_, result) => result,
                });
                if matches!(outcome, Some(Err(_))) {
                    break;
                }
            }
            (idx, outcome.unwrap_or_else(|| Err(SubmitError::Rejected(vigie_core::CommandError::NotFound))))
        });
    }
    let mut outcomes: Vec<Option<Result<vigie_store::Committed, SubmitError>>> = (0..ids.len()).map(|_| None).collect();
    while let Some(joined) = submissions.join_next().await {
        let (idx, outcome) =
            joined.map_err(|error| ApiError::Internal(format!("a bulk change task failed: {error}")))?;
        if let Some(slot) = outcomes.get_mut(idx) {
            *slot = Some(outcome);
        }
    }
    let mut report =
        BulkReport { n_tickets: ids.len(), n_changed: 0, n_unchanged: 0, n_failed: 0, results: Vec::new() };
    for (ticket_id, outcome) in ids.iter().zip(outcomes) {
        let result = match outcome {
            Some(Ok(committed)) => {
                let changed = !committed.events.is_empty();
                if changed {
                    report.n_changed += 1;
                } else {
                    report.n_unchanged += 1;
                }
                BulkResult {
                    id: ticket_id.to_string(),
                    status: 200,
                    version: Some(committed.ticket.version),
                    changed: Some(changed),
                    problem: None,
                }
            }
            Some(Err(error)) => {
                report.n_failed += 1;
                let (status, problem) = ApiError::from(error).to_problem();
                BulkResult { id: ticket_id.to_string(), status, version: None, changed: None, problem: Some(problem) }
            }
            None => {
                report.n_failed += 1;
                BulkResult {
                    id: ticket_id.to_string(),
                    status: 500,
                    version: None,
                    changed: None,
                    problem: Some(serde_json::json!({"detail": "no outcome was reported for this ticket"})),
                }
            }
        };
        report.results.push(result);
    }
    Ok(report)
}

fn parse_ids(ids: Vec<String>) -> Result<Vec<TicketId>, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one("ids", "must name at least one ticket")));
    }
    if ids.len() > MAX_BULK {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
            "ids",
            format!("must name at most {MAX_BULK} tickets"),
        )));
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::new();
    for (idx, id) in ids.into_iter().enumerate() {
        match TicketId::parse(id) {
            Ok(id) if seen.insert(id.clone()) => parsed.push(id),
            Ok(id) => errors.push(vigie_core::FieldError::new(format!("ids[{idx}]"), format!("`{id}` is named twice"))),
            Err(error) => errors.push(vigie_core::FieldError::new(format!("ids[{idx}]"), error.to_string())),
        }
    }
    vigie_core::ValidationErrors::finish(errors).map_err(ApiError::invalid)?;
    Ok(parsed)
}

/// The tickets a filter selects, at most [`MAX_BULK`].
async fn select(
    state: &AppState,
    actor: &vigie_core::Actor,
    filter: serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<TicketId>, ApiError> {
    let mut filters = Filters::default();
    let mut errors = Vec::new();
    for (name, value) in filter {
        let values: Vec<String> = match &value {
            serde_json::Value::String(text) => vec![text.clone()],
            serde_json::Value::Array(items) => {
                let texts: Option<Vec<String>> = items.iter().map(|item| item.as_str().map(str::to_owned)).collect();
                match texts {
                    Some(texts) => texts,
                    None => {
                        errors.push(vigie_core::FieldError::new(name, "must be a string or a list of strings"));
                        continue;
                    }
                }
            }
            _ => {
                errors.push(vigie_core::FieldError::new(name, "must be a string or a list of strings"));
                continue;
            }
        };
        for value in values {
            if !filters.take(&name, value, &mut errors) {
                errors.push(vigie_core::FieldError::new(
                    name.clone(),
                    "is not a filter (status, team, priority, category, channel, assignee, customer_id, sla_state, due_before)",
                ));
                break;
            }
        }
    }
    // Fields named as the request does: `filter.priority`.
    let invalid = |errors: vigie_core::ValidationErrors| ApiError::invalid(errors.prefixed("filter"));
    vigie_core::ValidationErrors::finish(errors).map_err(invalid)?;
    // Without a status, a filter selects the open tickets: solved and closed ones are history,
    // changed only when asked for by status.
    if filters.statuses.is_empty() {
        filters.statuses = vigie_core::Status::ALL.iter().copied().filter(|s| s.is_open()).collect();
    }
    let too_many = || {
        ApiError::invalid(vigie_core::ValidationErrors::one(
            "filter",
            format!("matches more than {MAX_BULK} tickets: narrow it, or change them in several requests"),
        ))
    };
    if filters.needs_live() {
        let statuses = filters
            .open_statuses("the SLA filters")
            .map_err(|error| invalid(vigie_core::ValidationErrors(vec![error])))?;
        let query = filters.into_live(statuses, actor);
        let ids = state.live.ids_matching(&query, state.now(), MAX_BULK + 1);
        if ids.len() > MAX_BULK {
            return Err(too_many());
        }
        return Ok(ids);
    }
    let mut query: TicketQuery = filters.into_sql(actor);
    query.limit = 1_000;
    let mut ids = Vec::new();
    loop {
        let page = state.store.list_tickets(&query).await?;
        ids.extend(page.items.into_iter().map(|ticket| ticket.id));
        if ids.len() > MAX_BULK {
            return Err(too_many());
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    Ok(ids)
}
