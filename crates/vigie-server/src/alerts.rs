//! Alerts: the rules of `[alerts]` evaluated every `every_seconds` (a minute by default) on the
//! live backlog, by one instance at a time (an advisory lease on PostgreSQL); a rule that fires
//! is recorded with one delivery per destination in the same statement (`alerts`: the history
//! and the outbox), unless it fired within its cooldown. A worker delivers what is due — a
//! webhook (vigie's JSON or Slack's `{"text"}`, signed with HMAC-SHA256) or an e-mail over
//! SMTP (lettre) — and retries a failure with a doubling wait, up to [`MAX_ATTEMPTS`]. Nothing
//! here runs in a request's path.
//!
//! A receiver deduplicates on `X-Vigie-Delivery` (webhooks) or the `Message-ID` (mail): a
//! delivery whose outcome could not be recorded (a crash between the send and the update) is
//! sent again, with the same id.

use std::collections::HashSet;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use lettre::AsyncTransport;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::watch;
use vigie_core::alerts::{AlertFacts, AlertKind, evaluate, evaluate_unreported};
use vigie_core::recurring::ClusterVolume;
use vigie_store::{AlertDelivery, DeliveryOutcome, NewAlert, StoreError};

use crate::AppState;
use crate::auth::Caller;
use crate::backlog::Dashboard;
use crate::error::{ApiError, Problem};
use crate::live::hour_of;
use crate::settings::{MailList, Webhook};

/// Attempts of a delivery before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// The longest wait between two attempts.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);
/// How long a webhook or an SMTP server may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries looked for due this often.
const DELIVERY_TICK: Duration = Duration::from_millis(500);

/// The figures the rules read, at `now`.
pub async fn facts(state: &AppState, now: Timestamp) -> Result<AlertFacts, StoreError> {
    let d = Dashboard::at(state, now);
    let b = &d.live.backlog;
    let last_hour = hour_of(now) - 1;
    let inflow_last_hour = state.live.hourly_flow(last_hour, last_hour).first().map_or(0, |h| h[0]);
    let wants_usual = state.operations.alerts.rules.iter().any(|rule| rule.kind == AlertKind::InflowSpike);
    let usual_inflow = if wants_usual { usual_inflow(state, now).await? } else { None };
    let wants_clusters = state.operations.alerts.rules.iter().any(|rule| rule.kind == AlertKind::ClusterSpike);
    let clusters = if wants_clusters {
        state.clusters.latest_or_compute(state).await?.clusters.iter().map(|c| c.volume.clone()).collect()
    } else {
        Vec::new()
    };
    Ok(AlertFacts {
        backlog_count: b.count,
        by_team: b.by_team.clone(),
        by_priority: b.by_priority.clone(),
        hours_of_work: b.hours_of_work,
        hours_of_work_by_team: d.live.hours_of_work_by_team.clone(),
        remaining_capacity_hours: d.capacity.remaining_today_hours,
        remaining_capacity_by_team: d
            .capacity
            .by_team
            .iter()
            .map(|(team, c)| (team.clone(), c.remaining_today_hours))
            .collect(),
        oldest_age_hours: b.age_minutes.as_ref().map_or(0.0, |age| age.max / 60.0),
        at_risk: d.live.at_risk.len() as u64,
        past_resolution_target: b.past_resolution_target,
        first_reply_overdue: d.live.response_overdue,
        inflow_last_hour,
        usual_inflow,
        clusters,
    })
}

/// The mean number of tickets created in the same hour of the week over the four weeks before
/// (from the backlog's hourly history); `None` without any of them.
async fn usual_inflow(state: &AppState, now: Timestamp) -> Result<Option<f64>, StoreError> {
    let this_hour = crate::history::hour_floor(now);
    let mut seen = Vec::new();
    for weeks in 1..=4 {
        let Ok(at) = this_hour.checked_sub(SignedDuration::from_hours(24 * 7 * weeks)) else { continue };
        // An hour with nothing at all (before the first ticket) says nothing of the usual level.
        if let Some(point) =
            crate::history::hourly_points(state, at, at).await?.first().filter(|p| p.count + p.inflow + p.outflow > 0)
        {
            seen.push(point.inflow as f64);
        }
    }
    Ok((!seen.is_empty()).then(|| seen.iter().sum::<f64>() / seen.len() as f64))
}

