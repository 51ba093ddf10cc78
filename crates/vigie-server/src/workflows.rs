//! Workflows through the API: the paths in force, a ticket's place on its path (in its body),
//! and the handoff (decided by `vigie_core::workflow::hand_over`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigie_core::Rules;
use vigie_core::Ticket;
use vigie_core::workflow::HandoffInput;
use vigie_store::TicketCommand;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, if_match_optional};
use crate::tickets::{TicketBody, with_etag};

/// Where a request is on its category's path, and how long each step took.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathBody {
    /// The category whose workflow it is.
    pub workflow: String,
    /// The calendar the step SLAs run on.
    pub calendar: String,
    /// The step it is in; `null` once resolved (or when it is not on the path).
    pub current_step: Option<String>,
    pub steps: Vec<PathStepBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PathStepBody {
    pub name: String,
    /// The team that works the step.
    pub team: String,
    /// The step SLA, in business minutes; `null` without one.
    pub sla_minutes: Option<i64>,
    /// `current`, `done` (it was in it and left), or `ahead` (never in it yet).
    pub state: &'static str,
    /// When it first entered the step, and when it last left it (`null` while in it).
    pub entered_at: Option<String>,
    pub left_at: Option<String>,
    /// How many times it was in the step (more than once when sent back).
    pub visits: usize,
    /// Time in the step over every visit, up to now for the current one: wall-clock minutes,
    /// and business minutes on the workflow's calendar.
    pub minutes: i64,
    pub business_minutes: i64,
    /// The current visit's deadline (`null` without a step SLA or when not in the step).
    pub due_at: Option<String>,
    /// Visits that took longer than the step SLA (the current one if it is past it now).
    pub over_sla: u32,
    /// The current visit is past its deadline now.
    pub overdue: bool,
}

impl PathBody {
    /// The path of `ticket` at `now`; `None` when its category has no workflow.
    pub fn of(ticket: &Ticket, rules: &Rules, now: Timestamp) -> Option<PathBody> {
        let view = vigie_core::workflow::path(ticket, rules, now)?;
        let steps = view
            .workflow
            .steps
            .iter()
            .zip(&view.steps)
            .enumerate()
            .map(|(n, (step, record))| PathStepBody {
                name: step.name.clone(),
                team: step.team.to_string(),
                sla_minutes: step.sla.map(|sla| sla.as_secs() / 60),
                state: if view.current == Some(n) {
                    "current"
                } else if record.visits.is_empty() {
                    "ahead"
                } else {
                    "done"
                },
                entered_at: record.visits.first().map(|v| v.entered.to_string()),
                left_at: record.visits.last().and_then(|v| v.left).map(|at| at.to_string()),
                visits: record.visits.len(),
                minutes: record.time.as_secs() / 60,
                business_minutes: record.business_time.as_secs() / 60,
                due_at: record.due_at.map(|at| at.to_string()),
                over_sla: record.over_sla,
                overdue: view.current == Some(n) && record.due_at.is_some_and(|due| due < now),
            })
            .collect();
        Some(PathBody {
            workflow: view.workflow.category.clone(),
            calendar: view.workflow.calendar.name().to_owned(),
            current_step: view.current.map(|n| view.workflow.steps[n].name.clone()),
            steps,
        })
    }
}

/// A handoff: why, and (to send it back) the step to go to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    /// Required: why the next team gets the request (recorded in the history). Left out, it is
    /// refused by name (422), like an empty one.
    pub reason: Option<String>,
    /// The step to go to: default the next one; an earlier step sends it back.
    pub to_step: Option<String>,
}

/// Hands the ticket over along its category's path: to the next step (once the current step's
/// checks hold) or back to an earlier one. The ticket goes to that step's team, the history
/// records who handed it, from which step to which and why, and the step's clock starts. With
/// `If-Match`, only from that version (412 otherwise). 409 when it cannot move (no workflow for
/// its category, last step, resolved); 422 naming each unmet check (`requires[n]`) or a bad
/// `to_step`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/handoff", tag = "tickets", request_body = HandOver,
    params(("id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The ETag read, or * (the default)")),
    responses((status = 200, body = TicketBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
pub async fn hand_over(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<HandOver>,
) -> Result<Response, ApiError> {
    let ticket_id = crate::tickets::parse_ticket_id(id)?;
    let expected = if_match_optional(&headers)?;
    let request = body.value;
    let handoff = HandoffInput { reason: request.reason.unwrap_or_default(), to_step: request.to_step }
        .parse()
        .map_err(ApiError::invalid)?;
    let now = state.now();
    let committed = state.submit_at(TicketCommand::HandOver { ticket_id, expected, handoff }, actor, now).await?;
    let body = TicketBody::render(&state, &committed.ticket, now);
    Ok(with_etag(Json(body).into_response(), committed.ticket.version))
}

/// A workflow in force, with the open tickets in each step now.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowBody {
    pub category: String,
    pub calendar: String,
    pub steps: Vec<WorkflowStepBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowStepBody {
    pub name: String,
    pub team: String,
    pub sla_minutes: Option<i64>,
    /// What must hold before a ticket leaves the step forward, in words.
    pub requires: Vec<String>,
    /// Open tickets in the step now.
    pub waiting: u64,
    /// Their median and longest wait in it, in minutes (`null` when none waits).
    pub median_wait_minutes: Option<f64>,
    pub longest_wait_minutes: Option<f64>,
    /// Of those, waiting past the step SLA.
    pub over_sla: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowBody>,
}

/// The workflows in force (defined under `[workflows]` in the rules), each step with the open
/// tickets waiting in it now.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "automation",
    responses((status = 200, body = WorkflowList), (status = 401, body = Problem)))]
pub async fn list_workflows(State(state): State<AppState>, _caller: Caller) -> Json<WorkflowList> {
    let rules = state.rules.rules();
    let now = state.now();
    // Waiting now: the open tickets only (no stay ends in an empty window).
    let figures = state.live.step_figures(&[], now, now);
    let items = rules
        .workflows
        .iter()
        .map(|workflow| WorkflowBody {
            category: workflow.category.clone(),
            calendar: workflow.calendar.name().to_owned(),
            steps: workflow
                .steps
                .iter()
                .map(|step| {
                    let load = figures.iter().find(|f| f.category == workflow.category && f.step == step.name);
                    let waits = load.and_then(|f| f.waits);
                    WorkflowStepBody {
                        name: step.name.clone(),
                        team: step.team.to_string(),
                        sla_minutes: step.sla.map(|sla| sla.as_secs() / 60),
                        requires: step.requires.iter().map(vigie_core::automation::Condition::describe).collect(),
                        waiting: load.map_or(0, |f| f.waiting),
                        median_wait_minutes: waits.map(|w| w.p50),
                        longest_wait_minutes: load.and_then(|f| f.longest_wait),
                        over_sla: load.map_or(0, |f| f.waiting_over_sla),
                    }
                })
                .collect(),
        })
        .collect();
    Json(WorkflowList { items })
}
