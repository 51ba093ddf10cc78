//! The backlog's history: a snapshot of the backlog at every hour, persisted
//! (`backlog_snapshots`), so that trends are cheap and survive restarts; the hours nobody
//! recorded (before the first start, while the server was down, before an import) are
//! reconstructed exactly from the tickets' status histories (`vigie_core::backlog_history`) and
//! recorded too. `GET /api/v1/backlog/history?from&to&step=1h|1d` serves them.
//!
//! A live snapshot is taken at each hour from the live state (the instant it is taken is the
//! hour, to the few milliseconds the task takes to wake); a reconstructed one counts a ticket
//! open when its status then was open, grouped by its current team, category and priority.
//! Several instances may record the same hour: the first recorded stays.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use vigie_analytics::render::instant;
use vigie_analytics::render::json::{float, object};
use vigie_core::backlog_history::{BacklogPoint, PastTicket, backlog_series};
use vigie_core::metrics::AGE_BUCKETS;
use vigie_core::{FieldError, ValidationErrors};
use vigie_store::{BacklogSnapshot, Since, Store, StoreError, StoredTicket};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::live::{HOUR_MICROS, RETENTION_DAYS};

/// The most points one request returns.
pub const MAX_POINTS: usize = 10_000;
/// How far back a request may reach: reconstructing older hours reads every ticket resolved
/// since, so a request is bounded to a little more than a year.
pub const MAX_HOURS: i64 = 400 * 24;
/// Tickets read per query when reconstructing.
const PAGE: u32 = 10_000;

/// The spacing of the points asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Hour,
    /// At each local midnight of the dashboard's time zone (the hour that starts it, for a
    /// zone whose midnight is not on the hour).
    Day,
}

pub fn hour_floor(at: Timestamp) -> Timestamp {
    let micros = at.as_microsecond().div_euclid(HOUR_MICROS) * HOUR_MICROS;
    Timestamp::from_microsecond(micros).unwrap_or(at)
}

fn hour_ceil(at: Timestamp) -> Timestamp {
    let floor = hour_floor(at);
    if floor == at { at } else { floor.checked_add(SignedDuration::from_hours(1)).unwrap_or(at) }
}

/// The hours `[from, to]`, on the hour.
fn hours(from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut at = hour_ceil(from);
    while at <= to {
        out.push(at);
        at = match at.checked_add(SignedDuration::from_hours(1)) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    out
}

/// A point as stored and served.
pub fn point_json(point: &BacklogPoint) -> Value {
    let at = Timestamp::from_microsecond(point.at).unwrap_or(Timestamp::UNIX_EPOCH);
    let buckets: serde_json::Map<String, Value> =
        AGE_BUCKETS.iter().zip(point.age_buckets).map(|((label, _), n)| ((*label).to_owned(), n.into())).collect();
    let counts = |map: &BTreeMap<String, u64>| -> Value {
        Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect())
    };
    object([
        ("at", instant(at).into()),
        ("count", point.count.into()),
        ("age_buckets", Value::Object(buckets)),
        ("hours_of_work", float(point.hours_of_work)),
        ("by_priority", counts(&point.by_priority)),
        ("by_team", counts(&point.by_team)),
        ("inflow", point.inflow.into()),
        ("outflow", point.outflow.into()),
    ])
}

/// A stored point back (`None` if the text is not one: a corrupt row is reconstructed again).
fn point_of_json(at: Timestamp, text: &str) -> Option<BacklogPoint> {
    let value: Value = serde_json::from_str(text).ok()?;
    let counts = |value: &Value| -> Option<BTreeMap<String, u64>> {
        value.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect()
    };
    let mut age_buckets = [0; 5];
    for (slot, (label, _)) in age_buckets.iter_mut().zip(AGE_BUCKETS) {
        *slot = value["age_buckets"][label].as_u64()?;
    }
    Some(BacklogPoint {
        at: at.as_microsecond(),
        count: value["count"].as_u64()?,
        age_buckets,
        hours_of_work: value["hours_of_work"].as_f64()?,
        by_priority: counts(&value["by_priority"])?,
        by_team: counts(&value["by_team"])?,
        inflow: value["inflow"].as_u64()?,
        outflow: value["outflow"].as_u64()?,
    })
}

/// The backlog now, from the live state, as a point of the hour `at`.
pub fn live_point(state: &AppState, at: Timestamp) -> BacklogPoint {
    let live = state.live.backlog(at);
    let hour = crate::live::hour_of(at) - 1;
    let flow = state.live.hourly_flow(hour, hour);
    let mut age_buckets = [0; 5];
    for (slot, (_, n)) in age_buckets.iter_mut().zip(live.backlog.age_buckets_in_order()) {
        *slot = n;
    }
    BacklogPoint {
        at: at.as_microsecond(),
        count: live.backlog.count,
        age_buckets,
        hours_of_work: live.backlog.hours_of_work,
        by_priority: live.backlog.by_priority,
        by_team: live.backlog.by_team,
        inflow: flow.first().map_or(0, |h| h[0]),
        outflow: flow.first().map_or(0, |h| h[1]),
    }
}

