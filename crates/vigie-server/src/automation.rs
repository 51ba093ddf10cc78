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
//! records each attempt, and retries a failure with a doubling wait. A crash between the commit
//! and the delivery loses nothing: the row waits. A crash between a send and its record sends
//! the row again after the restart, with the same delivery key (`Message-ID`,
//! `X-Vigie-Delivery`), which is what receivers deduplicate on.
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
/// Attempts at a message before it is given up (about 4 hours with the default first wait).
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
    let mut found = state.live.automation_matches(time_rules, now);
    let solved_rules: Vec<usize> = (0..time_rules.len()).filter(|idx| time_rules[*idx].wants_solved()).collect();
    if !solved_rules.is_empty() {
        let mut query = TicketQuery { statuses: vec![Status::Solved], limit: SOLVED_PAGE, ..TicketQuery::default() };
        loop {
            let page = state.store.list_tickets(&query).await?;
            for ticket in &page.items {
                for idx in &solved_rules {
                    if time_rules[*idx].holds(ticket, now, rules) {
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

/// One pass of the time rules at `now`.
pub async fn pass(state: &AppState, now: Timestamp) -> Result<PassSummary, StoreError> {
    let rules = state.rules.rules();
    let time_rules: Vec<&AutomationRule> = rules.automations.time_rules().collect();
    if time_rules.is_empty() {
        return Ok(PassSummary::default());
    }
    let started = std::time::Instant::now();
    let found = matches(state, &rules, &time_rules, now).await?;
    let evaluation = started.elapsed();
    let mut summary =
        PassSummary { rules: time_rules.len(), matched: found.len(), evaluation, ..PassSummary::default() };
    let commands = found.into_iter().map(|(ticket_id, idx)| {
        let command = TicketCommand::Automate { ticket_id, rule: time_rules[idx].name.clone() };
        state.submit_at(command, Actor::system(), now)
    });
    let mut results = futures_util::stream::iter(commands).buffer_unordered(IN_FLIGHT);
    while let Some(result) = results.next().await {
        match result {
            Ok(committed)
                if committed.events.iter().any(|e| matches!(e.kind, vigie_core::EventKind::RuleApplied { .. })) =>
            {
                summary.fired += 1;
            }
            Ok(_) | Err(SubmitError::Rejected(_)) => {}
            Err(error) => {
                summary.failed += 1;
                tracing::warn!(%error, "a time rule's command failed");
            }
        }
    }
    if summary.matched > 0 {
        tracing::info!(
            rules = summary.rules,
            matched = summary.matched,
            fired = summary.fired,
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

/// Delivers what is due at `now`; how many messages went out.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client, now: Timestamp) -> Result<usize, StoreError> {
    let settings = &state.operations.automation;
    let mut delivered = 0;
    for message in state.store.due_messages(now, 50).await? {
        let mailbox =
            |address: &str| address.parse::<lettre::message::Mailbox>().map_err(|e| format!("`{address}`: {e}"));
        let (result, destination) = match message.audience.as_str() {
            "customer" => match (&settings.mail, &message.email) {
                (None, _) => (Err("no SMTP server is configured ([automation] smtp and from)".to_owned()), None),
                (_, None) => (Err(format!("customer `{}` has no e-mail address on record", message.recipient)), None),
                (Some((smtp, from)), Some(email)) => match mailbox(email) {
                    Ok(to) => (send_mail(smtp, from, to, &message).await, Some(email.clone())),
                    Err(error) => (Err(error), Some(email.clone())),
                },
            },
            "team" => match (settings.teams.get(&message.recipient), &settings.mail) {
                (None, _) => {
                    (Err(format!("team `{}` has no destination in [automation.teams]", message.recipient)), None)
                }
                (Some(TeamDestination::Mail(to)), Some((smtp, from))) => {
                    (send_mail(smtp, from, to.clone(), &message).await, Some(to.to_string()))
                }
                (Some(TeamDestination::Mail(_)), None) => {
                    (Err("no SMTP server is configured ([automation] smtp and from)".to_owned()), None)
                }
                (Some(TeamDestination::Webhook(url)), _) => {
                    (post_webhook(client, url, &message).await, Some(url.host_str().unwrap_or_default().to_owned()))
                }
            },
            other => (Err(format!("`{other}` is not an audience")), None),
        };
        let outcome = match result {
            Ok(()) => {
                delivered += 1;
                DeliveryOutcome::Delivered { at: state.now() }
            }
            Err(error) => {
                let attempts = message.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    let wait = SignedDuration::try_from(retry_wait(settings.retry_base, attempts - 1))
                        .unwrap_or(SignedDuration::ZERO);
                    now.checked_add(wait).unwrap_or(now)
                });
                tracing::warn!(message = message.id, key = %message.delivery_key, %error, attempts, "message delivery failed");
                DeliveryOutcome::Failed { error, retry_at }
            }
        };
        state.store.record_message_delivery(message.id, &outcome, destination.as_deref()).await?;
    }
    Ok(delivered)
}

/// Runs the time rules and delivers the outbox while this instance holds the lease.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.operations.automation.every;
    let client = reqwest::Client::new();
    let mut lease: Option<vigie_store::SchedulerLease> = None;
    let mut last_pass: Option<std::time::Instant> = None;
    loop {
        if lease.is_none() {
            lease = state.store.automation_lease().await.unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot ask for the automation's lease");
                None
            });
        } else if let Some(held) = lease.as_mut()
            && !held.is_held().await
        {
            tracing::warn!("lost the automation's lease");
            lease = None;
        }
        if lease.is_some() {
            if last_pass.is_none_or(|at| at.elapsed() >= every) {
                last_pass = Some(std::time::Instant::now());
                if let Err(error) = pass(&state, state.now()).await {
                    tracing::warn!(%error, "could not run the time rules");
                }
            }
            if let Err(error) = deliver_due(&state, &client, state.now()).await {
                tracing::warn!(%error, "could not deliver the outbox");
            }
        }
        let wait = if lease.is_some() { DELIVERY_TICK } else { Duration::from_secs(15) };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {
                if let Some(held) = lease.take() {
                    held.release().await;
                }
                return;
            }
        }
    }
}

/// The state of a message, in words.
pub fn message_status(message: &OutboxMessage) -> &'static str {
    match (message.delivered_at, message.next_attempt_at) {
        (Some(_), _) => "delivered",
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