/// Evaluates every rule at `now`; records those that fire and are out of their cooldown.
/// Returns how many were recorded.
pub async fn evaluate_rules(state: &AppState, now: Timestamp) -> Result<usize, StoreError> {
    let settings = &state.operations.alerts;
    if settings.rules.is_empty() {
        return Ok(0);
    }
    let facts = facts(state, now).await?;
    let mut recorded = 0;
    for rule in &settings.rules {
        let Some(mut firing) = evaluate(rule, &facts) else { continue };
        let last = state.store.last_alert_at(&rule.name).await?;
        let cooldown = SignedDuration::from_mins(rule.cooldown_minutes);
        if last.is_some_and(|last| last.checked_add(cooldown).is_ok_and(|quiet_until| now < quiet_until)) {
            // Quiet, but for a cluster spike only for the clusters reported within the cooldown.
            let since = now.checked_sub(cooldown).unwrap_or(now);
            let payloads = match rule.kind {
                AlertKind::ClusterSpike => state.store.alert_payloads_since(&rule.name, since).await?,
                _ => Vec::new(),
            };
            let (ids, recent) = reported_clusters(&payloads);
            // Reported: by its identity, or by a ticket of its spike (its identity may have
            // moved since: its oldest ticket left the window, or two clusters joined).
            let reported = |c: &ClusterVolume| ids.contains(&c.id) || c.recent.iter().any(|id| recent.contains(id));
            let Some(fresh) = evaluate_unreported(rule, &facts, reported) else { continue };
            firing = fresh;
        }
        let clusters: Vec<Value> = firing
            .clusters
            .iter()
            .filter_map(|&(at, spike)| facts.clusters.get(at).map(|c| (c, spike)))
            .map(|(cluster, spike)| {
                json!({
                    "id": cluster.id,
                    "name": cluster.name,
                    "last_24h": spike.last_day,
                    "usual_per_day": spike.usual,
                    "score": spike.score,
                    "samples": cluster.samples,
                    "recent": cluster.recent,
                })
            })
            .collect();
        let payload = json!({
            "rule": rule.name,
            "when": rule.kind.as_str(),
            "above": rule.above,
            "team": rule.team,
            "priority": rule.priority.map(|p| p.as_str()),
            "value": if firing.value.is_finite() { json!(firing.value) } else { Value::Null },
            "summary": firing.summary,
            "fired_at": now.to_string(),
            "clusters": clusters,
            "backlog": {
                "count": facts.backlog_count,
                "hours_of_work": facts.hours_of_work,
                "remaining_capacity_hours": facts.remaining_capacity_hours,
                "at_risk": facts.at_risk,
                "past_resolution_target": facts.past_resolution_target,
            },
        });
        state
            .store
            .record_alert(&NewAlert {
                rule: rule.name.clone(),
                fired_at: now,
                value: firing.value,
                summary: firing.summary.clone(),
                payload: payload.to_string(),
                channels: rule.notify.clone(),
            })
            .await?;
        tracing::info!(rule = %rule.name, summary = %firing.summary, "alert");
        recorded += 1;
    }
    Ok(recorded)
}

/// The ids of the clusters these alert payloads reported, and of their spikes' tickets.
fn reported_clusters(payloads: &[String]) -> (HashSet<String>, HashSet<String>) {
    let (mut ids, mut recent) = (HashSet::new(), HashSet::new());
    for payload in payloads.iter().filter_map(|payload| serde_json::from_str::<Value>(payload).ok()) {
        for cluster in payload["clusters"].as_array().into_iter().flatten() {
            ids.extend(cluster["id"].as_str().map(str::to_owned));
            let tickets = cluster["recent"].as_array().into_iter().flatten();
            recent.extend(tickets.filter_map(|id| id.as_str().map(str::to_owned)));
        }
    }
    (ids, recent)
}

/// `X-Vigie-Signature` of a body: `sha256=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        // HMAC takes keys of any length; this is unreachable, and an empty key still signs.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&[]).expect("HMAC accepts an empty key")
    });
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

async fn post_webhook(
    client: &reqwest::Client,
    hook: &Webhook,
    delivery: &AlertDelivery,
    now: Timestamp,
) -> Result<(), String> {
    let body = if hook.slack {
        json!({"text": format!("vigie alert {}: {}", delivery.rule, delivery.summary)}).to_string()
    } else {
        delivery.payload.clone()
    };
    let mut request = client
        .post(hook.url.clone())
        .timeout(SEND_TIMEOUT)
        .header("content-type", "application/json")
        .header("x-vigie-delivery", delivery.id.to_string())
        .header("x-vigie-timestamp", now.as_second().to_string());
    if let Some(secret) = &hook.secret {
        request = request.header("x-vigie-signature", signature(secret, now.as_second(), &body));
    }
    // Without the URL: a webhook's URL is often its credential (Slack's), and the error text
    // is logged and shown on the alerts page.
    let response = request.body(body).send().await.map_err(|error| error.without_url().to_string())?;
    if response.status().is_success() { Ok(()) } else { Err(format!("the webhook answered {}", response.status())) }
}

