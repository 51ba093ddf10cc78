//! `/api/v1/tickets`: create, read, change, comment, history, lists. Handlers parse, call the
//! store (whose batch calls the core), and render; the rules live in `vigie-core`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigie_core::calendar::ALWAYS_OPEN;
use vigie_core::queue::{self, QueueFacts, QueueKey};
use vigie_core::sla::SlaState;
use vigie_core::{
    Channel, NewCommentInput, NewTicketInput, Priority, Status, TeamId, Ticket, TicketId, TicketPatchInput,
};
use vigie_store::{Cursor, IdempotencyKey, TicketCommand, TicketQuery};

use crate::AppState;
use crate::auth::{Caller, hex};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, idempotency_key, if_match, if_match_optional, query_pairs};
pub(crate) use crate::live::Filters;
use crate::live::{LiveCursor, LiveOrder, LiveQuery};

/// Most items a list page may ask for.
pub const MAX_PAGE: u32 = 500;
/// Items per page when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 50;

/// A ticket as the API shows it. `id` comes first, so that a client reading the body with a
/// pattern finds the ticket's id before any other.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketBody {
    pub id: String,
    /// Grows by one with each change; send it back in `If-Match`.
    pub version: i64,
    pub status: &'static str,
    pub priority: &'static str,
    pub category: String,
    pub channel: &'static str,
    pub customer_id: String,
    pub customer_tier: &'static str,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub subject: String,
    pub body: String,
    pub tags: Vec<String>,
    pub legal_risk: bool,
    pub blocking: bool,
    pub csat: Option<u8>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    /// The language the customer writes in (`fr`, `en-GB`), matched against agents' skills.
    pub language: Option<String>,
    /// Where its SLA targets stand now; `null` when no policy covers it.
    pub sla: Option<SlaBody>,
    /// Its place in the queue and what is likely to happen to it; `null` once solved or closed.
    pub queue: Option<QueueBody>,
    /// The step of its category's path it is in (`null`: not on a path).
    pub step: Option<String>,
    /// Where it is on its category's path and how long each step took; `null` when its category
    /// has no workflow (and in lists).
    pub path: Option<crate::workflows::PathBody>,
}

/// A ticket's SLA: each target, the overall state, and the predicted breach.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaBody {
    pub policy: String,
    pub calendar: String,
    /// `breached` if a target is, else `paused`, `running` or `met`.
    pub state: &'static str,
    /// A running target is inside its warning window.
    pub at_risk: bool,
    pub first_response: Option<SlaTargetBody>,
    pub resolution: Option<SlaTargetBody>,
    /// The deadline the work queued ahead of it makes it likely to miss, given the team's
    /// capacity now; `null` when it is on course (or no prediction can be made).
    pub predicted_breach_at: Option<String>,
    /// Which target that deadline is (`first_response` or `resolution`).
    pub predicted_breach_of: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlaTargetBody {
    /// The target, in business minutes of the policy's calendar.
    pub target_minutes: u32,
    /// `running`, `paused`, `met` or `breached`.
    pub state: &'static str,
    /// The deadline; `null` while paused (it moves with the pause).
    pub due_at: Option<String>,
    /// Business minutes left, rounded down: negative once breached, frozen while paused.
    pub minutes_left: i64,
    pub at_risk: bool,
    /// When the warning window opens (running targets).
    pub at_risk_at: Option<String>,
}

/// Why an open ticket stands where it stands in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueBody {
    /// `p1` (critical, first), `deadline` (by effective deadline) or `paused` (waiting, last).
    pub class: &'static str,
    /// The deadline it is ordered by, before boosts.
    pub deadline: Option<String>,
    /// `first_response`, `resolution`, or `no_sla` (created + the configured horizon).
    pub deadline_of: Option<&'static str>,
    /// The deadline after boosts: what the order compares.
    pub effective_deadline: Option<String>,
    /// What moved the deadline earlier, and by how many business minutes.
    pub boosts: Vec<BoostBody>,
    /// Paused tickets: business minutes left on their most pressing target.
    pub paused_minutes_left: Option<i64>,
    /// 1-based position in its team's queue, and the queue's length.
    pub position: usize,
    pub queue_length: usize,
    /// Minutes of work queued ahead of it in its team's queue.
    pub work_ahead_minutes: f64,
    /// When an agent is likely to start on it and to finish it, given the team's agents and
    /// calendar; `null` when the team has no agent on record.
    pub predicted_start_at: Option<String>,
    pub predicted_done_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoostBody {
    /// `strategic`, `premium`, `legal_risk` or `blocking`.
    pub reason: &'static str,
    pub minutes: u32,
}

