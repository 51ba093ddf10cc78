//! Automation in the server: the time rules' pass, the outbox's delivery, and their API.
//!
//! **The pass** (every `[automation] every_seconds`, 60 by default, and once at start, so that
//! a rule that came due while the server was down runs as soon as it is back): every time rule
//! is tried on every open ticket of the live state, in memory (and on the solved tickets, read
//! from the store, for the rules that name `solved`), with no cap on how many match; each
//! (ticket, rule) found is sent as an `Automate` command through the ordinary write path, where
//! the core decides it again against the ticket as stored, under its lock. A rule fires once
//! per ticket and status (`rule_applied`), so a pass run twice, or by two instances, records
//! once.
//!
//! **The outbox**: a rule's message is an event (`message_queued`) and an `outbox` row written
//! in the same transaction. This worker delivers the due rows (customers by SMTP to their
//! address on record, teams to their `[automation.teams]` destination: `mailto:` or a webhook),
//! records each attempt, and retries a failure with a doubling wait; a row whose destination is
//! not configured is held, not given up. A crash between the commit and the delivery loses
//! nothing: the row waits, and is sent once. Delivery is at least once: a crash between a send
//! and its record sends the row again after the restart, with the same delivery key
//! (`Message-ID`, `X-Vigie-Delivery`) for the receiver to recognise.
//!
//! One instance runs both at a time (an advisory lease, like the alerts').

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;
use utoipa::ToSchema;
use vigie_core::automation::{AutomationRule, Trigger};
use vigie_core::{Actor, FieldError, Rules, Status, TicketId, ValidationErrors};
use vigie_store::{DeliveryOutcome, OutboxMessage, StoreError, SubmitError, TicketCommand, TicketQuery};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::rules::{AutomationDocument, RulesDocument, TemplateDocument};
use crate::settings::TeamDestination;

/// How often the worker looks for messages to deliver.
const DELIVERY_TICK: Duration = Duration::from_secs(1);
/// Attempts at a message before it is given up (about 3 hours with the default first wait).
const MAX_ATTEMPTS: i64 = 10;
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// Commands of one pass in flight at once: enough to fill the writer's batches.
const IN_FLIGHT: usize = 512;
/// Solved tickets read per page for the rules that ask for them.
const SOLVED_PAGE: u32 = 500;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Time rules in force.
    pub rules: usize,
    /// (ticket, rule) pairs whose conditions held.
    pub matched: usize,
    /// Of those, the ones recorded (the others changed meanwhile).
    pub fired: usize,
    pub failed: usize,
    /// Customers told that their wait is longer than their channel tolerates.
    pub notices: usize,
    /// Finding the matches (the submissions not counted).
    pub evaluation: Duration,
}