async fn send_mail(list: &MailList, delivery: &AlertDelivery) -> Result<(), String> {
    let mut builder = lettre::Message::builder()
        .from(list.from.clone())
        .subject(format!("[vigie] {}: {}", delivery.rule, delivery.summary))
        .message_id(Some(format!("<alert-{}@vigie>", delivery.id)));
    for to in &list.to {
        builder = builder.to(to.clone());
    }
    let pretty = serde_json::from_str::<Value>(&delivery.payload)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| delivery.payload.clone());
    let message = builder
        .body(format!(
            "{}\n\nFired at {} by the rule `{}`.\n\n{pretty}\n",
            delivery.summary, delivery.fired_at, delivery.rule
        ))
        .map_err(|error| error.to_string())?;
    let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&list.smtp)
        .map_err(|error| error.to_string())?
        .timeout(Some(SEND_TIMEOUT))
        .build();
    transport.send(message).await.map(|_| ()).map_err(|error| error.to_string())
}

/// The wait before the next attempt, after `attempts` failed.
fn retry_wait(base: Duration, attempts: i64) -> Duration {
    let factor = 1u32 << u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(factor).min(MAX_RETRY_WAIT)
}

/// Delivers what is due at `now`; how many deliveries succeeded.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client, now: Timestamp) -> Result<usize, StoreError> {
    let settings = &state.operations.alerts;
    let mut delivered = 0;
    for delivery in state.store.due_deliveries(now, 50).await? {
        let result = if let Some(hook) = settings.webhooks.iter().find(|h| h.name == delivery.channel) {
            post_webhook(client, hook, &delivery, now).await
        } else if let Some(list) = settings.mail.iter().find(|m| m.name == delivery.channel) {
            send_mail(list, &delivery).await
        } else {
            Err(format!("`{}` is no longer a webhook nor a mail list of the configuration", delivery.channel))
        };
        let outcome = match result {
            Ok(()) => {
                delivered += 1;
                DeliveryOutcome::Delivered { at: state.now() }
            }
            Err(error) => {
                let attempts = delivery.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    let wait = SignedDuration::try_from(retry_wait(settings.retry_base, attempts - 1))
                        .unwrap_or(SignedDuration::ZERO);
                    now.checked_add(wait).unwrap_or(now)
                });
                tracing::warn!(alert = delivery.id, channel = %delivery.channel, %error, attempts, "alert delivery failed");
                DeliveryOutcome::Failed { error, retry_at }
            }
        };
        state.store.record_delivery(delivery.id, &outcome).await?;
    }
    Ok(delivered)
}

/// Evaluates the rules and delivers the alerts while this instance holds the alerts' lease.
pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.operations.alerts.every;
    // Without rules it still delivers what earlier configurations left pending.
    let client = reqwest::Client::new();
    let last_evaluation = std::sync::Mutex::new(None::<std::time::Instant>);
    let (state, client, last_evaluation) = (&state, &client, &last_evaluation);
    let work = move || async move {
        let due = {
            let mut last = last_evaluation.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = last.is_none_or(|at| at.elapsed() >= every);
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if due && let Err(error) = evaluate_rules(state, state.now()).await {
            tracing::warn!(%error, "could not evaluate the alert rules");
        }
        if let Err(error) = deliver_due(state, client, state.now()).await {
            tracing::warn!(%error, "could not deliver alerts");
        }
    };
    crate::lease::while_leased("alerts", stop, DELIVERY_TICK, || state.store.alerts_lease(), work).await;
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Rows to return (one per destination), newest first: 1–1000, default 100.
    limit: Option<u32>,
}

/// The state of a delivery, in words.
pub fn delivery_status(delivery: &AlertDelivery) -> &'static str {
    match (delivery.delivered_at, delivery.next_attempt_at) {
        (Some(_), _) if delivery.channel.is_empty() => "recorded",
        (Some(_), _) => "delivered",
        (None, Some(_)) => "pending",
        (None, None) => "failed",
    }
}

/// The alerts fired, newest first: one item per destination, with how its delivery went.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertsQuery),
    responses((status = 200, body = Object, description = "`{items: [...]}`"), (status = 401, body = Problem),
        (status = 400, body = Problem)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    Caller(_actor): Caller,
    Query(query): Query<AlertsQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let items: Vec<Value> = state
        .store
        .alert_history(limit)
        .await?
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "rule": d.rule,
                "fired_at": d.fired_at.to_string(),
                "value": if d.value.is_finite() { json!(d.value) } else { Value::Null },
                "summary": d.summary,
                "channel": d.channel,
                "status": delivery_status(d),
                "attempts": d.attempts,
                "delivered_at": d.delivered_at.map(|t| t.to_string()),
                "next_attempt_at": d.next_attempt_at.map(|t| t.to_string()),
                "last_error": d.last_error,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