impl TicketBody {
    /// The ticket as the API shows it at `now`: its SLA computed under the rules in force, its
    /// place and prediction from the live state.
    pub fn render(state: &AppState, ticket: &Ticket, now: Timestamp) -> TicketBody {
        let rules = state.rules.rules();
        // The SLA once, from the ticket shown; the live state gives only its rank in the queue.
        let evaluated = ticket.sla_clock().map(|clock| rules.sla.evaluate(&clock, now));
        let standing = if ticket.status.is_open() { state.live.standing(&ticket.id) } else { None };
        let prediction = standing.as_ref().and_then(|standing| {
            let capacity = standing.capacity.as_ref()?;
            let calendar = rules.sla.calendar_or_always(capacity.calendar.as_deref().unwrap_or(ALWAYS_OPEN));
            let capacity = queue::Capacity { agents: capacity.agents, calendar };
            queue::predict(now, capacity, standing.work_ahead_minutes, standing.own_minutes, evaluated.as_ref())
        });
        let sla = ticket.sla_clock().zip(evaluated.as_ref()).map(|(clock, evaluated)| {
            let target = |status: &Option<vigie_core::sla::TargetStatus>| {
                status.as_ref().map(|t| SlaTargetBody {
                    target_minutes: t.target_minutes,
                    state: t.state.as_str(),
                    due_at: t.due_at.map(|at| at.to_string()),
                    minutes_left: t.minutes_left(),
                    at_risk: t.is_at_risk(now),
                    at_risk_at: t.at_risk_at.map(|at| at.to_string()),
                })
            };
            let breach = prediction.as_ref().and_then(|p| p.breach);
            SlaBody {
                policy: clock.targets.policy.clone(),
                calendar: clock.targets.calendar.clone(),
                state: evaluated.state().map_or("met", SlaState::as_str),
                at_risk: evaluated.targets().any(|t| t.is_at_risk(now)),
                first_response: target(&evaluated.first_response),
                resolution: target(&evaluated.resolution),
                predicted_breach_at: breach.map(|(_, at)| at.to_string()),
                predicted_breach_of: breach.map(|(target, _)| target.as_str()),
            }
        });
        let queue = standing.map(|standing| {
            let place = queue::place(&QueueFacts::of_ticket(ticket, evaluated.as_ref(), &rules), &rules.queue);
            QueueBody {
                class: place.class.as_str(),
                deadline: place.deadline.map(|at| at.to_string()),
                deadline_of: place.deadline_source.map(|source| source.as_str()),
                effective_deadline: place.effective_deadline.map(|at| at.to_string()),
                boosts: place
                    .boosts
                    .iter()
                    .map(|(boost, minutes)| BoostBody { reason: boost.as_str(), minutes: *minutes })
                    .collect(),
                paused_minutes_left: place.paused_left.map(|left| left.as_secs().div_euclid(60)),
                position: standing.position,
                queue_length: standing.queue_length,
                work_ahead_minutes: (standing.work_ahead_minutes * 10.0).round() / 10.0,
                predicted_start_at: prediction.as_ref().map(|p| p.start_at.to_string()),
                predicted_done_at: prediction.as_ref().map(|p| p.done_at.to_string()),
            }
        });
        let path = crate::workflows::PathBody::of(ticket, &rules, now);
        // The step of a path in force (not one since removed, nor one of a resolved ticket).
        let step = path.as_ref().and_then(|path| path.current_step.clone());
        TicketBody { sla, queue, path, step, ..TicketBody::from(ticket) }
    }
}