/// Reconstructs the hourly points at `instants` (sorted, on the hour) from the store: the
/// tickets open now and those resolved since the hour before the first instant. Every hour
/// between the first and the last is computed (each point's flow is its own hour's).
pub async fn reconstruct(state: &AppState, instants: &[Timestamp]) -> Result<Vec<BacklogPoint>, StoreError> {
    let (Some(first), Some(last)) = (instants.first(), instants.last()) else { return Ok(Vec::new()) };
    let every_hour = hours(*first, *last);
    let since = first.checked_sub(SignedDuration::from_hours(1)).unwrap_or(*first);
    let tickets = tickets_open_since(&state.store, since).await?;
    let rules = state.rules.rules();
    let past: Vec<PastTicket<'_>> = tickets
        .iter()
        .map(|stored| {
            let ticket = &stored.ticket;
            PastTicket {
                created_at: ticket.created_at.as_microsecond(),
                resolved_at: ticket.resolved_at.map(|at| at.as_microsecond()),
                status_history: &ticket.status_history,
                category: &ticket.category,
                team: ticket.team.as_ref().map_or("", |team| team.as_str()),
                priority: ticket.priority,
            }
        })
        .collect();
    let every_hour: Vec<i64> = every_hour.iter().map(|at| at.as_microsecond()).collect();
    let wanted: std::collections::HashSet<i64> = instants.iter().map(|at| at.as_microsecond()).collect();
    let series = backlog_series(&past, &every_hour, HOUR_MICROS, |category| rules.handle_times.minutes(category));
    Ok(series.into_iter().filter(|point| wanted.contains(&point.at)).collect())
}

/// Every ticket open at some instant since `since`: the open ones and those resolved after it
/// (a ticket's last resolution is after every time it was open).
async fn tickets_open_since(store: &Store, since: Timestamp) -> Result<Vec<StoredTicket>, StoreError> {
    let mut tickets = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.open_tickets_page(after.as_ref(), PAGE).await?;
        if page.is_empty() {
            break;
        }
        tickets.extend(page);
        after = next;
    }
    store.for_each_since(Since::Resolved, since, PAGE, |page| tickets.extend(page)).await?;
    Ok(tickets)
}

/// The hourly points of `[from, to]` (on the hour): the recorded ones, and the others
/// reconstructed and recorded.
pub async fn hourly_points(state: &AppState, from: Timestamp, to: Timestamp) -> Result<Vec<BacklogPoint>, StoreError> {
    let wanted = hours(from, to);
    let Some((first, last)) = wanted.first().zip(wanted.last()) else { return Ok(Vec::new()) };
    let mut known: BTreeMap<Timestamp, BacklogPoint> = state
        .store
        .backlog_snapshots(*first, *last)
        .await?
        .into_iter()
        .filter_map(|snapshot| point_of_json(snapshot.at, &snapshot.point).map(|point| (snapshot.at, point)))
        .collect();
    let missing: Vec<Timestamp> = wanted.iter().filter(|at| !known.contains_key(at)).copied().collect();
    if !missing.is_empty() {
        let rebuilt = reconstruct(state, &missing).await?;
        let snapshots: Vec<BacklogSnapshot> = rebuilt
            .iter()
            .map(|point| BacklogSnapshot {
                at: Timestamp::from_microsecond(point.at).unwrap_or(Timestamp::UNIX_EPOCH),
                source: "rebuilt".into(),
                point: point_json(point).to_string(),
            })
            .collect();
        state.store.save_backlog_snapshots(&snapshots).await?;
        for (at, point) in missing.into_iter().zip(rebuilt) {
            known.insert(at, point);
        }
    }
    Ok(known.into_values().collect())
}

/// Records the backlog every hour; first fills the hours of the last weeks nobody recorded.
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let now = state.now();
    let from = now.checked_sub(SignedDuration::from_hours(RETENTION_DAYS * 24)).unwrap_or(now);
    match hourly_points(&state, from, now).await {
        Ok(points) => tracing::info!(n_hours = points.len(), "backlog history ready"),
        Err(error) => tracing::warn!(%error, "could not fill the backlog's history; will retry on demand"),
    }
    loop {
        let now = state.now();
        let next = hour_floor(now).checked_add(SignedDuration::from_hours(1)).unwrap_or(now);
        let wait = std::time::Duration::try_from(next.duration_since(now)).unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        let at = hour_floor(state.now());
        let point = live_point(&state, at);
        let snapshot = BacklogSnapshot { at, source: "live".into(), point: point_json(&point).to_string() };
        if let Err(error) = state.store.save_backlog_snapshots(&[snapshot]).await {
            tracing::warn!(%error, %at, "could not record the backlog snapshot");
        }
    }
}

/// The query of `GET /api/v1/backlog/history`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query string for OpenAPI; parsed by hand to name every problem")]
pub struct HistoryParams {
    /// RFC 3339; default: 48 hours (step 1h) or 30 days (step 1d) before `to`.
    from: Option<String>,
    /// RFC 3339; default and at most: now.
    to: Option<String>,
    /// `1h` (the default) or `1d` (each local midnight of the dashboard's time zone).
    step: Option<String>,
}

