//! The pages, for people: sign-in, the dashboard, the wall, the queue, the ticket (the agent's
//! working screen) and the morning report. Server-rendered from askama templates
//! (`templates/`), with one stylesheet and one small script (the wall's live updates) served
//! from the binary: nothing is fetched from anywhere else, and nothing needs a build step.
//!
//! Every number comes from the same computations as the API ([`Dashboard`], the live queue,
//! [`TicketBody`]); every change goes through the same commands. A page is a view, not a second
//! implementation.

pub mod session;

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use vigie_analytics::render::svg::{self, Series};
use vigie_core::operations::Level;
use vigie_core::{
    AgentId, EventKind, ExpectedVersion, NewCommentInput, Priority, SlaState, Status, TeamId, Ticket, TicketId,
    TicketPatchInput,
};
use vigie_store::TicketCommand;

use crate::AppState;
use crate::backlog::Dashboard;
use crate::error::ApiError;
use crate::live::{Filters, LiveOrder, LiveQuery};
use crate::settings::Figure;
use crate::stream::{Flavor, events};
use crate::tickets::TicketBody;
use session::{Session, cross_site, same_origin};

const STYLE: &str = include_str!("../../assets/vigie.css");
const WALL_SCRIPT: &str = include_str!("../../assets/wall.js");
/// Tickets per page of the queue.
const QUEUE_PAGE: usize = 50;

/// The pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/dashboard", get(dashboard))
        .route("/wall", get(wall))
        .route("/wall/stream", get(wall_stream))
        .route("/queue", get(queue))
        .route("/queue/next", post(take_next))
        .route("/tickets/{id}", get(ticket))
        .route("/tickets/{id}/reply", post(reply))
        .route("/tickets/{id}/change", post(change))
        .route("/tickets/{id}/macro", post(apply_macro))
        .route("/tickets/{id}/handoff", post(hand_over))
        .route("/reports/morning", get(morning))
        .route("/alerts", get(alerts))
        .route("/batches", get(batches))
        .route("/batches/reply", post(batch_reply))
        .route("/reports/weekly", get(weekly))
        .route(
            "/static/vigie.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], format!("{STYLE}{}", svg::STYLE)) }),
        )
        .route(
            "/static/wall.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], WALL_SCRIPT) }),
        )
}

/// What every page's frame shows.
struct Chrome {
    user: String,
    role: &'static str,
    csrf: String,
    here: &'static str,
}

impl Chrome {
    fn of(session: &Session, here: &'static str) -> Chrome {
        Chrome { user: session.user.name.clone(), role: session.user.role.as_str(), csrf: session.csrf.clone(), here }
    }
}

fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>Something went wrong</h1>".to_owned())).into_response()
        }
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let escaped = svg::escape(message);
    (status, Html(format!("<!doctype html><meta charset=utf-8><link rel=stylesheet href=/static/vigie.css><main><section><h1>{}</h1><p>{escaped}</p><p><a href=/dashboard>Back to the dashboard</a></p></section></main>", status.canonical_reason().unwrap_or("Error")))).into_response()
}

// ---- Tiles ---------------------------------------------------------------------------------

/// One tile of the dashboard and the wall.
pub struct Tile {
    pub figure: &'static str,
    pub level: &'static str,
    pub value: String,
    pub label: String,
}

fn hours_text(hours: f64) -> String {
    if hours >= 100.0 { format!("{hours:.0} h") } else { format!("{hours:.1} h") }
}

fn age_text(hours: f64) -> String {
    match hours {
        h if h < 1.0 => format!("{:.0} min", h * 60.0),
        h if h < 48.0 => format!("{h:.0} h"),
        h => format!("{:.0} d", h / 24.0),
    }
}

/// The tiles, in the order shown.
pub fn tiles(d: &Dashboard) -> Vec<Tile> {
    let level = |figure: Figure| d.figures.get(&figure).map_or(Level::Ok, |(_, level)| *level).as_str();
    let b = &d.live.backlog;
    let capacity = &d.capacity;
    vec![
        Tile {
            figure: Figure::BacklogCount.as_str(),
            level: level(Figure::BacklogCount),
            value: b.count.to_string(),
            label: "open tickets".into(),
        },
        Tile {
            figure: Figure::HoursOfWorkVsCapacity.as_str(),
            level: level(Figure::HoursOfWorkVsCapacity),
            value: hours_text(b.hours_of_work),
            label: if capacity.remaining_today_hours > 0.0 {
                format!("of work; {} left on shift today", hours_text(capacity.remaining_today_hours))
            } else {
                "of work; nobody left on shift today".into()
            },
        },
        Tile {
            figure: Figure::AtRisk.as_str(),
            level: level(Figure::AtRisk),
            value: d.live.at_risk.len().to_string(),
            label: "at risk within the hour".into(),
        },
        Tile {
            figure: Figure::PastResolutionTarget.as_str(),
            level: level(Figure::PastResolutionTarget),
            value: b.past_resolution_target.to_string(),
            label: "past resolution target".into(),
        },
        Tile {
            figure: Figure::ResponseOverdue.as_str(),
            level: level(Figure::ResponseOverdue),
            value: d.live.response_overdue.to_string(),
            label: "awaiting a late first reply".into(),
        },
        Tile {
            figure: Figure::OldestAgeHours.as_str(),
            level: level(Figure::OldestAgeHours),
            value: b.age_minutes.as_ref().map_or_else(|| "-".into(), |age| age_text(age.max / 60.0)),
            label: "the oldest open ticket".into(),
        },
        Tile {
            figure: Figure::InflowToday.as_str(),
            level: level(Figure::InflowToday),
            value: format!("{} in", d.today.inflow),
            label: format!("{} resolved today", d.today.outflow),
        },
        Tile {
            figure: "days_to_clear",
            level: "ok",
            value: d.days_to_clear.map_or_else(|| "-".into(), |days| format!("{days:.0} d")),
            label: if d.net_flow_7d > 0 {
                format!("to clear: growing, {:+} in 7 days", d.net_flow_7d)
            } else {
                format!("to clear at the last 7 days' pace ({:+})", d.net_flow_7d)
            },
        },
    ]
}

