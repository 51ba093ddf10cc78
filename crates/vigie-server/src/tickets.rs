//! `/api/v1/tickets`: create, read, change, comment, history, lists. Handlers parse, call the
//! store (whose batch calls the core), and render; the rules live in `vigie-core`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigie_core::{
    Channel, NewCommentInput, NewTicketInput, Priority, Status, TeamId, Ticket, TicketId, TicketPatchInput,
};
use vigie_store::{Cursor, IdempotencyKey, Submission, TicketCommand, TicketOrder, TicketQuery};

use crate::AppState;
use crate::auth::{Caller, hex};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, idempotency_key, if_match, query_pairs};

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
}

impl From<&Ticket> for TicketBody {
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

/// One entry of a ticket's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub seq: i64,
    pub ticket_id: String,
    pub version: i64,
    pub at: String,
    pub actor: String,
    /// `ticket_created`, `status_changed`, `fields_changed` or `comment_added`.
    pub kind: &'static str,
    /// What changed: the ticket for `ticket_created`, `{from, to}` for a status, `{field: {from,
    /// to}}` for fields, `{public, body, first_response}` for a comment.
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
    /// `created` (oldest first, the default) or `queue` (most urgent first: priority, then oldest).
    order: Option<String>,
    /// Items per page, 1–500 (default 50).
    limit: Option<u32>,
    /// The `next` of the previous page.
    after: Option<String>,
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

fn with_etag(mut response: Response, version: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn parse_ticket_id(id: String) -> Result<TicketId, ApiError> {
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
    };
    if !missing.is_empty() {
        return Err(ApiError::invalid(vigie_core::ValidationErrors(missing)));
    }
    let new_ticket = input.parse().map_err(ApiError::invalid)?;
    let idempotency = key.map(|key| IdempotencyKey { key, request_digest: request_digest(&body.raw) });
    let committed = state
        .store
        .submit(Submission { command: TicketCommand::Create { new_ticket, idempotency }, actor, now: state.now() })
        .await?;
    let ticket = &committed.ticket;
    let mut response = (StatusCode::CREATED, Json(TicketBody::from(ticket))).into_response();
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
    Ok(with_etag(Json(TicketBody::from(&ticket)).into_response(), ticket.version))
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
    let request = body.value;
    let mut nulls = Vec::new();
    let input = TicketPatchInput {
        status: request.status.not_null(&mut nulls, "status"),
        priority: request.priority.not_null(&mut nulls, "priority"),
        category: request.category.not_null(&mut nulls, "category"),
        team: request.team.nullable(),
        assignee: request.assignee.nullable(),
        customer_tier: request.customer_tier.not_null(&mut nulls, "customer_tier"),
        legal_risk: request.legal_risk.not_null(&mut nulls, "legal_risk"),
        blocking: request.blocking.not_null(&mut nulls, "blocking"),
        tags: request.tags.not_null(&mut nulls, "tags"),
        csat: request.csat.nullable(),
    };
    vigie_core::ValidationErrors::finish(nulls).map_err(ApiError::invalid)?;
    let patch = input.parse().map_err(ApiError::invalid)?;
    let committed = state
        .store
        .submit(Submission { command: TicketCommand::Patch { ticket_id, expected, patch }, actor, now: state.now() })
        .await?;
    Ok(with_etag(Json(TicketBody::from(&committed.ticket)).into_response(), committed.ticket.version))
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
    let committed = state
        .store
        .submit(Submission { command: TicketCommand::Comment { ticket_id, comment }, actor, now: state.now() })
        .await?;
    let event = committed
        .events
        .iter()
        .find(|event| matches!(event.kind, vigie_core::EventKind::CommentAdded { .. }))
        .ok_or_else(|| ApiError::Internal("a comment recorded no event".into()))?;
    let response = (StatusCode::CREATED, Json(EventBody::from(event))).into_response();
    Ok(with_etag(response, committed.ticket.version))
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
    let query = parse_list_query(raw.as_deref(), &actor)?;
    let page = state.store.list_tickets(&query).await?;
    Ok(Json(TicketList {
        items: page.items.iter().map(TicketBody::from).collect(),
        next: page.next.map(|cursor| encode_cursor(query.order, &cursor)),
    }))
}

fn parse_list_query(raw: Option<&str>, actor: &vigie_core::Actor) -> Result<TicketQuery, ApiError> {
    let mut query = TicketQuery { limit: DEFAULT_PAGE, ..TicketQuery::default() };
    let mut errors = Vec::new();
    let mut after = None;
    for (name, value) in query_pairs(raw) {
        let mut bad = |reason: String| errors.push(vigie_core::FieldError::new(name.clone(), reason));
        match name.as_str() {
            "status" if value == "open" => query.statuses.extend(Status::ALL.iter().filter(|s| s.is_open())),
            "status" => match Status::parse(&value) {
                Some(status) => query.statuses.push(status),
                None => bad(format!("{} (`open` means every status but solved and closed)", Status::expected())),
            },
            "team" => match TeamId::parse(value) {
                Ok(team) => query.teams.push(team),
                Err(error) => bad(error.to_string()),
            },
            "priority" => match Priority::parse(&value) {
                Some(priority) => query.priorities.push(priority),
                None => bad(Priority::expected()),
            },
            "category" => match vigie_core::command::parse_category(value) {
                Ok(category) => query.categories.push(category),
                Err(reason) => bad(reason),
            },
            "channel" => match Channel::parse(&value) {
                Some(channel) => query.channels.push(channel),
                None => bad(Channel::expected()),
            },
            "assignee" => match vigie_core::AgentId::parse(value) {
                Ok(agent) => query.assignees.push(agent.into_string()),
                Err(error) => bad(error.to_string()),
            },
            "customer_id" => match vigie_core::CustomerId::parse(value) {
                Ok(customer) => query.customer_ids.push(customer),
                Err(error) => bad(error.to_string()),
            },
            "order" => match value.as_str() {
                "created" => query.order = TicketOrder::Created,
                "queue" => query.order = TicketOrder::Queue,
                _ => bad("must be `created` or `queue`".into()),
            },
            "limit" => match value.parse::<u32>() {
                Ok(limit @ 1..=MAX_PAGE) => query.limit = limit,
                _ => bad(format!("must be an integer from 1 to {MAX_PAGE}")),
            },
            "after" => after = Some(value),
            _ => {
                return Err(ApiError::bad_field(
                    name.clone(),
                    "is not a filter of this list (status, team, priority, category, channel, assignee, \
                     customer_id, order, limit, after)",
                ));
            }
        }
    }
    if let Some(after) = after {
        match decode_cursor(&after) {
            Some((order, cursor)) if order == query.order => query.after = Some(cursor),
            Some(_) => errors.push(vigie_core::FieldError::new("after", "belongs to a list in another order")),
            None => errors.push(vigie_core::FieldError::new("after", "is not a cursor this server gave")),
        }
    }
    vigie_core::ValidationErrors::finish(errors).map_err(ApiError::invalid)?;
    query.statuses.sort();
    query.statuses.dedup();
    query.scope = actor.team_scope().map(<[TeamId]>::to_vec);
    Ok(query)
}

/// Cursors are opaque to clients: base64url of `order|priority|created_micros|id`.
fn encode_cursor(order: TicketOrder, cursor: &Cursor) -> String {
    let tag = match order {
        TicketOrder::Created => "c",
        TicketOrder::Queue => "q",
    };
    let text = format!("{tag}|{}|{}|{}", cursor.priority, cursor.created_at, cursor.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(text: &str) -> Option<(TicketOrder, Cursor)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(4, '|');
    let order = match parts.next()? {
        "c" => TicketOrder::Created,
        "q" => TicketOrder::Queue,
        _ => return None,
    };
    let priority = parts.next()?.parse().ok()?;
    let created_at = parts.next()?.parse().ok()?;
    let id = TicketId::parse(parts.next()?).ok()?.into_string();
    Some((order, Cursor { priority, created_at, id }))
}