struct HistoryQuery {
    from: Timestamp,
    to: Timestamp,
    step: Step,
}

fn parse_query(raw: Option<&str>, now: Timestamp) -> Result<HistoryQuery, ApiError> {
    let mut errors = Vec::new();
    let (mut from, mut to, mut step) = (None, None, Step::Hour);
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let instant = |errors: &mut Vec<FieldError>| match value.parse::<Timestamp>() {
            Ok(at) => Some(at),
            Err(_) => {
                errors.push(FieldError::new(
                    name.to_string(),
                    "must be an RFC 3339 instant such as 2026-03-02T08:00:00Z",
                ));
                None
            }
        };
        match name.as_ref() {
            "from" => from = instant(&mut errors),
            "to" => to = instant(&mut errors),
            "step" => match value.as_ref() {
                "1h" => step = Step::Hour,
                "1d" => step = Step::Day,
                _ => errors.push(FieldError::new("step", "must be `1h` or `1d`")),
            },
            other => {
                return Err(ApiError::bad_field(other.to_owned(), "is not a parameter of this query (from, to, step)"));
            }
        }
    }
    let to = to.unwrap_or(now).min(now);
    let default_span = match step {
        Step::Hour => SignedDuration::from_hours(48),
        Step::Day => SignedDuration::from_hours(30 * 24),
    };
    let from = from.unwrap_or_else(|| to.checked_sub(default_span).unwrap_or(to));
    if from > to {
        errors.push(FieldError::new("from", "must not be after `to` (nor after now)"));
    }
    let n_hours = to.duration_since(from).as_hours();
    if n_hours > MAX_HOURS {
        errors.push(FieldError::new("from", format!("reaches {n_hours} hours back; at most {MAX_HOURS}")));
    } else if step == Step::Hour && n_hours as usize > MAX_POINTS {
        errors.push(FieldError::new(
            "from",
            format!("asks for {n_hours} hourly points; at most {MAX_POINTS} (use step=1d for longer spans)"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(ValidationErrors(errors)));
    }
    Ok(HistoryQuery { from, to, step })
}

/// The backlog at each hour (or each day) of a span: count, age buckets, hours of work, by
/// priority and team, and the tickets in and out since the previous point.
#[utoipa::path(get, path = "/api/v1/backlog/history", tag = "backlog", params(HistoryParams),
    responses((status = 200, body = Object, description = "`{step, points: [...]}`"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn get_history(
    State(state): State<AppState>,
    Caller(_actor): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    let query = parse_query(raw.as_deref(), now)?;
    let points = match query.step {
        Step::Hour => hourly_points(&state, query.from, query.to).await?,
        Step::Day => daily_points(&state, query.from, query.to).await?,
    };
    let step = match query.step {
        Step::Hour => "1h",
        Step::Day => "1d",
    };
    Ok(Json(object([("step", step.into()), ("points", points.iter().map(point_json).collect())])))
}

/// The backlog at each local midnight (the dashboard's time zone) of `[from, to]`, with each
/// day's flow.
pub async fn daily_points(state: &AppState, from: Timestamp, to: Timestamp) -> Result<Vec<BacklogPoint>, StoreError> {
    let midnights = midnights(&state.operations.day_zone, from, to);
    let Some(first) = midnights.first() else { return Ok(Vec::new()) };
    // The hours from the day before the first midnight, to sum each day's flow.
    let start = first.checked_sub(SignedDuration::from_hours(25)).unwrap_or(*first);
    let hourly = hourly_points(state, start, to).await?;
    Ok(daily(&hourly, &midnights))
}

/// The local midnights of `zone` in `[from, to]`, each on the hour at or before it.
fn midnights(zone: &jiff::tz::TimeZone, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let (mut day_start, _) = vigie_core::operations::local_day(zone, from);
    if day_start < from {
        day_start = vigie_core::operations::local_day(zone, from).1;
    }
    while day_start <= to {
        out.push(hour_floor(day_start));
        let (_, next) = vigie_core::operations::local_day(zone, day_start);
        if next <= day_start {
            break;
        }
        day_start = next;
    }
    out
}

/// Daily points from hourly ones: the backlog at each midnight, the flow summed over the day
/// before it.
fn daily(hourly: &[BacklogPoint], midnights: &[Timestamp]) -> Vec<BacklogPoint> {
    let mut out = Vec::with_capacity(midnights.len());
    let mut previous = midnights.first().map(|m| m.as_microsecond() - 24 * HOUR_MICROS);
    for midnight in midnights {
        let at = midnight.as_microsecond();
        let Some(point) = hourly.iter().find(|p| p.at == at) else { continue };
        let mut point = point.clone();
        // An hour's flow is the hour before its instant: the day's hours are those after the
        // previous midnight, up to this one.
        let since = previous.unwrap_or(at - 24 * HOUR_MICROS);
        let day = hourly.iter().filter(|p| p.at > since && p.at <= at);
        (point.inflow, point.outflow) = day.fold((0, 0), |(i, o), p| (i + p.inflow, o + p.outflow));
        out.push(point);
        previous = Some(at);
    }
    out
}
