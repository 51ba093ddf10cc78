//! The rituals: the morning report (how many, the oldest, the urgent, today's capacity against
//! the work) — `vigie morning`, `GET /api/v1/reports/morning` and its page — built on the live
//! backlog ([`Dashboard`]) and the live queue.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde_json::Value;
use vigie_analytics::render::instant;
use vigie_analytics::render::json::{float, object};
use vigie_core::{Priority, SlaState, Ticket, TicketId};
use vigie_store::StoreError;

use crate::AppState;
use crate::auth::Caller;
use crate::backlog::Dashboard;
use crate::error::{ApiError, Problem};
use crate::live::{Filters, LiveOrder, LiveQuery, hour_of};

/// Tickets listed per urgent group.
pub const LISTED: usize = 10;

/// One ticket named in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTicket {
    pub id: String,
    pub subject: String,
    pub priority: Priority,
    pub team: String,
    pub age_hours: f64,
    /// Its SLA deadline (the first response's while unanswered, else the resolution's).
    pub due_at: Option<Timestamp>,
}

impl NamedTicket {
    fn of(state: &AppState, ticket: &Ticket, now: Timestamp) -> NamedTicket {
        let sla = ticket.sla_clock().map(|clock| state.rules.rules().sla.evaluate(&clock, now));
        NamedTicket {
            id: ticket.id.to_string(),
            subject: ticket.subject.clone(),
            priority: ticket.priority,
            team: ticket.team.as_ref().map_or_else(String::new, |t| t.to_string()),
            age_hours: (now.as_microsecond() - ticket.created_at.as_microsecond()) as f64 / 3_600_000_000.0,
            due_at: sla.as_ref().and_then(|sla| sla.deadline()).and_then(|target| target.due_at),
        }
    }

    fn to_json(&self) -> Value {
        object([
            ("id", self.id.clone().into()),
            ("subject", self.subject.clone().into()),
            ("priority", self.priority.as_str().into()),
            ("team", self.team.clone().into()),
            ("age_hours", float(self.age_hours)),
            ("due_at", self.due_at.map_or(Value::Null, |at| instant(at).into())),
        ])
    }
}

/// The morning report.
#[derive(Debug, Clone)]
pub struct Morning {
    pub dashboard: Dashboard,
    /// The oldest open tickets, with their subjects.
    pub oldest: Vec<NamedTicket>,
    /// Open P1 tickets, first in the queue first; and how many there are.
    pub p1: Vec<NamedTicket>,
    pub p1_count: u64,
    /// Open tickets past a deadline below P1, first in the queue first.
    pub breached: Vec<NamedTicket>,
    /// Yesterday (the local day before today): created, resolved.
    pub yesterday: (u64, u64),
    /// The dashboard's time zone, for the report's dates.
    pub zone: jiff::tz::TimeZone,
}

impl Morning {
    pub async fn at(state: &AppState, now: Timestamp) -> Result<Morning, StoreError> {
        let dashboard = Dashboard::at(state, now);
        let oldest_ids: Vec<TicketId> =
            dashboard.live.backlog.oldest.iter().filter_map(|o| TicketId::parse(o.id.clone()).ok()).collect();
        let first = |filters: Filters| {
            let query = LiveQuery { filters, scope: None, order: LiveOrder::Queue, after: None, limit: LISTED };
            state.live.page(&query, now).0.into_iter().map(|item| item.id).collect::<Vec<_>>()
        };
        let p1_ids = first(Filters { priorities: vec![Priority::P1], ..Filters::default() });
        // Past a deadline, below P1 (the P1 are all listed above).
        let breached_ids = first(Filters {
            sla_states: vec![SlaState::Breached],
            priorities: vec![Priority::P2, Priority::P3, Priority::P4],
            ..Filters::default()
        });
        let named = |ids: Vec<TicketId>| async move {
            let mut tickets = state.store.tickets_by_ids(&ids).await?;
            tickets.sort_by_key(|ticket| ids.iter().position(|id| *id == ticket.id));
            Ok::<_, StoreError>(tickets.iter().map(|t| NamedTicket::of(state, t, now)).collect::<Vec<_>>())
        };
        let (day_start, _) = vigie_core::operations::local_day(&state.operations.day_zone, now);
        let yesterday_start = day_start.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(day_start);
        let flow = state.live.hourly_flow(hour_of(yesterday_start), hour_of(day_start) - 1);
        let yesterday = flow.iter().fold((0, 0), |(i, o), h| (i + h[0], o + h[1]));
        Ok(Morning {
            p1_count: dashboard.live.backlog.by_priority.get("P1").copied().unwrap_or(0),
            oldest: named(oldest_ids).await?,
            p1: named(p1_ids).await?,
            breached: named(breached_ids).await?,
            yesterday,
            dashboard,
            zone: state.operations.day_zone.clone(),
        })
    }