/// The tickets each time rule applies to at `now`: the open ones from the live state, the
/// solved ones from the store for the rules that ask for them.
pub async fn matches(
    state: &AppState,
    rules: &Rules,
    time_rules: &[&AutomationRule],
    now: Timestamp,
) -> Result<Vec<(TicketId, usize)>, StoreError> {
    // Most of a second on every core at a million tickets: off the async workers when it can be.
    let evaluate = || state.live.automation_matches(time_rules, now);
    let mut found = match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(evaluate),
        _ => evaluate(),
    };
    let solved_rules: Vec<usize> = (0..time_rules.len()).filter(|idx| time_rules[*idx].wants_solved()).collect();
    if !solved_rules.is_empty() {
        // Prepared once for the pass, not once a ticket.
        let prepared: Vec<_> = time_rules.iter().map(|rule| rule.at(now)).collect();
        let mut query = TicketQuery { statuses: vec![Status::Solved], limit: SOLVED_PAGE, ..TicketQuery::default() };
        loop {
            let page = state.store.list_tickets(&query).await?;
            for ticket in &page.items {
                for idx in &solved_rules {
                    if prepared[*idx].holds(ticket, now, rules) {
                        found.push((ticket.id.clone(), *idx));
                    }
                }
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// One pass of the time rules at `now`, and of the wait notices.
pub async fn pass(state: &AppState, now: Timestamp) -> Result<PassSummary, StoreError> {
    let rules = state.rules.rules();
    let time_rules: Vec<&AutomationRule> = rules.automations.time_rules().collect();
    let notices = &rules.automations.notices;
    if time_rules.is_empty() && !notices.is_on() {
        return Ok(PassSummary::default());
    }
    let started = std::time::Instant::now();
    let found = if time_rules.is_empty() { Vec::new() } else { matches(state, &rules, &time_rules, now).await? };
    let waits = if notices.is_on() { state.live.waits_over(notices, &rules, now) } else { Vec::new() };
    let evaluation = started.elapsed();
    let mut summary =
        PassSummary { rules: time_rules.len(), matched: found.len(), evaluation, ..PassSummary::default() };
    let rule_commands = found
        .into_iter()
        .map(|(ticket_id, idx)| TicketCommand::Automate { ticket_id, rule: time_rules[idx].name.clone() });
    let notice_commands =
        waits.into_iter().map(|(ticket_id, expected_start)| TicketCommand::NotifyWait { ticket_id, expected_start });
    let commands = rule_commands.chain(notice_commands).map(|command| state.submit_at(command, Actor::system(), now));
    let mut results = futures_util::stream::iter(commands).buffer_unordered(IN_FLIGHT);
    while let Some(result) = results.next().await {
        let Ok(committed) = result.inspect_err(|error| {
            if !matches!(error, SubmitError::Rejected(_)) {
                tracing::warn!(%error, "an automation command failed");
            }
        }) else {
            summary.failed += 1;
            continue;
        };
        for event in &committed.events {
            match &event.kind {
                vigie_core::EventKind::RuleApplied { failed: Some(reason), rule } => {
                    summary.failed += 1;
                    tracing::warn!(ticket = %event.ticket_id, rule, reason, "a time rule could not apply");
                }
                vigie_core::EventKind::RuleApplied { .. } => summary.fired += 1,
                vigie_core::EventKind::MessageQueued { .. } if event.actor == vigie_core::automation::NOTICE_ACTOR => {
                    summary.notices += 1;
                }
                _ => {}
            }
        }
    }
    if summary.matched > 0 || summary.notices > 0 {
        tracing::info!(
            rules = summary.rules,
            matched = summary.matched,
            fired = summary.fired,
            failed = summary.failed,
            notices = summary.notices,
            evaluation_ms = evaluation.as_millis() as u64,
            "time rules applied"
        );
    }
    Ok(summary)
}

/// The wait before the next attempt, after `attempts` failed.
fn retry_wait(base: Duration, attempts: i64) -> Duration {
    let factor = 1u32 << u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(factor).min(MAX_RETRY_WAIT)
}

async fn send_mail(
    smtp: &str,
    from: &lettre::message::Mailbox,
    to: lettre::message::Mailbox,
    message: &OutboxMessage,
) -> Result<(), String> {
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        // The delivery key: a resend after a crash carries the same id.
        .message_id(Some(format!("<{}.{}@vigie>", message.delivery_key, message.ticket_id)))
        .body(message.body.clone())
        .map_err(|error| error.to_string())?;
    let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp)
        .map_err(|error| error.to_string())?
        .timeout(Some(SEND_TIMEOUT))
        .build();
    lettre::AsyncTransport::send(&transport, email).await.map(|_| ()).map_err(|error| error.to_string())
}

async fn post_webhook(client: &reqwest::Client, url: &reqwest::Url, message: &OutboxMessage) -> Result<(), String> {
    let body = message_json(message);
    let response = client
        .post(url.clone())
        .timeout(SEND_TIMEOUT)
        .header("x-vigie-delivery", message.delivery_key.clone())
        .json(&body)
        .send()
        .await
        .map_err(|error| error.without_url().to_string())?;
    if response.status().is_success() { Ok(()) } else { Err(format!("the webhook answered {}", response.status())) }
}

/// How long a message whose destination is not configured waits before it is looked at again
/// (the configuration is read at start: a restart with it set delivers within this).
const HOLD: Duration = Duration::from_secs(15 * 60);

/// Why a message cannot be tried now, without it being anyone's failure: held, not given up.
enum Attempt {
    Tried(Result<(), String>, Option<String>),
    Held(String),
}

async fn attempt(state: &AppState, client: &reqwest::Client, message: &OutboxMessage) -> Attempt {
    let settings = &state.operations.automation;
    let no_smtp = || Attempt::Held("no SMTP server is configured ([automation] smtp and from)".to_owned());
    match message.audience.as_str() {
        "customer" => match (&settings.mail, &message.email) {
            (None, _) => no_smtp(),
            (_, None) => Attempt::Held(format!("customer `{}` has no e-mail address on record", message.recipient)),
            (Some((smtp, from)), Some(email)) => match email.parse::<lettre::message::Mailbox>() {
                Ok(to) => Attempt::Tried(send_mail(smtp, from, to, message).await, Some(email.clone())),
                Err(error) => Attempt::Tried(Err(format!("`{email}`: {error}")), Some(email.clone())),
            },
        },
        "team" => match (settings.teams.get(&message.recipient), &settings.mail) {
            (None, _) => {
                Attempt::Held(format!("team `{}` has no destination in [automation.teams]", message.recipient))
            }
            (Some(TeamDestination::Mail(to)), Some((smtp, from))) => {
                Attempt::Tried(send_mail(smtp, from, to.clone(), message).await, Some(to.to_string()))
            }
            (Some(TeamDestination::Mail(_)), None) => no_smtp(),
            (Some(TeamDestination::Webhook(url)), _) => Attempt::Tried(
                post_webhook(client, url, message).await,
                Some(url.host_str().unwrap_or_default().to_owned()),
            ),
        },
        other => Attempt::Tried(Err(format!("`{other}` is not an audience")), None),
    }
}

/// Delivers what is due at `now`; how many messages went out. A message that fails is tried
/// again after a doubling wait, given up after [`MAX_ATTEMPTS`]; one whose destination is not
/// configured (no SMTP server, no address, no team destination) is held, attempts untouched.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client, now: Timestamp) -> Result<usize, StoreError> {
    let retry_base = state.operations.automation.retry_base;
    let mut delivered = 0;
    for message in state.store.due_messages(now, 50).await? {
        let (outcome, destination) = match attempt(state, client, &message).await {
            Attempt::Tried(Ok(()), destination) => {
                delivered += 1;
                (DeliveryOutcome::Delivered { at: state.now() }, destination)
            }
            Attempt::Tried(Err(error), destination) => {
                let attempts = message.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    let wait =
                        SignedDuration::try_from(retry_wait(retry_base, attempts - 1)).unwrap_or(SignedDuration::ZERO);
                    now.checked_add(wait).unwrap_or(now)
                });
                tracing::warn!(message = message.id, key = %message.delivery_key, %error, attempts, "message delivery failed");
                (DeliveryOutcome::Failed { error, retry_at }, destination)
            }
            Attempt::Held(reason) => {
                let until =
                    now.checked_add(SignedDuration::try_from(HOLD).unwrap_or(SignedDuration::ZERO)).unwrap_or(now);
                (DeliveryOutcome::Held { reason, until }, None)
            }
        };
        state.store.record_message_delivery(message.id, &outcome, destination.as_deref()).await?;
    }
    Ok(delivered)
}

