//! `/api/v1/teams`, `/agents`, `/customers`: admins write, every token reads.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigie_core::directory::{Agent, AgentInput, Customer, CustomerInput, Team, TeamInput};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub id: String,
    pub name: String,
    /// The business-hours calendar the team works to.
    #[serde(default)]
    pub calendar: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skills {
    /// Categories the agent handles; empty means any.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Languages the agent answers in; empty means any.
    #[serde(default)]
    pub languages: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    #[serde(default)]
    pub skills: Skills,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    pub id: String,
    pub name: String,
    /// `standard` (default), `premium` or `strategic`.
    #[serde(default)]
    pub tier: Option<String>,
    /// Where the rules' messages to this customer go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    pub items: Vec<TeamBody>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub items: Vec<AgentBody>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub items: Vec<CustomerBody>,
}

impl From<Team> for TeamBody {
    fn from(team: Team) -> Self {
        TeamBody { id: team.id.into_string(), name: team.name, calendar: team.calendar }
    }
}

impl From<Agent> for AgentBody {
    fn from(agent: Agent) -> Self {
        AgentBody {
            id: agent.id.into_string(),
            name: agent.name,
            teams: agent.teams.into_iter().map(|t| t.into_string()).collect(),
            skills: Skills { categories: agent.skill_categories, languages: agent.skill_languages },
        }
    }
}

impl From<Customer> for CustomerBody {
    fn from(customer: Customer) -> Self {
        CustomerBody {
            id: customer.id.into_string(),
            name: customer.name,
            tier: Some(customer.tier.as_str().to_owned()),
            email: customer.email,
        }
    }
}

fn require_admin(actor: &vigie_core::Actor) -> Result<(), ApiError> {
    if actor.can_manage_directory() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins manage the directory".into()))
    }
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "directory", request_body = TeamBody,
    responses((status = 201, body = TeamBody), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 415, body = Problem), (status = 413, body = Problem)))]
pub async fn create_team(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<TeamBody>,
) -> Result<(StatusCode, Json<TeamBody>), ApiError> {
    require_admin(&actor)?;
    let request = body.value;
    let team = TeamInput { id: request.id, name: request.name, calendar: request.calendar }
        .parse()
        .map_err(ApiError::invalid)?;
    if let Some(calendar) = &team.calendar
        && state.rules.rules().sla.calendar(calendar).is_none()
    {
        return Err(ApiError::invalid(vigie_core::ValidationErrors::one(
            "calendar",
            format!("`{calendar}` is not a calendar (see GET /api/v1/calendars)"),
        )));
    }
    state.store.create_team(&team, state.now()).await?;
    state.live.reload_directory(&state.store).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "directory", responses((status = 200, body = TeamList), (status = 401, body = Problem)))]
pub async fn list_teams(State(state): State<AppState>, _caller: Caller) -> Result<Json<TeamList>, ApiError> {
    Ok(Json(TeamList { items: state.store.teams().await?.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "directory", request_body = AgentBody,
    responses((status = 201, body = AgentBody), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 415, body = Problem), (status = 413, body = Problem)))]
pub async fn create_agent(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<AgentBody>,
) -> Result<(StatusCode, Json<AgentBody>), ApiError> {
    require_admin(&actor)?;
    let request = body.value;
    let agent = AgentInput {
        id: request.id,
        name: request.name,
        teams: request.teams,
        skill_categories: request.skills.categories,
        skill_languages: request.skills.languages,
    }
    .parse()
    .map_err(ApiError::invalid)?;
    // An agent's teams must exist: the directory is the reference for scoping. Checked before
    // the insert rather than by a constraint (teams are a list column); teams are never deleted,
    // so nothing can remove one between the check and the insert.
    let teams = state.store.teams().await?;
    let unknown: Vec<vigie_core::FieldError> = agent
        .teams
        .iter()
        .enumerate()
        .filter(|(_, team)| !teams.iter().any(|known| &known.id == *team))
        .map(|(idx, team)| vigie_core::FieldError::new(format!("teams[{idx}]"), format!("`{team}` does not exist")))
        .collect();
    vigie_core::ValidationErrors::finish(unknown).map_err(ApiError::invalid)?;
    state.store.create_agent(&agent, state.now()).await?;
    state.live.reload_directory(&state.store).await?;
    Ok((StatusCode::CREATED, Json(agent.into())))
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "directory", responses((status = 200, body = AgentList), (status = 401, body = Problem)))]
pub async fn list_agents(State(state): State<AppState>, _caller: Caller) -> Result<Json<AgentList>, ApiError> {
    Ok(Json(AgentList { items: state.store.agents().await?.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "directory", request_body = CustomerBody,
    responses((status = 201, body = CustomerBody), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 415, body = Problem), (status = 413, body = Problem)))]
pub async fn create_customer(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: JsonBody<CustomerBody>,
) -> Result<(StatusCode, Json<CustomerBody>), ApiError> {
    require_admin(&actor)?;
    let request = body.value;
    let customer = CustomerInput { id: request.id, name: request.name, tier: request.tier, email: request.email }
        .parse()
        .map_err(ApiError::invalid)?;
    state.store.create_customer(&customer, state.now()).await?;
    Ok((StatusCode::CREATED, Json(customer.into())))
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "directory", responses((status = 200, body = CustomerList), (status = 401, body = Problem)))]
pub async fn list_customers(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<CustomerList>, ApiError> {
    // Addresses are personal data: admins (who set them) read them, nobody else.
    let admin = actor.can_manage_directory();
    let items = state
        .store
        .customers()
        .await?
        .into_iter()
        .map(|customer| CustomerBody { email: customer.email.clone().filter(|_| admin), ..customer.into() })
        .collect();
    Ok(Json(CustomerList { items }))
}