impl From<&Ticket> for TicketBody {
    /// The stored ticket alone, without its SLA and queue (see [`TicketBody::render`]).
    fn from(ticket: &Ticket) -> Self {
        TicketBody {
            id: ticket.id.to_string(),
            version: ticket.version,
            status: ticket.status.as_str(),
            priority: ticket.priority.as_str(),
            category: ticket.category.clone(),
            channel: ticket.channel.as_str(),
            customer_id: ticket.customer_id.to_string(),
            customer_tier: ticket.customer_tier.as_str(),
            team: ticket.team.as_ref().map(ToString::to_string),
            assignee: ticket.assignee.as_ref().map(ToString::to_string),
            subject: ticket.subject.clone(),
            body: ticket.body.clone(),
            tags: ticket.tags.clone(),
            legal_risk: ticket.legal_risk,
            blocking: ticket.blocking,
            csat: ticket.csat,
            created_at: ticket.created_at.to_string(),
            updated_at: ticket.updated_at.to_string(),
            first_response_at: ticket.first_response_at.map(|t| t.to_string()),
            resolved_at: ticket.resolved_at.map(|t| t.to_string()),
            language: ticket.language.clone(),
            sla: None,
            queue: None,
            step: ticket.current_step().map(str::to_owned),
            path: None,
        }
    }
}

/// A new ticket. Required: `subject`, `body`, `channel`, `category`, `priority`, `customer_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    pub subject: Option<String>,
    pub body: Option<String>,
    /// `email`, `chat`, `phone`, `web` or `social`.
    pub channel: Option<String>,
    pub category: Option<String>,
    /// `P1` (critical) … `P4` (low).
    pub priority: Option<String>,
    pub customer_id: Option<String>,
    /// `standard`, `premium` or `strategic`; default: the customer's tier on record.
    pub customer_tier: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub legal_risk: bool,
    #[serde(default)]
    pub blocking: bool,
    /// The customer's language (`fr`, `en-GB`): "next ticket" gives it to agents who speak it.
    pub language: Option<String>,
}

/// A change: only the fields present are changed; `null` clears `team`, `assignee` or `csat`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PatchTicket {
    #[schema(value_type = Option<String>)]
    pub status: Field<String>,
    #[schema(value_type = Option<String>)]
    pub priority: Field<String>,
    #[schema(value_type = Option<String>)]
    pub category: Field<String>,
    #[schema(value_type = Option<String>)]
    pub team: Field<String>,
    #[schema(value_type = Option<String>)]
    pub assignee: Field<String>,
    #[schema(value_type = Option<String>)]
    pub customer_tier: Field<String>,
    #[schema(value_type = Option<bool>)]
    pub legal_risk: Field<bool>,
    #[schema(value_type = Option<bool>)]
    pub blocking: Field<bool>,
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Field<Vec<String>>,
    #[schema(value_type = Option<i64>)]
    pub csat: Field<i64>,
    #[schema(value_type = Option<String>)]
    pub language: Field<String>,
}

impl PatchTicket {
    /// The checked change; every bad field named.
    pub fn parse(self) -> Result<vigie_core::TicketPatch, vigie_core::ValidationErrors> {
        let mut nulls = Vec::new();
        let input = TicketPatchInput {
            status: self.status.not_null(&mut nulls, "status"),
            priority: self.priority.not_null(&mut nulls, "priority"),
            category: self.category.not_null(&mut nulls, "category"),
            team: self.team.nullable(),
            assignee: self.assignee.nullable(),
            customer_tier: self.customer_tier.not_null(&mut nulls, "customer_tier"),
            legal_risk: self.legal_risk.not_null(&mut nulls, "legal_risk"),
            blocking: self.blocking.not_null(&mut nulls, "blocking"),
            tags: self.tags.not_null(&mut nulls, "tags"),
            csat: self.csat.nullable(),
            language: self.language.nullable(),
        };
        vigie_core::ValidationErrors::finish(nulls)?;
        input.parse()
    }
}

/// A field of a change: left out, sent as `null`, or sent with a value. JSON's three cases,
/// which `Option` alone cannot tell apart.
#[derive(Debug, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    /// Only called for a field that is present (an absent one takes the default).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Field::Null, Field::Value))
    }
}

/// Serialised as the JSON it came from, less the difference between absent and `null` (the
/// OpenAPI derive serialises the default to describe the field).
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Absent | Field::Null => serializer.serialize_none(),
            Field::Value(value) => serializer.serialize_some(value),
        }
    }
}