/// Runs the time rules and delivers the outbox while this instance holds the lease.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.operations.automation.every;
    let client = reqwest::Client::new();
    let last_pass = std::sync::Mutex::new(None::<std::time::Instant>);
    let (state, client, last_pass) = (&state, &client, &last_pass);
    let work = move || async move {
        let due = {
            let mut last = last_pass.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = last.is_none_or(|at| at.elapsed() >= every);
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if due && let Err(error) = pass(state, state.now()).await {
            tracing::warn!(%error, "could not run the time rules");
        }
        if let Err(error) = deliver_due(state, client, state.now()).await {
            tracing::warn!(%error, "could not deliver the outbox");
        }
    };
    crate::lease::while_leased("automation", stop, DELIVERY_TICK, || state.store.automation_lease(), work).await;
}

/// The state of a message, in words.
pub fn message_status(message: &OutboxMessage) -> &'static str {
    match (message.delivered_at, message.next_attempt_at) {
        (Some(_), _) => "delivered",
        (None, Some(_)) if message.attempts == 0 && message.last_error.is_some() => "held",
        (None, Some(_)) if message.attempts == 0 => "queued",
        (None, Some(_)) => "retrying",
        (None, None) => "failed",
    }
}

fn message_json(message: &OutboxMessage) -> Value {
    json!({
        "id": message.id,
        "delivery_key": message.delivery_key,
        "ticket_id": message.ticket_id,
        "actor": message.actor,
        "audience": message.audience,
        "recipient": message.recipient,
        "template": message.template,
        "subject": message.subject,
        "body": message.body,
        "created_at": message.created_at.to_string(),
        "status": message_status(message),
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.map(|t| t.to_string()),
        "delivered_at": message.delivered_at.map(|t| t.to_string()),
        "destination": message.destination,
        "last_error": message.last_error,
    })
}