fn local_time(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned(zone.clone()).strftime("%a %d %b, %H:%M:%S").to_string()
}

/// The wall's stream payload.
pub fn tiles_json(d: &Dashboard, zone: &jiff::tz::TimeZone) -> Value {
    let tiles: Vec<Value> = tiles(d)
        .into_iter()
        .map(|t| json!({"figure": t.figure, "level": t.level, "value": t.value, "label": t.label}))
        .collect();
    json!({"at_local": local_time(d.live.at, zone), "tiles": tiles})
}

// ---- Sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    next: String,
    name: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only a path of ours: never another site (`//evil`, `https://...`).
fn safe_next(next: Option<&str>) -> String {
    // A path of ours: one slash, then no second slash or backslash, and no whitespace or
    // control character at all (browsers drop tabs and newlines, so `/\t/evil` is `//evil`).
    let ours = |path: &str| {
        let mut chars = path.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && !path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    match next {
        Some(path) if ours(path) => path.to_owned(),
        _ => "/dashboard".to_owned(),
    }
}

async fn login_page(Query(query): Query<NextQuery>) -> Response {
    page(&LoginPage { error: None, next: safe_next(query.next.as_deref()), name: String::new() })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    let next = safe_next(form.next.as_deref());
    match session::authenticate(&state, form.name.trim(), &form.password).await {
        Ok(Some(user)) => match session::open(&state, &user, &headers).await {
            Ok(cookie) => (jar.add(cookie), Redirect::to(&next)).into_response(),
            Err(error) => {
                error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the session could not be saved: {error}"))
            }
        },
        Ok(None) => {
            let mut response = page(&LoginPage {
                error: Some("Wrong name or password.".into()),
                next,
                name: form.name.trim().to_owned(),
            });
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
        Err(error) => error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}")),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_origin(&headers) || !session.checks(&form.csrf) {
        return cross_site();
    }
    if let Err(error) = session::close(&state, &session).await {
        tracing::warn!(%error, "could not end a session");
    }
    (jar.remove(Cookie::build(session::COOKIE).path("/")), Redirect::to("/login")).into_response()
}

// ---- The dashboard and the wall --------------------------------------------------------------

struct TeamRow {
    name: String,
    open: u64,
    hours: String,
    capacity: String,
}

struct AtRiskRow {
    id: String,
    category: String,
    priority: String,
    minutes_left: String,
}

struct OldRow {
    id: String,
    created: String,
    age: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    at_local: String,
    tiles: Vec<Tile>,
    trend_svg: String,
    hourly_svg: String,
    ages_svg: String,
    by_priority: Vec<(String, u64)>,
    by_category: Vec<(String, u64)>,
    by_channel: Vec<(String, u64)>,
    by_team: Vec<TeamRow>,
    today_in: u64,
    today_out: u64,
    net_flow_7d: String,
    days_to_clear: String,
    on_shift: String,
    at_risk: Vec<AtRiskRow>,
    oldest: Vec<OldRow>,
}

fn sorted_desc(map: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

async fn dashboard(State(state): State<AppState>, session: Session) -> Response {
    let now = state.now();
    let d = Dashboard::at(&state, now);
    let zone = &state.operations.day_zone;
    // The charts read the recorded hours (a missing hour is reconstructed once and recorded).
    let hourly = crate::history::hourly_points(&state, now - SignedDuration::from_hours(48), now).await;
    let daily = crate::history::daily_points(&state, now - SignedDuration::from_hours(30 * 24), now).await;
    let (hourly, daily) = match (hourly, daily) {
        (Ok(hourly), Ok(daily)) => (hourly, daily),
        (Err(error), _) | (_, Err(error)) => {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the history could not be read: {error}"));
        }
    };
    let label = |at: i64, format: &str| {
        Timestamp::from_microsecond(at)
            .map_or_else(|_| String::new(), |t| t.to_zoned(zone.clone()).strftime(format).to_string())
    };
    let trend_svg = svg::line_chart(
        "open tickets at the end of each day; tickets created and resolved that day",
        // A daily point is the midnight that ends its day: labelled by that day.
        &daily.iter().map(|p| label(p.at - crate::live::HOUR_MICROS, "%d %b")).collect::<Vec<_>>(),
        &[
            Series { name: "open", class: "backlog", values: daily.iter().map(|p| p.count as f64).collect() },
            Series { name: "created", class: "inflow", values: daily.iter().map(|p| p.inflow as f64).collect() },
            Series { name: "resolved", class: "outflow", values: daily.iter().map(|p| p.outflow as f64).collect() },
        ],
    );
    let hourly_svg = svg::line_chart(
        "tickets created and resolved each hour",
        &hourly.iter().map(|p| label(p.at, "%a %Hh")).collect::<Vec<_>>(),
        &[
            Series { name: "created", class: "inflow", values: hourly.iter().map(|p| p.inflow as f64).collect() },
            Series { name: "resolved", class: "outflow", values: hourly.iter().map(|p| p.outflow as f64).collect() },
        ],
    );
    let b = &d.live.backlog;
    let ages_svg = svg::bar_chart(
        "open tickets by age",
        &b.age_buckets_in_order().map(|(k, v)| (k.to_owned(), v as f64)).collect::<Vec<_>>(),
        "age",
    );
    let by_team = d
        .capacity
        .by_team
        .iter()
        .map(|(team, c)| TeamRow {
            name: if team.is_empty() { "(no team)".into() } else { team.clone() },
            open: b.by_team.get(team).copied().unwrap_or(0),
            hours: hours_text(c.hours_of_work),
            capacity: hours_text(c.remaining_today_hours),
        })
        .collect();
    let template = DashboardPage {
        chrome: Chrome::of(&session, "dashboard"),
        at_local: local_time(now, zone),
        tiles: tiles(&d),
        trend_svg,
        hourly_svg,
        ages_svg,
        by_priority: b.by_priority.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        by_category: sorted_desc(&b.by_category),
        by_channel: sorted_desc(&b.by_channel),
        by_team,
        today_in: d.today.inflow,
        today_out: d.today.outflow,
        net_flow_7d: format!("{:+}", d.net_flow_7d),
        days_to_clear: d.days_to_clear.map_or_else(|| "not shrinking".into(), |days| format!("{days:.1}")),
        on_shift: format!("{:.0}", d.capacity.on_shift_now),
        at_risk: d
            .live
            .at_risk
            .iter()
            .take(25)
            .map(|a| AtRiskRow {
                id: a.id.clone(),
                category: a.category.clone(),
                priority: a.priority.clone(),
                minutes_left: format!("{:.0}", a.minutes_left),
            })
            .collect(),
        oldest: b
            .oldest
            .iter()
            .map(|o| OldRow {
                id: o.id.clone(),
                created: local_time(o.created_at, zone),
                age: age_text(o.age_minutes / 60.0),
            })
            .collect(),
    };
    page(&template)
}

#[derive(Template)]
#[template(path = "wall.html")]
struct WallPage {
    at_local: String,
    tiles: Vec<Tile>,
}

async fn wall(State(state): State<AppState>, _session: Session) -> Response {
    let now = state.now();
    let d = Dashboard::at(&state, now);
    page(&WallPage { at_local: local_time(now, &state.operations.day_zone), tiles: tiles(&d) })
}

async fn wall_stream(State(state): State<AppState>, session: Session) -> impl IntoResponse {
    Sse::new(events(state, Flavor::Wall, session.actor())).keep_alive(KeepAlive::default())
}

// ---- The queue -----------------------------------------------------------------------------

struct QueueRow {
    position: usize,
    id: String,
    subject: String,
    priority: &'static str,
    team: String,
    assignee: String,
    status: &'static str,
    sla: &'static str,
    why: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    flash: Option<String>,
    teams: Vec<String>,
    team: String,
    priorities: Vec<String>,
    priority: String,
    category: String,
    sla_states: Vec<String>,
    sla_state: String,
    can_take: bool,
    rows: Vec<QueueRow>,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    team: Option<String>,
    priority: Option<String>,
    category: Option<String>,
    sla_state: Option<String>,
    flash: Option<String>,
}

/// Why a ticket stands where it stands, in words.
fn why(body: &TicketBody) -> String {
    let Some(queue) = &body.queue else { return String::new() };
    let mut parts = vec![match queue.class {
        "p1" => "P1: first".to_owned(),
        "paused" => "waiting: last".to_owned(),
        _ => match (&queue.effective_deadline, queue.deadline_of) {
            (Some(due), Some("no_sla")) => format!("no SLA: ages in, due {due}"),
            (Some(due), Some(of)) => format!("{} due {due}", of.replace('_', " ")),
            _ => "by age".to_owned(),
        },
    }];
    for boost in &queue.boosts {
        parts.push(format!("{} −{} min", boost.reason.replace('_', " "), boost.minutes));
    }
    parts.push(format!("{:.0} min of work ahead in its team", queue.work_ahead_minutes));
    parts.join(" · ")
}

async fn queue(State(state): State<AppState>, session: Session, Query(query): Query<QueueQuery>) -> Response {
    let now = state.now();
    let actor = session.actor();
    let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut filters = Filters::default();
    if let Some(team) = nonempty(&query.team).and_then(|t| TeamId::parse(t).ok()) {
        filters.teams.push(team);
    }
    if let Some(priority) = nonempty(&query.priority).and_then(|p| Priority::parse(&p)) {
        filters.priorities.push(priority);
    }
    if let Some(category) = nonempty(&query.category) {
        filters.categories.push(category);
    }
    if let Some(sla) = nonempty(&query.sla_state).and_then(|s| SlaState::parse(&s)) {
        filters.sla_states.push(sla);
    }
    let live_query = LiveQuery {
        filters,
        scope: actor.team_scope().map(<[TeamId]>::to_vec),
        order: LiveOrder::Queue,
        after: None,
        limit: QUEUE_PAGE,
    };
    let ids: Vec<TicketId> = state.live.page(&live_query, now).0.into_iter().map(|item| item.id).collect();
    let tickets = match crate::tickets::tickets_in_order(&state, &ids).await {
        Ok(tickets) => tickets,
        Err(error) => return error.into_response(),
    };
    let rows = tickets
        .iter()
        .enumerate()
        .map(|(idx, ticket)| {
            let body = TicketBody::render(&state, ticket, now);
            QueueRow {
                position: idx + 1,
                why: why(&body),
                sla: body.sla.as_ref().map_or("none", |sla| sla.state),
                id: body.id,
                subject: body.subject,
                priority: body.priority,
                team: body.team.unwrap_or_default(),
                assignee: body.assignee.unwrap_or_default(),
                status: body.status,
            }
        })
        .collect();
    let mut teams: Vec<String> = match state.store.teams().await {
        Ok(teams) => teams.into_iter().map(|t| t.id.to_string()).collect(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    teams.retain(|team| actor.can_see_team(TeamId::parse(team.clone()).ok().as_ref()));
    let template = QueuePage {
        chrome: Chrome::of(&session, "queue"),
        flash: query.flash.clone(),
        teams,
        team: query.team.unwrap_or_default(),
        priorities: Priority::ALL.iter().map(|p| p.as_str().to_owned()).collect(),
        priority: query.priority.unwrap_or_default(),
        category: query.category.unwrap_or_default(),
        sla_states: ["running", "paused", "met", "breached"].map(str::to_owned).to_vec(),
        sla_state: query.sla_state.unwrap_or_default(),
        can_take: AgentId::parse(session.user.name.clone()).ok().and_then(|agent| state.live.agent(&agent)).is_some(),
        rows,
    };
    page(&template)
}

fn flash_path(path: &str, message: &str, error: bool) -> String {
    let message: String = form_urlencoded::byte_serialize(message.as_bytes()).collect();
    format!("{path}?flash={message}{}", if error { "&kind=error" } else { "" })
}

async fn take_next(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_origin(&headers) || !session.checks(&form.csrf) {
        return cross_site();
    }
    let Ok(agent) = AgentId::parse(session.user.name.clone()) else {
        return Redirect::to(&flash_path("/queue", "Only an agent takes tickets: your name is not an agent's.", true))
            .into_response();
    };
    match crate::queue::claim_next(&state, &session.actor(), agent, None).await {
        Ok(Some((committed, _))) => Redirect::to(&flash_path(
            &format!("/tickets/{}", committed.ticket.id),
            "This ticket is yours now: it was the first in your queue.",
            false,
        ))
        .into_response(),
        Ok(None) => Redirect::to(&flash_path("/queue", "No ticket is waiting for you now.", false)).into_response(),
        Err(error) => Redirect::to(&flash_path("/queue", &problem_text(error), true)).into_response(),
    }
}

fn problem_text(error: ApiError) -> String {
    let problem = error.into_problem();
    let fields: Vec<String> = problem.errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
    if fields.is_empty() { problem.detail } else { fields.join("; ") }
}

// ---- The ticket ----------------------------------------------------------------------------

struct HistoryLine {
    when: String,
    actor: String,
    what: String,
    text: Option<String>,
    class: &'static str,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    chrome: Chrome,
    flash: Option<String>,
    flash_class: &'static str,
    id: String,
    version: i64,
    subject: String,
    body: String,
    priority: &'static str,
    status: &'static str,
    sla_state: &'static str,
    category: String,
    channel: &'static str,
    customer: String,
    tier: &'static str,
    team: String,
    assignee: String,
    assignee_value: String,
    created: String,
    history: Vec<HistoryLine>,
    statuses: Vec<String>,
    priorities: Vec<String>,
    sla_rows: Vec<(String, String)>,
    /// (name, title) of the macros in force.
    macros: Vec<(String, String)>,
    /// The ticket's path, one row per step; empty off a path.
    path: Vec<PathRow>,
    /// Where a handoff may send it: (step, label), the next step first; empty when it cannot move.
    handoff_choices: Vec<(String, String)>,
}

/// A step of the ticket's path, as its page shows it.
struct PathRow {
    name: String,
    team: String,
    /// `current`, `done`, `ahead`.
    state: &'static str,
    /// Time in the step (business hours), and the visits when more than one.
    time: String,
    sla: String,
    /// The current visit's deadline, or what went past the SLA.
    due: String,
    over: bool,
}

#[derive(Deserialize, Default)]
struct FlashQuery {
    flash: Option<String>,
    kind: Option<String>,
}

async fn visible(state: &AppState, session: &Session, id: &str) -> Result<Ticket, Response> {
    let Ok(id) = TicketId::parse(id.to_owned()) else {
        return Err(error_page(StatusCode::NOT_FOUND, "There is no such ticket."));
    };
    match state.store.ticket(&id).await {
        Ok(Some(ticket)) if session.actor().can_see(&ticket) => Ok(ticket),
        Ok(_) => Err(error_page(StatusCode::NOT_FOUND, "There is no such ticket, or it is not one of your teams'.")),
        Err(error) => Err(error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}"))),
    }
}

fn describe(kind: &EventKind) -> (String, Option<String>, &'static str) {
    match kind {
        EventKind::TicketCreated(_) => ("created the ticket".into(), None, ""),
        EventKind::StatusChanged { from, to } => (format!("moved it from {from} to {to}"), None, ""),
        EventKind::FieldsChanged(changes) => {
            let parts: Vec<String> = changes
                .iter()
                .map(|change| {
                    let (from, to) = change.values();
                    format!("{}: {} → {}", change.field().name(), value_text(&from), value_text(&to))
                })
                .collect();
            (format!("changed {}", parts.join(", ")), None, "")
        }
        EventKind::CommentAdded { public, body, first_response } => {
            let what = match (public, first_response) {
                (true, true) => "replied (the first answer)",
                (true, false) => "replied",
                (false, _) => "added an internal note",
            };
            (what.into(), Some(body.clone()), if *public { "public" } else { "" })
        }
        EventKind::SlaApplied { .. } => ("applied the SLA policy in force".into(), None, ""),
        EventKind::SlaAtRisk { target, due_at } => (format!("warned: {} due {due_at}", target.as_str()), None, ""),
        EventKind::SlaBreached { target, due_at } => {
            (format!("recorded a breach: {} was due {due_at}", target.as_str()), None, "")
        }
        EventKind::DuplicatesSuggested { similar } => {
            let found: Vec<String> =
                similar.iter().map(|s| format!("{} ({:.0} %)", s.ticket, s.score() * 100.0)).collect();
            (format!("found likely duplicates among the open tickets: {}", found.join(", ")), None, "")
        }
        EventKind::MergedInto { into } => (format!("merged it into {into}"), None, ""),
        EventKind::MergedFrom { from } => (format!("merged {from} into it"), None, ""),
        // A rule measured from a step's entry is recorded `name@instant` (once per stay).
        EventKind::RuleApplied { rule, failed: None } => {
            (format!("applied the time rule `{}`", rule.split('@').next().unwrap_or(rule)), None, "")
        }
        EventKind::RuleApplied { rule, failed: Some(reason) } => (
            format!("could not apply the time rule `{}`", rule.split('@').next().unwrap_or(rule)),
            Some(reason.clone()),
            "",
        ),
        EventKind::MessageQueued { audience, subject, body, .. } => {
            let to = match audience {
                vigie_core::event::Audience::Customer(id) => format!("the customer ({id})"),
                vigie_core::event::Audience::Team(id) => format!("team {id}"),
            };
            (format!("sent {to}: {subject}"), Some(body.clone()), "")
        }
        EventKind::HandedOver { from, to, team, reason } => {
            let what = match (from, to, team) {
                (Some(from), Some(to), Some(team)) => format!("handed it over from step {from} to {to} (team {team})"),
                (None, Some(to), Some(team)) => format!("put it on its path at step {to} (team {team})"),
                (Some(from), None, _) => format!("took it off its path (it was at step {from})"),
                _ => "moved it along its path".to_owned(),
            };
            (what, Some(reason.clone()), "handoff")
        }
    }
}

fn value_text(value: &vigie_core::FieldValue) -> String {
    match value {
        vigie_core::FieldValue::Null => "none".into(),
        vigie_core::FieldValue::Text(text) => text.clone(),
        vigie_core::FieldValue::Bool(flag) => flag.to_string(),
        vigie_core::FieldValue::Int(n) => n.to_string(),
        vigie_core::FieldValue::List(items) => items.join(", "),
    }
}

async fn ticket(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<FlashQuery>,
) -> Response {
    let ticket = match visible(&state, &session, &id).await {
        Ok(ticket) => ticket,
        Err(response) => return response,
    };
    let events = match state.store.ticket_events(&ticket.id).await {
        Ok(events) => events,
        Err(error) => {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}"));
        }
    };
    let now = state.now();
    let zone = &state.operations.day_zone;
    let body = TicketBody::render(&state, &ticket, now);
    let mut sla_rows = Vec::new();
    if let Some(sla) = &body.sla {
        sla_rows.push(("Policy".into(), format!("{} ({} calendar)", sla.policy, sla.calendar)));
        for (name, target) in [("First response", &sla.first_response), ("Resolution", &sla.resolution)] {
            if let Some(target) = target {
                sla_rows.push((
                    name.into(),
                    format!(
                        "{}, due {}, {} business min left",
                        target.state,
                        target.due_at.as_deref().unwrap_or("-"),
                        target.minutes_left
                    ),
                ));
            }
        }
        if let Some(breach) = &sla.predicted_breach_at {
            sla_rows.push(("Predicted breach".into(), breach.clone()));
        }
    }
    if let Some(queue) = &body.queue {
        sla_rows.push(("Place".into(), format!("{} of {} in its team's queue", queue.position, queue.queue_length)));
        sla_rows.push(("Why".into(), why(&body)));
    }
    let history = events
        .iter()
        .map(|event| {
            let (what, text, class) = describe(&event.kind);
            HistoryLine { when: local_time(event.at, zone), actor: event.actor.clone(), what, text, class }
        })
        .collect();
    let template = TicketPage {
        chrome: Chrome::of(&session, "queue"),
        flash: query.flash,
        flash_class: if query.kind.as_deref() == Some("error") { "error" } else { "" },
        id: body.id.clone(),
        version: ticket.version,
        subject: ticket.subject.clone(),
        body: ticket.body.clone(),
        priority: body.priority,
        status: body.status,
        sla_state: body.sla.as_ref().map_or("none", |sla| sla.state),
        category: ticket.category.clone(),
        channel: ticket.channel.as_str(),
        customer: ticket.customer_id.to_string(),
        tier: ticket.customer_tier.as_str(),
        team: body.team.clone().unwrap_or_else(|| "none".into()),
        assignee: body.assignee.clone().unwrap_or_else(|| "nobody".into()),
        assignee_value: body.assignee.clone().unwrap_or_default(),
        created: local_time(ticket.created_at, zone),
        history,
        statuses: Status::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str().to_owned()).collect(),
        sla_rows,
        macros: state.rules.rules().automations.macros.iter().map(|m| (m.name.clone(), m.title.clone())).collect(),
        path: path_rows(&body, zone),
        handoff_choices: handoff_choices(&body),
    };
    page(&template)
}

fn path_rows(body: &TicketBody, zone: &jiff::tz::TimeZone) -> Vec<PathRow> {
    let Some(path) = &body.path else { return Vec::new() };
    let hours = |minutes: i64| {
        if minutes >= 120 { format!("{:.1} h", minutes as f64 / 60.0) } else { format!("{minutes} min") }
    };
    let local = |at: &str| at.parse::<Timestamp>().map_or_else(|_| at.to_owned(), |t| local_time(t, zone));
    path.steps
        .iter()
        .map(|step| PathRow {
            name: step.name.clone(),
            team: step.team.clone(),
            state: step.state,
            time: match step.visits {
                0 => "-".to_owned(),
                1 => hours(step.business_minutes),
                n => format!("{} over {n} visits", hours(step.business_minutes)),
            },
            sla: step.sla_minutes.map_or_else(|| "-".to_owned(), hours),
            due: match (&step.due_at, step.overdue, step.over_sla) {
                (Some(due), true, _) => format!("past its SLA (was due {})", local(due)),
                (Some(due), false, _) => format!("due {}", local(due)),
                (None, _, 0) => String::new(),
                (None, _, 1) => "took longer than its SLA".to_owned(),
                (None, _, n) => format!("{n} visits longer than its SLA"),
            },
            over: step.overdue || (step.due_at.is_none() && step.over_sla > 0),
        })
        .collect()
}

fn handoff_choices(body: &TicketBody) -> Vec<(String, String)> {
    let Some(path) = &body.path else { return Vec::new() };
    let Some(current) = path.steps.iter().position(|s| s.state == "current") else { return Vec::new() };
    let mut choices = Vec::new();
    if let Some(next) = path.steps.get(current + 1) {
        choices.push((next.name.clone(), format!("next: {} ({})", next.name, next.team)));
    }
    for earlier in path.steps[..current].iter().rev() {
        choices.push((earlier.name.clone(), format!("back to {} ({})", earlier.name, earlier.team)));
    }
    choices
}

#[derive(Deserialize)]
struct HandoffForm {
    csrf: String,
    to_step: String,
    reason: String,
    version: i64,
}

/// Hands the ticket over from its page: the same command as `POST
/// /api/v1/tickets/{id}/handoff`, at the version the page showed.
async fn hand_over(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HandoffForm>,
) -> Response {
    let (ticket, path) = match posted_to(&state, &session, &headers, &form.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let handoff = match (vigie_core::workflow::HandoffInput { reason: form.reason, to_step: Some(form.to_step) })
        .parse()
    {
        Ok(handoff) => handoff,
        Err(errors) => {
            return Redirect::to(&flash_path(&path, &problem_text(ApiError::invalid(errors)), true)).into_response();
        }
    };
    let command = TicketCommand::HandOver {
        ticket_id: ticket.id.clone(),
        expected: vigie_core::ExpectedVersion::Exactly(form.version),
        handoff,
    };
    match state.submit(command, session.actor()).await {
        Ok(committed) => {
            let message = match (committed.ticket.current_step(), &committed.ticket.team) {
                (Some(step), Some(team)) => format!("Handed over: step {step}, team {team}."),
                _ => "Handed over.".to_owned(),
            };
            // The ticket may now be out of the agent's sight (another team's): back to the queue.
            if session.actor().can_see(&committed.ticket) {
                Redirect::to(&flash_path(&path, &message, false)).into_response()
            } else {
                Redirect::to(&flash_path("/queue", &message, false)).into_response()
            }
        }
        Err(error) => Redirect::to(&flash_path(&path, &problem_text(error.into()), true)).into_response(),
    }
}

/// The ticket a form of its page was posted to, and the page's path: once the write is known to
/// come from our page (its token, its site) and the ticket to be visible to the user.
async fn posted_to(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<(Ticket, String), Response> {
    if !same_origin(headers) || !session.checks(csrf) {
        return Err(cross_site());
    }
    let ticket = visible(state, session, id).await?;
    let path = format!("/tickets/{}", ticket.id);
    Ok((ticket, path))
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: String,
    body: String,
    public: Option<String>,
}

async fn reply(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let (ticket, path) = match posted_to(&state, &session, &headers, &form.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let public = form.public.as_deref() == Some("true");
    let comment = match (NewCommentInput { body: form.body, public }).parse() {
        Ok(comment) => comment,
        Err(errors) => {
            return Redirect::to(&flash_path(&path, &problem_text(ApiError::invalid(errors)), true)).into_response();
        }
    };
    match state.submit(TicketCommand::Comment { ticket_id: ticket.id.clone(), comment }, session.actor()).await {
        Ok(_) => {
            Redirect::to(&flash_path(&path, if public { "Reply sent." } else { "Note added." }, false)).into_response()
        }
        Err(error) => Redirect::to(&flash_path(&path, &problem_text(error.into()), true)).into_response(),
    }
}

#[derive(Deserialize)]
struct MacroForm {
    csrf: String,
    name: String,
    version: i64,
}

/// Applies a macro from the ticket page: the same command as `POST
/// /api/v1/tickets/{id}/macros/{name}`, at the version the page showed.
async fn apply_macro(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<MacroForm>,
) -> Response {
    let (ticket, path) = match posted_to(&state, &session, &headers, &form.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let command = TicketCommand::ApplyMacro {
        ticket_id: ticket.id.clone(),
        expected: vigie_core::ExpectedVersion::Exactly(form.version),
        name: form.name.clone(),
    };
    match state.submit(command, session.actor()).await {
        Ok(_) => Redirect::to(&flash_path(&path, &format!("Macro `{}` applied.", form.name), false)).into_response(),
        Err(error) => Redirect::to(&flash_path(&path, &problem_text(error.into()), true)).into_response(),
    }
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    status: String,
    priority: String,
    assignee: String,
    version: i64,
}

async fn change(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    let (ticket, path) = match posted_to(&state, &session, &headers, &form.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    // Only what the form changes: the same value sent back is no change.
    let assignee = form.assignee.trim();
    let current_assignee = ticket.assignee.as_ref().map_or("", |a| a.as_str());
    let input = TicketPatchInput {
        status: (form.status != ticket.status.as_str()).then_some(form.status),
        priority: (form.priority != ticket.priority.as_str()).then_some(form.priority),
        assignee: (assignee != current_assignee).then(|| (!assignee.is_empty()).then(|| assignee.to_owned())),
        ..TicketPatchInput::default()
    };
    let patch = match input.parse() {
        Ok(patch) => patch,
        Err(errors) => {
            return Redirect::to(&flash_path(&path, &problem_text(ApiError::invalid(errors)), true)).into_response();
        }
    };
    let command =
        TicketCommand::Patch { ticket_id: ticket.id.clone(), expected: ExpectedVersion::Exactly(form.version), patch };
    match state.submit(command, session.actor()).await {
        Ok(_) => Redirect::to(&flash_path(&path, "Saved.", false)).into_response(),
        Err(error) => Redirect::to(&flash_path(&path, &problem_text(error.into()), true)).into_response(),
    }
}

// ---- Alerts ---------------------------------------------------------------------------------

struct AlertRow {
    fired: String,
    rule: String,
    summary: String,
    channel: String,
    status: &'static str,
    attempts: i64,
    error: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    rules: String,
    rows: Vec<AlertRow>,
}

async fn alerts(State(state): State<AppState>, session: Session) -> Response {
    let history = match state.store.alert_history(200).await {
        Ok(history) => history,
        Err(error) => {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}"));
        }
    };
    let zone = &state.operations.day_zone;
    let rules: Vec<String> = state
        .operations
        .alerts
        .rules
        .iter()
        .map(|rule| format!("{} ({} above {})", rule.name, rule.kind.as_str(), rule.above))
        .collect();
    let rows = history
        .iter()
        .map(|d| AlertRow {
            fired: local_time(d.fired_at, zone),
            rule: d.rule.clone(),
            summary: d.summary.clone(),
            channel: if d.channel.is_empty() { "(nobody)".into() } else { d.channel.clone() },
            status: crate::alerts::delivery_status(d),
            attempts: d.attempts,
            error: d.last_error.clone().unwrap_or_default(),
        })
        .collect();
    page(&AlertsPage { chrome: Chrome::of(&session, "alerts"), rules: rules.join("; "), rows })
}

// ---- Batches of similar tickets ------------------------------------------------------------

/// The tickets listed per batch on the page; a reply goes to all the batch's open tickets up to
/// this many.
const BATCH_TICKETS: usize = 200;

struct BatchTicket {
    id: String,
    subject: String,
    priority: &'static str,
    team: String,
    assignee: String,
    status: &'static str,
    created: String,
}

struct Batch {
    id: String,
    name: String,
    open: usize,
    last_24h: u32,
    usual: String,
    tickets: Vec<BatchTicket>,
    /// Open tickets beyond those shown.
    more: usize,
    /// The ids the reply goes to, comma-separated, and how many.
    ids: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "batches.html")]
struct BatchesPage {
    chrome: Chrome,
    flash: Option<String>,
    flash_class: &'static str,
    computed: String,
    threshold: f64,
    can_write: bool,
    batches: Vec<Batch>,
}

/// Shown per batch; the rest are answered too.
const BATCH_SHOWN: usize = 12;

async fn batches(State(state): State<AppState>, session: Session, Query(query): Query<FlashQuery>) -> Response {
    let actor = session.actor();
    let listed = crate::clusters::list(
        &state,
        &actor,
        crate::clusters::ClusterQuery { tickets: BATCH_TICKETS, ..crate::clusters::ClusterQuery::default() },
    )
    .await;
    let (report, listed) = match listed {
        Ok(listed) => listed,
        Err(error) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &problem_text(error)),
    };
    let zone = &state.operations.day_zone;
    let batches = listed
        .into_iter()
        .map(|c| {
            let spike = vigie_core::recurring::spike(&c.volume);
            Batch {
                id: c.volume.id.clone(),
                name: c.volume.name.clone(),
                open: c.open,
                last_24h: c.volume.daily[0],
                usual: match spike {
                    None => "too young to have a usual day".to_owned(),
                    Some(s) if s.usual == 0.0 => "usually none".to_owned(),
                    Some(s) => format!("usually {} a day", (s.usual * 10.0).round() / 10.0),
                },
                more: c.open.saturating_sub(BATCH_SHOWN),
                ids: c.tickets.iter().map(|t| t.id.to_string()).collect::<Vec<_>>().join(","),
                count: c.tickets.len(),
                tickets: c
                    .tickets
                    .iter()
                    .take(BATCH_SHOWN)
                    .map(|t| BatchTicket {
                        id: t.id.to_string(),
                        subject: t.subject.clone(),
                        priority: t.priority.as_str(),
                        team: t.team.as_ref().map(ToString::to_string).unwrap_or_default(),
                        assignee: t.assignee.as_ref().map(ToString::to_string).unwrap_or_default(),
                        status: t.status.as_str(),
                        created: local_time(t.created_at, zone),
                    })
                    .collect(),
            }
        })
        .collect();
    page(&BatchesPage {
        chrome: Chrome::of(&session, "batches"),
        flash: query.flash,
        flash_class: if query.kind.as_deref() == Some("error") { "error" } else { "" },
        computed: local_time(report.computed_at, zone),
        threshold: state.clusters.threshold(),
        can_write: actor.can_write_tickets(),
        batches,
    })
}

#[derive(Deserialize)]
struct BatchReplyForm {
    csrf: String,
    ids: String,
    body: String,
    public: Option<String>,
}

/// One reply to a batch: each ticket gets it as its own comment (the bulk API's `reply`).
async fn batch_reply(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<BatchReplyForm>,
) -> Response {
    if !same_origin(&headers) || !session.checks(&form.csrf) {
        return cross_site();
    }
    let actor = session.actor();
    if !actor.can_write_tickets() {
        return Redirect::to(&flash_path("/batches", "Viewers cannot reply.", true)).into_response();
    }
    let public = form.public.as_deref() == Some("true");
    let reply = match (NewCommentInput { body: form.body, public }).parse() {
        Ok(reply) => reply,
        Err(errors) => {
            return Redirect::to(&flash_path("/batches", &problem_text(ApiError::invalid(errors)), true))
                .into_response();
        }
    };
    let ids: Result<Vec<TicketId>, _> = form
        .ids
        .split(',')
        .filter(|id| !id.is_empty())
        .take(BATCH_TICKETS)
        .map(|id| TicketId::parse(id.to_owned()))
        .collect();
    let Ok(ids) = ids else {
        return Redirect::to(&flash_path("/batches", "The batch names a ticket that does not exist.", true))
            .into_response();
    };
    let steps = crate::bulk::Steps { reply: Some(reply), ..crate::bulk::Steps::default() };
    match crate::bulk::apply(&state, &actor, &ids, steps).await {
        Ok(report) => {
            let message = match report.n_failed {
                0 => format!("Replied to {} tickets.", report.n_changed),
                failed => format!(
                    "Replied to {} tickets; {failed} could not be answered (closed, or no longer yours).",
                    report.n_changed
                ),
            };
            Redirect::to(&flash_path("/batches", &message, report.n_failed > 0)).into_response()
        }
        Err(error) => Redirect::to(&flash_path("/batches", &problem_text(error), true)).into_response(),
    }
}

// ---- The weekly review --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "weekly.html")]
struct WeeklyPage {
    chrome: Chrome,
    at_local: String,
    trend_svg: String,
    text: String,
}

async fn weekly(State(state): State<AppState>, session: Session) -> Response {
    let now = state.now();
    let zone = state.operations.day_zone.clone();
    match crate::reviews::Weekly::at(&state, now, &session.actor()).await {
        Ok(review) => {
            // A point is the midnight that ends its day: labelled by that day.
            let label = |at: i64| {
                Timestamp::from_microsecond(at - crate::live::HOUR_MICROS)
                    .map_or_else(|_| String::new(), |t| t.to_zoned(zone.clone()).strftime("%a %d").to_string())
            };
            let days = &review.days;
            let trend_svg = svg::line_chart(
                "open tickets at the end of each day; tickets created and resolved that day",
                &days.iter().map(|p| label(p.at)).collect::<Vec<_>>(),
                &[
                    Series { name: "open", class: "backlog", values: days.iter().map(|p| p.count as f64).collect() },
                    Series { name: "created", class: "inflow", values: days.iter().map(|p| p.inflow as f64).collect() },
                    Series {
                        name: "resolved",
                        class: "outflow",
                        values: days.iter().map(|p| p.outflow as f64).collect(),
                    },
                ],
            );
            page(&WeeklyPage {
                chrome: Chrome::of(&session, "weekly"),
                at_local: local_time(now, &zone),
                trend_svg,
                text: review.to_text(),
            })
        }
        Err(error) => error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}")),
    }
}

// ---- The morning report --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "morning.html")]
struct MorningPage {
    chrome: Chrome,
    at_local: String,
    tiles: Vec<Tile>,
    text: String,
}

async fn morning(State(state): State<AppState>, session: Session) -> Response {
    let now = state.now();
    match crate::reviews::Morning::at(&state, now, &session.actor()).await {
        Ok(report) => page(&MorningPage {
            chrome: Chrome::of(&session, "morning"),
            at_local: local_time(now, &state.operations.day_zone),
            tiles: tiles(&report.dashboard),
            text: report.to_text(),
        }),
        Err(error) => error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("the store did not answer: {error}")),
    }
}