    pub fn to_json(&self) -> Value {
        let d = &self.dashboard;
        let b = &d.live.backlog;
        let list = |tickets: &[NamedTicket]| Value::Array(tickets.iter().map(NamedTicket::to_json).collect());
        let counts = |map: &std::collections::BTreeMap<String, u64>| -> Value {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect())
        };
        let capacity = &d.capacity;
        let days_of_work = (capacity.today_hours > 0.0).then(|| b.hours_of_work / capacity.today_hours);
        object([
            ("schema", "vigie.morning.v1".into()),
            ("as_of", instant(d.live.at).into()),
            (
                "backlog",
                object([
                    ("count", b.count.into()),
                    ("by_priority", counts(&b.by_priority)),
                    ("by_team", counts(&b.by_team)),
                    ("hours_of_work", float(b.hours_of_work)),
                ]),
            ),
            ("oldest", list(&self.oldest)),
            (
                "urgent",
                object([
                    ("p1_count", self.p1_count.into()),
                    ("p1", list(&self.p1)),
                    ("at_risk_count", (d.live.at_risk.len() as u64).into()),
                    ("at_risk", vigie_analytics::render::json::at_risk_value(&d.live.at_risk)),
                    ("past_resolution_target", b.past_resolution_target.into()),
                    ("first_response_overdue", d.live.response_overdue.into()),
                    ("breached", list(&self.breached)),
                ]),
            ),
            (
                "capacity",
                object([
                    ("on_shift_now", float(capacity.on_shift_now)),
                    ("today_hours", float(capacity.today_hours)),
                    ("remaining_today_hours", float(capacity.remaining_today_hours)),
                    ("hours_of_work", float(b.hours_of_work)),
                    ("days_of_work", days_of_work.map_or(Value::Null, float)),
                ]),
            ),
            (
                "flow",
                object([
                    ("yesterday", object([("inflow", self.yesterday.0.into()), ("outflow", self.yesterday.1.into())])),
                    ("net_flow_7d", d.net_flow_7d.into()),
                    ("days_to_clear", d.days_to_clear.map_or(Value::Null, float)),
                ]),
            ),
        ])
    }

    /// The report for a terminal or an e-mail: 80 columns, most urgent first.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let d = &self.dashboard;
        let b = &d.live.backlog;
        let mut out = String::new();
        let at = d.live.at.to_zoned(self.zone.clone()).strftime("%A %e %B %Y, %H:%M %Z");
        let _ = writeln!(out, "Morning report, {at}\n");
        let by_priority: Vec<String> = b.by_priority.iter().map(|(p, n)| format!("{p} {n}")).collect();
        let _ = writeln!(
            out,
            "Backlog        {} open ({}), {:.1} hours of work",
            b.count,
            by_priority.join(", "),
            b.hours_of_work
        );
        let _ = writeln!(
            out,
            "Yesterday      {} in, {} out; last 7 days net {:+}{}",
            self.yesterday.0,
            self.yesterday.1,
            d.net_flow_7d,
            d.days_to_clear.map_or_else(|| " (not shrinking)".to_owned(), |days| format!(", {days:.1} days to clear"))
        );
        let capacity = &d.capacity;
        let _ = writeln!(
            out,
            "Capacity       {:.1} agent-hours today ({:.1} left, {:.0} on shift now): {}",
            capacity.today_hours,
            capacity.remaining_today_hours,
            capacity.on_shift_now,
            if capacity.today_hours > 0.0 {
                format!("{:.1} days of work in the backlog", b.hours_of_work / capacity.today_hours)
            } else {
                "nobody on shift today".to_owned()
            }
        );
        let _ = writeln!(
            out,
            "\nUrgent         {} P1 open, {} at risk within the hour, {} past resolution target, {} awaiting a late first reply",
            self.p1_count,
            d.live.at_risk.len(),
            b.past_resolution_target,
            d.live.response_overdue
        );
        let section = |out: &mut String, title: &str, tickets: &[NamedTicket]| {
            if tickets.is_empty() {
                return;
            }
            let _ = writeln!(out, "\n{title}");
            for t in tickets {
                let subject: String = t.subject.chars().take(44).collect();
                let _ = writeln!(out, "  {:<12} {} {:<14} {:>7.0} h  {subject}", t.id, t.priority, t.team, t.age_hours);
            }
        };
        section(&mut out, "P1, first in the queue first", &self.p1);
        section(&mut out, "Past a deadline (P2 to P4), first in the queue first", &self.breached);
        section(&mut out, "The oldest", &self.oldest);
        out
    }
}

/// The morning report: the backlog, the oldest, the urgent (P1, at risk, past deadline),
/// today's capacity against the hours of work, yesterday's flow.
#[utoipa::path(get, path = "/api/v1/reports/morning", tag = "reports",
    responses((status = 200, body = Object, description = "The report (`vigie.morning.v1`)"),
        (status = 401, body = Problem)))]
pub async fn get_morning(State(state): State<AppState>, Caller(_actor): Caller) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    Ok(Json(Morning::at(&state, now).await?.to_json()))
}