fn leads_only(actor: &Actor, what: &str) -> Result<(), ApiError> {
    if matches!(actor.role, vigie_core::Role::Admin | vigie_core::Role::Lead) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("only admins and leads {what}")))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only this ticket's messages.
    ticket: Option<String>,
    /// Messages to return, newest first: 1–1000, default 100.
    limit: Option<u32>,
}

/// The outbox, newest first: every message the rules queued, and how its delivery went.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "automation", params(OutboxQuery),
    responses((status = 200, body = Object, description = "`{items: [...]}`"), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Value>, ApiError> {
    leads_only(&actor, "read the outbox")?;
    let ticket = match query.ticket {
        Some(id) => Some(
            TicketId::parse(id.clone())
                .map_err(|e| ApiError::bad_field("ticket", format!("`{id}` is not a ticket id ({e})")))?,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_field("limit", format!("{limit} must be from 1 to 1000")));
    }
    let items: Vec<Value> = state.store.outbox(ticket.as_ref(), limit).await?.iter().map(message_json).collect();
    Ok(Json(json!({ "items": items })))
}

/// Gives a message that was given up (`failed`: its last attempt failed) a new round of
/// attempts, from now: once its destination is mended, an admin or a lead sends it again with
/// the same delivery key. 409 for a message delivered, or still being tried or held.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "automation", params(("id" = i64, Path)),
    responses((status = 200, body = Object, description = "`{id, status: \"queued\"}`"), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn retry_message(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    leads_only(&actor, "send a message again")?;
    let id: i64 =
        id.parse().map_err(|_| ApiError::bad_field("id", format!("`{id}` is not a message id (a number)")))?;
    match state.store.retry_message(id, state.now()).await? {
        vigie_store::RetryOutcome::Queued => Ok(Json(json!({ "id": id, "status": "queued" }))),
        vigie_store::RetryOutcome::NotFound => Err(ApiError::NotFound(format!("no outbox message {id}"))),
        vigie_store::RetryOutcome::Delivered => Err(ApiError::StateConflict {
            code: "already_delivered",
            detail: format!("message {id} was delivered: it is not sent twice"),
        }),
        vigie_store::RetryOutcome::Pending => Err(ApiError::StateConflict {
            code: "not_given_up",
            detail: format!("message {id} is still being tried (or held for its destination): it goes on its own"),
        }),
    }
}

/// The automation rules in force, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationList {
    pub revision: i64,
    pub items: Vec<AutomationDocument>,
    pub templates: std::collections::BTreeMap<String, TemplateDocument>,
}

#[utoipa::path(get, path = "/api/v1/automations", tag = "automation",
    responses((status = 200, body = AutomationList), (status = 401, body = Problem)))]
