//! `POST /api/v1/queue/next`: the best ticket an agent may take, claimed for them.
//!
//! The live state proposes the first few unassigned tickets waiting to be worked (`new` or
//! `open`) of the agent's teams, in queue order, within their skills (categories, languages),
//! and reserves them so that concurrent callers on this instance try other ones; a `Claim`
//! command then gives the first still free to the agent, decided by the database in the
//! write transaction, so that two callers — on one instance or several — never get the same
//! ticket. If all were taken meanwhile (by another instance), they are read again from the
//! store and the next ones are tried.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use vigie_core::{Actor, AgentId, CommandError, Role, TeamId};
use vigie_store::{Committed, SubmitError, TicketCommand};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::tickets::TicketBody;

/// Tickets proposed to one claim.
const CANDIDATES: usize = 4;
/// Rounds of candidates before giving up (each round found every candidate taken by another
/// instance since the live state last heard of them, or busy with other callers).
const MAX_ROUNDS: usize = 200;
/// The wait before asking again when every fitting ticket is being claimed by someone else.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_millis(2);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextTicket {
    /// The agent who will work the ticket; an agent token asks for itself (its name), which is
    /// the default for it.
    pub agent: Option<String>,
    /// Only this team's queue (one of the agent's teams); default: all of the agent's teams.
    pub team: Option<String>,
}

/// Claims the best open, unassigned ticket this agent may take, and returns it (200), or
/// answers 204 when there is none.
#[utoipa::path(post, path = "/api/v1/queue/next", tag = "queue", request_body = NextTicket,
    responses((status = 200, body = TicketBody), (status = 204, description = "No ticket for this agent now"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn next_ticket(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<NextTicket>,
) -> Result<Response, ApiError> {
    let request = body.value;
    if actor.role == Role::Viewer {
        return Err(ApiError::Forbidden("viewers cannot take tickets".into()));
    }
    // An agent token asks for itself by default.
    let agent_text = match (request.agent, actor.role) {
        (Some(agent), _) => agent,
        (None, Role::Agent) => actor.name.clone(),
        (None, _) => {
            return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
                "agent",
                "is required (the agent who will work the ticket)",
            )));
        }
    };
    let agent_id = AgentId::parse(agent_text.clone())
        .map_err(|error| ApiError::invalid(vigie_core::ValidationErrors::one("agent", error.to_string())))?;
    if actor.role == Role::Agent && actor.name != agent_id.as_str() {
        return Err(ApiError::Forbidden(format!(
            "an agent token takes tickets for its own agent (`{}`), not for `{agent_id}`",
            actor.name
        )));
    }
    let team = request
        .team
        .map(|text| {
            TeamId::parse(text)
                .map_err(|error| ApiError::invalid(vigie_core::ValidationErrors::one("team", error.to_string())))
        })
        .transpose()?;
    match claim_next(&state, &actor, agent_id, team).await? {
        Some((committed, now)) => {
            let body = TicketBody::render(&state, &committed.ticket, now);
            let response = (StatusCode::OK, Json(body)).into_response();
            Ok(crate::tickets::with_etag(response, committed.ticket.version))
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Claims the best ticket `agent_id` may take (of `team`, one of theirs, or of all their
/// teams), for `actor`: the commit and its instant, or `None` when there is none.
pub async fn claim_next(
    state: &AppState,
    actor: &Actor,
    agent_id: AgentId,
    team: Option<TeamId>,
) -> Result<Option<(Committed, jiff::Timestamp)>, ApiError> {
    let agent = match state.live.agent(&agent_id) {
        Some(agent) => agent,
        None => {
            // Created by another instance since the directory was last read?
            state.live.reload_directory(&state.store).await?;
            state.live.agent(&agent_id).ok_or_else(|| {
                ApiError::invalid(vigie_core::ValidationErrors::one("agent", format!("`{agent_id}` does not exist")))
            })?
        }
    };
    let mut teams: Vec<TeamId> = agent.teams.clone();
    if let Some(team) = team {
        if !teams.contains(&team) {
            return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
                "team",
                format!("`{agent_id}` does not work for team `{team}`"),
            )));
        }
        teams = vec![team];
    }
    if let Some(scope) = actor.team_scope() {
        teams.retain(|team| scope.contains(team));
        if teams.is_empty() {
            return Err(ApiError::Forbidden(format!(
                "this token's teams ({}) are none of the teams `{agent_id}` works for",
                scope.iter().map(TeamId::as_str).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let skills = agent.skills();
    let mut rounds = 0;
    loop {
        rounds += 1;
        if rounds > MAX_ROUNDS {
            return Err(ApiError::Unavailable("every ticket proposed was taken meanwhile; ask again".into()));
        }
        let reservation = state.live.reserve_candidates(&teams, &skills, CANDIDATES);
        if reservation.ids.is_empty() {
            if reservation.n_busy == 0 {
                return Ok(None);
            }
            // Others are claiming the tickets that fit: they will take one each and release the
            // rest; ask again in a moment rather than answer "none".
            drop(reservation);
            tokio::time::sleep(BUSY_RETRY).await;
            continue;
        }
        let candidates = reservation.ids.clone();
        let now = state.now();
        let command = TicketCommand::Claim { agent: agent_id.clone(), candidates: candidates.clone() };
        let result = state.submit_at(command, actor.clone(), now).await;
        drop(reservation);
        match result {
            Ok(committed) => return Ok(Some((committed, now))),
            Err(SubmitError::Rejected(CommandError::NotClaimable(_) | CommandError::NotFound)) => {
                // Taken elsewhere since the live state heard of them: read them again.
                let stored = state.store.stored_tickets(&candidates).await?;
                let gone: Vec<_> =
                    candidates.iter().filter(|id| !stored.iter().any(|s| &s.ticket.id == *id)).cloned().collect();
                state.live.reload(&stored, &gone, now);
            }
            Err(error) => return Err(error.into()),
        }
    }
}