impl<T> Field<T> {
    /// For a field that can be cleared: `None` keeps it, `Some(None)` clears it.
    fn nullable(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(value) => Some(Some(value)),
        }
    }

    /// For a field that cannot be cleared: `null` is a problem named after the field.
    fn not_null(self, errors: &mut Vec<vigie_core::FieldError>, field: &str) -> Option<T> {
        match self {
            Field::Absent => None,
            Field::Null => {
                errors.push(vigie_core::FieldError::new(field, "cannot be null (leave it out to keep it)"));
                None
            }
            Field::Value(value) => Some(value),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateComment {
    pub body: Option<String>,
    /// Public comments go to the customer; the first public one by an agent is the first response.
    #[serde(default)]
    pub public: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeTicket {
    /// The ticket that carries the request on (open, one the caller can see). Required.
    #[schema(required = true)]
    pub into: Option<String>,
}

/// One entry of a ticket's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub seq: i64,
    pub ticket_id: String,
    pub version: i64,
    pub at: String,
    pub actor: String,
    /// `ticket_created`, `status_changed`, `fields_changed`, `comment_added`, `sla_applied`,
    /// `sla_at_risk`, `sla_breached`, `duplicates_suggested`, `merged_into` or `merged_from`.
    pub kind: &'static str,
    /// What changed: the ticket for `ticket_created`, `{from, to}` for a status, `{field: {from,
    /// to}}` for fields, `{public, body, first_response}` for a comment, `{from, to}` targets for
    /// `sla_applied`, `{target, due_at}` for a warning or a breach, `{similar: [{ticket,
    /// score}]}` (the most similar first) for `duplicates_suggested`, `{into}` and `{from}` for
    /// a merge's two sides.
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
}

impl From<&vigie_core::Event> for EventBody {
    fn from(event: &vigie_core::Event) -> Self {
        EventBody {
            seq: event.seq,
            ticket_id: event.ticket_id.to_string(),
            version: event.version,
            at: event.at.to_string(),
            actor: event.actor.clone(),
            kind: event.kind.name(),
            change: vigie_store::event_data(&event.kind),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub items: Vec<TicketBody>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// List filters. Every filter may be repeated (`status=new&status=open`): values of one filter
/// are alternatives, different filters all apply.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query string for OpenAPI; parsed by hand to allow repeats")]
pub struct ListParams {
    /// A status, or `open` for every status but solved and closed.
    status: Option<Vec<String>>,
    team: Option<Vec<String>>,
    priority: Option<Vec<String>>,
    category: Option<Vec<String>>,
    channel: Option<Vec<String>>,
    assignee: Option<Vec<String>>,
    customer_id: Option<Vec<String>>,
    /// The ticket's overall SLA state now: `running`, `paused`, `met` or `breached` (open
    /// tickets only).
    sla_state: Option<Vec<String>>,
    /// RFC 3339: open tickets whose SLA deadline (the first response's while unanswered, else
    /// the resolution's; running or breached) is before it. Tickets without SLA have none.
    due_before: Option<String>,
    /// `created` (oldest first, the default) or `queue` (the prioritisation order: P1 first,
    /// then by effective deadline, then oldest; open tickets only; each item says why in
    /// `queue`).
    order: Option<String>,
    /// Items per page, 1–500 (default 50).
    limit: Option<u32>,
    /// The `next` of the previous page.
    after: Option<String>,
}

/// A parsed list request: answered by SQL, or by the live state (the queue order and the SLA
/// filters, which only the live state can answer for a million open tickets).
enum ListRequest {
    Sql(TicketQuery),
    Live(LiveQuery),
}

/// The digest of a request for idempotency: over its JSON *value* with keys sorted, so that a
/// client that re-serialises a retry (other key order, other spacing) is still recognised.
fn request_digest(raw: &[u8]) -> String {
    use sha2::Digest;
    // The body was parsed already, so this parse succeeds; fall back to the bytes regardless.
    let canonical = serde_json::from_slice::<serde_json::Value>(raw)
        .and_then(|value| serde_json::to_vec(&value))
        .unwrap_or_else(|_| raw.to_vec());
    hex(&sha2::Sha256::digest(&canonical))
}

pub(crate) fn with_etag(mut response: Response, version: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

pub(crate) fn parse_ticket_id(id: String) -> Result<TicketId, ApiError> {
    // An id that cannot exist is simply not found.
    TicketId::parse(id).map_err(|_| ApiError::NotFound("ticket not found".into()))
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = CreateTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a create safely: the same key and body return the first result")),
    responses((status = 201, body = TicketBody), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 415, body = Problem)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    body: JsonBody<CreateTicket>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let request = body.value;
    let mut missing = Vec::new();
    let mut required = |field: &'static str, value: Option<String>| {
        value.unwrap_or_else(|| {
            missing.push(vigie_core::FieldError::new(field, "is required"));
            String::new()
        })
    };
    let input = NewTicketInput {
        subject: required("subject", request.subject),
        body: required("body", request.body),
        channel: required("channel", request.channel),
        category: required("category", request.category),
        priority: required("priority", request.priority),
        customer_id: required("customer_id", request.customer_id),
        customer_tier: request.customer_tier,
        team: request.team,
        assignee: request.assignee,
        tags: request.tags,
        legal_risk: request.legal_risk,
        blocking: request.blocking,
        language: request.language,
    };
    if !missing.is_empty() {
        return Err(ApiError::invalid(vigie_core::ValidationErrors(missing)));
    }
    let mut new_ticket = input.parse().map_err(ApiError::invalid)?;
    new_ticket.similar = state.similar.suggestions(&new_ticket, &actor);
    let idempotency = key.map(|key| IdempotencyKey { key, request_digest: request_digest(&body.raw) });
    let now = state.now();
    let committed = state.submit_at(TicketCommand::Create { new_ticket, idempotency }, actor, now).await?;
    let ticket = &committed.ticket;
    let mut response = (StatusCode::CREATED, Json(TicketBody::render(&state, ticket, now))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/tickets/{}", ticket.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(with_etag(response, ticket.version))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = TicketBody, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let ticket = visible_ticket(&state, &actor, id).await?;
    let body = TicketBody::render(&state, &ticket, state.now());
    Ok(with_etag(Json(body).into_response(), ticket.version))
}

/// An open ticket found nearly the same as another.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarBody {
    pub id: String,
    /// The Jaccard similarity of the two tickets' normalised texts (character 5-grams), 0 to 1.
    pub score: f64,
    pub subject: String,
    pub status: String,
    pub team: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarList {
    /// The most similar first, at most five; only open tickets the caller may see.
    pub similar: Vec<SimilarBody>,
    /// The least similarity listed.
    pub threshold: f64,
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/similar", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = SimilarList), (status = 401, body = Problem), (status = 404, body = Problem)))]
/// The open tickets that say nearly what this one says (its likely duplicates), now.
pub async fn similar_tickets(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<SimilarList>, ApiError> {
    let ticket = visible_ticket(&state, &actor, id).await?;
    let found = state.similar.similar(&state.store, &ticket.subject, &ticket.body, &actor, Some(&ticket.id)).await?;
    let similar = found
        .into_iter()
        .map(|(t, score)| SimilarBody {
            id: t.id.to_string(),
            score: (score * 1000.0).round() / 1000.0,
            subject: t.subject,
            status: t.status.as_str().to_owned(),
            team: t.team.map(|team| team.to_string()),
            created_at: t.created_at.to_string(),
        })
        .collect();
    Ok(Json(SimilarList { similar, threshold: state.similar.threshold() }))
}

async fn visible_ticket(state: &AppState, actor: &vigie_core::Actor, id: String) -> Result<Ticket, ApiError> {
    let id = parse_ticket_id(id)?;
    match state.store.ticket(&id).await? {
        Some(ticket) if actor.can_see(&ticket) => Ok(ticket),
        _ => Err(ApiError::NotFound("ticket not found".into())),
    }
}

#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", request_body = PatchTicket,
    params(("id" = String, Path), ("If-Match" = String, Header, description = "The ETag read, or * for any version")),
    responses((status = 200, body = TicketBody), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem), (status = 413, body = Problem)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<PatchTicket>,
) -> Result<Response, ApiError> {
    let ticket_id = parse_ticket_id(id)?;
    let expected = if_match(&headers)?;
    let patch = body.value.parse().map_err(ApiError::invalid)?;
    let now = state.now();
    let committed = state.submit_at(TicketCommand::Patch { ticket_id, expected, patch }, actor, now).await?;
    let body = TicketBody::render(&state, &committed.ticket, now);
    Ok(with_etag(Json(body).into_response(), committed.ticket.version))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "tickets", request_body = CreateComment,
    params(("id" = String, Path)),
    responses((status = 201, body = EventBody), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 415, body = Problem), (status = 413, body = Problem)))]
pub async fn create_comment(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: JsonBody<CreateComment>,
) -> Result<Response, ApiError> {
    let ticket_id = parse_ticket_id(id)?;
    let request = body.value;
    let comment = NewCommentInput { body: request.body.unwrap_or_default(), public: request.public }
        .parse()
        .map_err(ApiError::invalid)?;
    let committed = state.submit(TicketCommand::Comment { ticket_id, comment }, actor).await?;
    let event = committed
        .events
        .iter()
        .find(|event| matches!(event.kind, vigie_core::EventKind::CommentAdded { .. }))
        .ok_or_else(|| ApiError::Internal("a comment recorded no event".into()))?;
    let response = (StatusCode::CREATED, Json(EventBody::from(event))).into_response();
    Ok(with_etag(response, committed.ticket.version))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "tickets", request_body = MergeTicket,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "Merge only if the ticket is still at this ETag")),
    responses((status = 200, body = TicketBody, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
/// Merges this ticket (a duplicate) into `into`: it records where it went (`merged_into`, what
/// tells its requester) and is solved and closed; `into` records `merged_from`; each keeps its
/// comments and history. Answers the merged ticket.
pub async fn merge_ticket(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<MergeTicket>,
) -> Result<Response, ApiError> {
    let ticket_id = parse_ticket_id(id)?;
    // Optional here: a merge closes the duplicate whatever changed on it, unless asked not to.
    let expected = if_match_optional(&headers)?;
    let field = |reason: &str| ApiError::invalid(vigie_core::ValidationErrors::one("into", reason));
    let into = match body.value.into {
        None => return Err(field("is required: the id of the ticket to merge into")),
        Some(into) => TicketId::parse(into).map_err(|_| field("names no ticket you can see"))?,
    };
    let committed = state.submit(TicketCommand::Merge { ticket_id, expected, into }, actor).await?;
    let body = TicketBody::render(&state, &committed.ticket, state.now());
    Ok(with_etag(Json(body).into_response(), committed.ticket.version))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = EventList), (status = 404, body = Problem), (status = 401, body = Problem)))]
pub async fn ticket_events(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<EventList>, ApiError> {
    let ticket = visible_ticket(&state, &actor, id).await?;
    let events = state.store.ticket_events(&ticket.id).await?;
    Ok(Json(EventList { items: events.iter().map(EventBody::from).collect() }))
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(ListParams),
    responses((status = 200, body = TicketList), (status = 400, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<TicketList>, ApiError> {
    let now = state.now();
    match parse_list_query(raw.as_deref(), &actor)? {
        ListRequest::Sql(query) => {
            let page = state.store.list_tickets(&query).await?;
            Ok(Json(TicketList {
                items: page.items.iter().map(|ticket| TicketBody::render(&state, ticket, now)).collect(),
                next: page.next.map(|cursor| encode_cursor(&PageCursor::Sql(cursor))),
            }))
        }
        ListRequest::Live(query) => {
            let (items, next) = state.live.page(&query, now);
            let ids: Vec<TicketId> = items.iter().map(|item| item.id.clone()).collect();
            let tickets = tickets_in_order(&state, &ids).await?;
            Ok(Json(TicketList {
                items: tickets.iter().map(|ticket| TicketBody::render(&state, ticket, now)).collect(),
                next: next.map(|cursor| encode_cursor(&PageCursor::Live(cursor))),
            }))
        }
    }
}

/// The tickets with these ids from the store, in the order of `ids` (those gone are left out).
pub(crate) async fn tickets_in_order(state: &AppState, ids: &[TicketId]) -> Result<Vec<Ticket>, ApiError> {
    let mut by_id: std::collections::HashMap<String, Ticket> =
        state.store.tickets_by_ids(ids).await?.into_iter().map(|ticket| (ticket.id.to_string(), ticket)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id.as_str())).collect())
}

/// The filters of a list or of a bulk change, parsed from `name=value` pairs.
impl Filters {
    /// Takes one `name=value`; `false` when `name` is not a filter. A bad value is pushed to
    /// `errors`, named after the filter.
    pub(crate) fn take(&mut self, name: &str, value: String, errors: &mut Vec<vigie_core::FieldError>) -> bool {
        let mut bad = |reason: String| errors.push(vigie_core::FieldError::new(name, reason));
        match name {
            "status" if value == "open" => self.statuses.extend(Status::ALL.iter().filter(|s| s.is_open())),
            "status" => match Status::parse(&value) {
                Some(status) => self.statuses.push(status),
                None => bad(format!("{} (`open` means every status but solved and closed)", Status::expected())),
            },
            "team" => match TeamId::parse(value) {
                Ok(team) => self.teams.push(team),
                Err(error) => bad(error.to_string()),
            },
            "priority" => match Priority::parse(&value) {
                Some(priority) => self.priorities.push(priority),
                None => bad(Priority::expected()),
            },
            "category" => match vigie_core::command::parse_category(value) {
                Ok(category) => self.categories.push(category),
                Err(reason) => bad(reason),
            },
            "channel" => match Channel::parse(&value) {
                Some(channel) => self.channels.push(channel),
                None => bad(Channel::expected()),
            },
            "assignee" => match vigie_core::AgentId::parse(value) {
                Ok(agent) => self.assignees.push(agent.into_string()),
                Err(error) => bad(error.to_string()),
            },
            "customer_id" => match vigie_core::CustomerId::parse(value) {
                Ok(customer) => self.customer_ids.push(customer),
                Err(error) => bad(error.to_string()),
            },
            "sla_state" => match SlaState::parse(&value) {
                Some(sla_state) => self.sla_states.push(sla_state),
                None => bad(SlaState::expected()),
            },
            "due_before" => match value.parse::<Timestamp>() {
                Ok(at) => self.due_before = Some(at),
                Err(_) => bad("must be an RFC 3339 instant such as 2026-03-02T08:15:00Z".into()),
            },
            _ => return false,
        }
        true
    }

    /// Whether only the live state can answer (the SLA filters).
    pub(crate) fn needs_live(&self) -> bool {
        !self.sla_states.is_empty() || self.due_before.is_some()
    }

    /// The statuses for a live query: all open when none was asked; an error naming `status`
    /// when one asked is solved or closed.
    pub(crate) fn open_statuses(&self, why: &str) -> Result<Vec<Status>, vigie_core::FieldError> {
        if let Some(closed) = self.statuses.iter().find(|s| !s.is_open()) {
            return Err(vigie_core::FieldError::new(
                "status",
                format!("cannot be `{closed}` here: {why} cover open tickets only"),
            ));
        }
        Ok(self.statuses.clone())
    }

    pub(crate) fn into_live(self, statuses: Vec<Status>, actor: &vigie_core::Actor) -> LiveQuery {
        LiveQuery {
            filters: Filters { statuses, ..self },
            scope: actor.team_scope().map(<[TeamId]>::to_vec),
            ..LiveQuery::default()
        }
    }

    pub(crate) fn into_sql(mut self, actor: &vigie_core::Actor) -> TicketQuery {
        self.statuses.sort();
        self.statuses.dedup();
        TicketQuery {
            statuses: self.statuses,
            teams: self.teams,
            priorities: self.priorities,
            categories: self.categories,
            channels: self.channels,
            assignees: self.assignees,
            customer_ids: self.customer_ids,
            scope: actor.team_scope().map(<[TeamId]>::to_vec),
            ..TicketQuery::default()
        }
    }
}

fn parse_list_query(raw: Option<&str>, actor: &vigie_core::Actor) -> Result<ListRequest, ApiError> {
    let mut filters = Filters::default();
    let mut errors = Vec::new();
    let mut order = None;
    let mut limit = DEFAULT_PAGE;
    let mut after = None;
    for (name, value) in query_pairs(raw) {
        if filters.take(&name, value.clone(), &mut errors) {
            continue;
        }
        match name.as_str() {
            "order" => match value.as_str() {
                "created" | "queue" => order = Some(value),
                _ => errors.push(vigie_core::FieldError::new("order", "must be `created` or `queue`")),
            },
            "limit" => match value.parse::<u32>() {
                Ok(value @ 1..=MAX_PAGE) => limit = value,
                _ => errors
                    .push(vigie_core::FieldError::new("limit", format!("must be an integer from 1 to {MAX_PAGE}"))),
            },
            "after" => after = Some(value),
            _ => {
                return Err(ApiError::bad_field(
                    name.clone(),
                    "is not a filter of this list (status, team, priority, category, channel, assignee, \
                     customer_id, sla_state, due_before, order, limit, after)",
                ));
            }
        }
    }
    let queue_order = order.as_deref() == Some("queue");
    let live = queue_order || filters.needs_live();
    let after = match after.map(|text| decode_cursor(&text)) {
        None => None,
        Some(Some(cursor)) => Some(cursor),
        Some(None) => {
            errors.push(vigie_core::FieldError::new("after", "is not a cursor this server gave"));
            None
        }
    };
    let why = if queue_order { "the queue order and the SLA filters" } else { "the SLA filters" };
    let statuses = if live {
        filters.open_statuses(why).map_err(|error| errors.push(error)).unwrap_or_default()
    } else {
        Vec::new()
    };
    let wrong_list = || vigie_core::FieldError::new("after", "belongs to a list in another order");
    let request = if live {
        let mut query = filters.into_live(statuses, actor);
        query.order = if queue_order { LiveOrder::Queue } else { LiveOrder::Created };
        query.limit = usize::try_from(limit).unwrap_or(usize::MAX);
        match after {
            None => {}
            Some(PageCursor::Live(cursor @ LiveCursor::Queue { .. })) if queue_order => query.after = Some(cursor),
            Some(PageCursor::Live(cursor @ LiveCursor::Created { .. })) if !queue_order => query.after = Some(cursor),
            Some(_) => errors.push(wrong_list()),
        }
        ListRequest::Live(query)
    } else {
        let mut query = filters.into_sql(actor);
        query.limit = limit;
        match after {
            None => {}
            Some(PageCursor::Sql(cursor)) => query.after = Some(cursor),
            Some(PageCursor::Live(_)) => errors.push(wrong_list()),
        }
        ListRequest::Sql(query)
    };
    vigie_core::ValidationErrors::finish(errors).map_err(ApiError::invalid)?;
    Ok(request)
}

/// Where a page stopped, in either kind of list.
enum PageCursor {
    Sql(Cursor),
    Live(LiveCursor),
}

/// Cursors are opaque to clients: base64url of `c|created_micros|id` (stored tickets by
/// creation), `q|class|value|created_micros|id` (the queue) or `l|created_micros|id` (open
/// tickets by creation, from the live state).
fn encode_cursor(cursor: &PageCursor) -> String {
    let text = match cursor {
        PageCursor::Sql(cursor) => format!("c|{}|{}", cursor.created_at, cursor.id),
        PageCursor::Live(LiveCursor::Queue { key, id }) => {
            format!("q|{}|{}|{}|{id}", key.class, key.value, key.created_at)
        }
        PageCursor::Live(LiveCursor::Created { created_at, id }) => format!("l|{created_at}|{id}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(text: &str) -> Option<PageCursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let parts: Vec<&str> = text.splitn(5, '|').collect();
    let id = |text: &str| TicketId::parse(text).ok().map(TicketId::into_string);
    match parts.as_slice() {
        ["c", created_at, ticket_id] => {
            Some(PageCursor::Sql(Cursor { created_at: created_at.parse().ok()?, id: id(ticket_id)? }))
        }
        ["q", class, value, created_at, ticket_id] => Some(PageCursor::Live(LiveCursor::Queue {
            key: QueueKey {
                class: class.parse().ok()?,
                value: value.parse().ok()?,
                created_at: created_at.parse().ok()?,
            },
            id: id(ticket_id)?,
        })),
        ["l", created_at, ticket_id] => {
            Some(PageCursor::Live(LiveCursor::Created { created_at: created_at.parse().ok()?, id: id(ticket_id)? }))
        }
        _ => None,
    }
}