pub async fn list_automations(State(state): State<AppState>, _caller: Caller) -> Json<AutomationList> {
    let (document, revision) = state.rules.snapshot();
    Json(AutomationList { revision, items: document.automations.clone(), templates: document.templates.clone() })
}

/// Creates or replaces the rule `name` (admins), checked with the rules as a whole. 201 when
/// new. Its place in the order is kept; a new rule goes last.
#[utoipa::path(put, path = "/api/v1/automations/{name}", tag = "automation", request_body = AutomationDocument,
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The rules' revision read")),
    responses((status = 200, body = crate::admin::RulesBody), (status = 201, body = crate::admin::RulesBody),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn put_automation(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AutomationDocument>,
) -> Result<Response, ApiError> {
    let mut rule = body.value;
    rule.name = name.clone();
    let (current, base) = crate::admin::base_revision(&state, &headers)?;
    crate::admin::admin_only(&actor)?;
    let mut document = (*current).clone();
    let created = match document.automations.iter_mut().find(|r| r.name == name) {
        Some(existing) => {
            *existing = rule;
            false
        }
        None => {
            document.automations.push(rule);
            true
        }
    };
    let mut response = crate::admin::change(&state, &actor, base, document).await?;
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// Removes the rule `name` (admins).
#[utoipa::path(delete, path = "/api/v1/automations/{name}", tag = "automation",
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The rules' revision read")),
    responses((status = 200, body = crate::admin::RulesBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_automation(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    crate::admin::admin_only(&actor)?;
    let (current, base) = crate::admin::base_revision(&state, &headers)?;
    let mut document = (*current).clone();
    let before = document.automations.len();
    document.automations.retain(|r| r.name != name);
    if document.automations.len() == before {
        return Err(ApiError::NotFound(format!("no automation rule is named `{name}`")));
    }
    crate::admin::change(&state, &actor, base, document).await
}

/// Creates or replaces the template `name` (admins); the rules that send it are checked again.
#[utoipa::path(put, path = "/api/v1/templates/{name}", tag = "automation", request_body = TemplateDocument,
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "The rules' revision read")),
    responses((status = 200, body = crate::admin::RulesBody), (status = 201, body = crate::admin::RulesBody),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn put_template(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TemplateDocument>,
) -> Result<Response, ApiError> {
    crate::admin::admin_only(&actor)?;
    let (current, base) = crate::admin::base_revision(&state, &headers)?;
    let mut document = (*current).clone();
    let created = document.templates.insert(name, body.value).is_none();
    let mut response = crate::admin::change(&state, &actor, base, document).await?;
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DryRunQuery {
    /// Tickets listed (all are counted): 0–1000, default 100.
    limit: Option<u32>,
}

/// Which tickets the rule `name` in force would touch now: for a time rule, those the next
/// pass would fire on; for a trigger, the open tickets its conditions hold for (it fires when
/// one of its events happens to them). Nothing is written.
#[utoipa::path(get, path = "/api/v1/automations/{name}/dry-run", tag = "automation",
    params(("name" = String, Path), DryRunQuery),
    responses((status = 200, body = Object, description = "`{rule, trigger, total, tickets}`"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn dry_run_in_force(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    Query(query): Query<DryRunQuery>,
) -> Result<Json<Value>, ApiError> {
    leads_only(&actor, "try the rules")?;
    let rules = state.rules.rules();
    let Some(rule) = rules.automations.rule(&name) else {
        return Err(ApiError::NotFound(format!("no automation rule is named `{name}`")));
    };
    dry_run(&state, &rules, rule, query.limit).await
}

/// Which tickets this rule would touch now, without saving it: checked with the rules in
/// force (their calendars and templates), every problem named; nothing is written.
#[utoipa::path(post, path = "/api/v1/automations/dry-run", tag = "automation", request_body = AutomationDocument,
    params(DryRunQuery),
    responses((status = 200, body = Object, description = "`{rule, trigger, total, tickets}`"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn dry_run_draft(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<DryRunQuery>,
    body: JsonBody<AutomationDocument>,
) -> Result<Json<Value>, ApiError> {
    leads_only(&actor, "try the rules")?;
    let draft = body.value;
    let (current, _) = state.rules.snapshot();
    let document = RulesDocument { automations: vec![draft.clone()], ..(*current).clone() };
    let rules = document.to_rules().map_err(ApiError::invalid)?;
    let Some(rule) = rules.automations.rule(&draft.name) else {
        return Err(ApiError::invalid(ValidationErrors(vec![FieldError::new("name", "is not a valid rule name")])));
    };
    dry_run(&state, &rules, rule, query.limit).await
}

async fn dry_run(
    state: &AppState,
    rules: &Rules,
    rule: &AutomationRule,
    limit: Option<u32>,
) -> Result<Json<Value>, ApiError> {
    let limit = limit.unwrap_or(100);
    if limit > 1000 {
        return Err(ApiError::bad_field("limit", format!("{limit} must be from 0 to 1000")));
    }
    let now = state.now();
    // A trigger is tried as if its event happened now: only its conditions count.
    let as_time_rule = AutomationRule { trigger: Trigger::Time, ..rule.clone() };
    let tried = if rule.trigger == Trigger::Time { rule } else { &as_time_rule };
    let found = matches(state, rules, &[tried], now).await?;
    let total = found.len();
    let ids: Vec<TicketId> = found.into_iter().take(limit as usize).map(|(id, _)| id).collect();
    let mut tickets = state.store.tickets_by_ids(&ids).await?;
    tickets.sort_by_key(|t| (t.created_at, t.id.clone()));
    let items: Vec<Value> = tickets
        .iter()
        .map(|t| {
            json!({
                "id": t.id.as_str(),
                "subject": t.subject,
                "status": t.status.as_str(),
                "priority": t.priority.as_str(),
                "category": t.category,
                "team": t.team.as_ref().map(|team| team.as_str()),
                "customer_id": t.customer_id.as_str(),
                "updated_at": t.updated_at.to_string(),
            })
        })
        .collect();
    let trigger = match &rule.trigger {
        Trigger::Time => json!("time"),
        Trigger::Events(events) => json!(events.iter().map(|e| e.as_str()).collect::<Vec<_>>()),
    };
    Ok(Json(json!({
        "rule": rule.name,
        "trigger": trigger,
        "at": now.to_string(),
        "total": total,
        "tickets": items,
    })))
}

/// What the public status page says: each team whose open tickets are above its banner's count,
/// with the banner's text.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    /// `normal`, or `busy` while a banner shows.
    pub status: &'static str,
    pub banners: Vec<BannerBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerBody {
    pub team: String,
    pub text: String,
}

/// The public status (no token): the banners of the teams whose backlog is over their
/// threshold. Says nothing of any ticket.
#[utoipa::path(get, path = "/status", tag = "operations", security(()), responses((status = 200, body = StatusBody)))]
pub async fn public_status(State(state): State<AppState>) -> Json<StatusBody> {
    let rules = state.rules.rules();
    let banners = &rules.automations.notices.banners;
    let shown: Vec<BannerBody> = if banners.is_empty() {
        Vec::new()
    } else {
        let by_team = state.live.backlog(state.now()).backlog.by_team;
        banners
            .iter()
            .filter(|banner| by_team.get(banner.team.as_str()).copied().unwrap_or(0) > banner.above)
            .map(|banner| BannerBody { team: banner.team.to_string(), text: banner.text.clone() })
            .collect()
    };
    Json(StatusBody { status: if shown.is_empty() { "normal" } else { "busy" }, banners: shown })
}
