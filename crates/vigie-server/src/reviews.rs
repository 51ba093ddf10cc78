//! The rituals: the morning report (how many, the oldest, the urgent, today's capacity against
//! the work) — `vigie morning`, `GET /api/v1/reports/morning` and its page — built on the live
//! backlog ([`Dashboard`]) and the live queue; and the weekly review (`vigie weekly`,
//! `GET /api/v1/reports/weekly` and its page), from the tickets of the last two weeks and the
//! backlog's history.

use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use vigie_analytics::render::instant;
use vigie_analytics::render::json::{float, object};
use vigie_core::backlog_history::BacklogPoint;
use vigie_core::metrics::{SlaCounts, Stats};
use vigie_core::reviews::{Outcome, ReviewTicket, Rise, WeekFigures};
use vigie_core::sla::TicketSla;
use vigie_core::workflow::StepFigures;
use vigie_core::{Priority, SlaState, Ticket, TicketId};
use vigie_store::{Since, StoreError};

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
    /// The report at `now` for `reader`: the counts are the whole desk's, the tickets named
    /// (with their subjects) only those the reader may see.
    pub async fn at(state: &AppState, now: Timestamp, reader: &vigie_core::Actor) -> Result<Morning, StoreError> {
        let dashboard = Dashboard::at(state, now);
        let oldest_ids: Vec<TicketId> =
            dashboard.live.backlog.oldest.iter().filter_map(|o| TicketId::parse(o.id.clone()).ok()).collect();
        let scope = reader.team_scope().map(<[vigie_core::TeamId]>::to_vec);
        let first = |filters: Filters| {
            let query =
                LiveQuery { filters, scope: scope.clone(), order: LiveOrder::Queue, after: None, limit: LISTED };
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
            tickets.retain(|ticket| reader.can_see(ticket));
            tickets.sort_by_key(|ticket| ids.iter().position(|id| *id == ticket.id));
            Ok::<_, StoreError>(tickets.iter().map(|t| NamedTicket::of(state, t, now)).collect::<Vec<_>>())
        };
        let (day_start, _) = vigie_core::operations::local_day(&state.operations.day_zone, now);
        // The local day before (23 or 25 hours long across a change of clocks).
        let yesterday_start = day_start
            .checked_sub(SignedDuration::from_micros(1))
            .map_or(day_start, |before| vigie_core::operations::local_day(&state.operations.day_zone, before).0);
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
pub async fn get_morning(State(state): State<AppState>, Caller(actor): Caller) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    Ok(Json(Morning::at(&state, now, &actor).await?.to_json()))
}

/// The weekly review: the last 7 days against the 7 before.
#[derive(Debug, Clone)]
pub struct Weekly {
    pub at: Timestamp,
    pub zone: jiff::tz::TimeZone,
    pub this_week: WeekFigures,
    pub last_week: WeekFigures,
    /// The categories whose inflow rose most.
    pub rises: Vec<Rise>,
    /// The backlog at each local midnight of the week (and today's start), with each day's flow.
    pub days: Vec<BacklogPoint>,
    /// The clusters of similar tickets that came back most over the last four weeks.
    pub recurring: Vec<RecurringCluster>,
    /// Each workflow step's load this week: the tickets in it now, the stays that ended.
    pub steps: Vec<StepFigures>,
}

/// A cluster among those that came back most.
#[derive(Debug, Clone)]
pub struct RecurringCluster {
    pub id: String,
    pub name: String,
    /// Tickets over the four weeks, and per week (`[0]` the last 7 days).
    pub total: u64,
    pub weekly: [u64; 4],
    /// Its tickets open when the clusters were computed.
    pub open: usize,
    pub samples: Vec<String>,
}

/// Recurring clusters listed.
const RECURRING_LISTED: usize = 5;

/// Categories listed among those that rose most.
const RISES_LISTED: usize = 5;

/// How a ticket's targets count in the review: a reply is met or breached by its own instant
/// (a solution without a reply does not answer the first-response target), the resolution as
/// its clock says at `now`.
fn outcomes(sla: &TicketSla, first_response_at: Option<Timestamp>, now: Timestamp) -> [Outcome; 2] {
    let first = match (&sla.first_response, first_response_at) {
        (None, _) => Outcome::Running,
        (Some(target), Some(reply)) => {
            if target.due_at.is_some_and(|due| reply > due) {
                Outcome::Breached
            } else {
                Outcome::Met
            }
        }
        (Some(target), None) => {
            if target.due_at.is_some_and(|due| due < now) {
                Outcome::Breached
            } else {
                Outcome::Running
            }
        }
    };
    let resolution = match sla.resolution.as_ref().map(|target| target.state) {
        Some(SlaState::Met) => Outcome::Met,
        Some(SlaState::Breached) => Outcome::Breached,
        _ => Outcome::Running,
    };
    [first, resolution]
}

impl Weekly {
    /// The review at `now`; its recurring clusters as `reader` may see them (see
    /// [`crate::clusters::ClusterReport::view`]).
    pub async fn at(state: &AppState, now: Timestamp, reader: &vigie_core::Actor) -> Result<Weekly, StoreError> {
        let week = SignedDuration::from_hours(7 * 24);
        let this_from = now.checked_sub(week).unwrap_or(now);
        let last_from = this_from.checked_sub(week).unwrap_or(this_from);
        // Every ticket created or resolved in the two weeks (created: the index on creation;
        // resolved: the one on resolution).
        let mut tickets: std::collections::HashMap<String, Ticket> = std::collections::HashMap::new();
        for by in [Since::Created, Since::Resolved] {
            state
                .store
                .for_each_since(by, last_from, 5_000, |page| {
                    for stored in page {
                        tickets.insert(stored.ticket.id.to_string(), stored.ticket);
                    }
                })
                .await?;
        }
        let rules = state.rules.rules();
        let review: Vec<ReviewTicket<'_>> = tickets
            .values()
            .map(|ticket| ReviewTicket {
                created_at: ticket.created_at,
                first_response_at: ticket.first_response_at,
                resolved_at: ticket.resolved_at,
                category: &ticket.category,
                csat: ticket.csat,
                sla: ticket
                    .sla_clock()
                    .map(|clock| outcomes(&rules.sla.evaluate(&clock, now), ticket.first_response_at, now)),
            })
            .collect();
        let this_week = vigie_core::reviews::week(&review, this_from, now);
        let last_week = vigie_core::reviews::week(&review, last_from, this_from);
        let rises =
            vigie_core::reviews::rises(&this_week.inflow_by_category, &last_week.inflow_by_category, RISES_LISTED);
        let resolved: Vec<Ticket> = tickets.values().filter(|t| !t.status.is_open()).cloned().collect();
        let steps = state.live.step_figures(&resolved, this_from, now);
        let days = crate::history::daily_points(state, this_from, now).await?;
        let clusters = state.clusters.latest_or_compute(state).await?;
        // What the reader sees of each cluster, with its open tickets.
        let views: Vec<_> = clusters
            .clusters
            .iter()
            .filter_map(|cluster| clusters.view(cluster, reader))
            .map(|(volume, seen)| (volume, seen.iter().filter(|m| m.open).count()))
            .collect();
        let recurring =
            vigie_core::recurring::top_recurring(views.iter().map(|(volume, _)| volume.as_ref()), RECURRING_LISTED)
                .into_iter()
                .map(|r| RecurringCluster {
                    id: r.volume.id.clone(),
                    name: r.volume.name.clone(),
                    total: r.total,
                    weekly: r.weekly,
                    open: views[r.at].1,
                    samples: r.volume.samples.clone(),
                })
                .collect();
        Ok(Weekly {
            at: now,
            zone: state.operations.day_zone.clone(),
            this_week,
            last_week,
            rises,
            days,
            recurring,
            steps,
        })
    }

    pub fn to_json(&self) -> Value {
        let stats = |s: &Option<Stats>| {
            s.as_ref().map_or(Value::Null, |s| {
                object([
                    ("count", s.count.into()),
                    ("mean", float(s.mean)),
                    ("p50", float(s.p50)),
                    ("p90", float(s.p90)),
                ])
            })
        };
        let counts = |c: &SlaCounts| {
            object([
                ("met", c.met.into()),
                ("breached", c.breached.into()),
                ("running", c.running.into()),
                ("compliance", c.compliance().map_or(Value::Null, float)),
            ])
        };
        let week = |w: &WeekFigures| {
            object([
                ("inflow", w.inflow.into()),
                ("outflow", w.outflow.into()),
                ("first_response_minutes", stats(&w.first_response)),
                ("resolution_minutes", stats(&w.resolution)),
                ("sla", object([("frt", counts(&w.sla[0])), ("resolution", counts(&w.sla[1]))])),
                (
                    "csat",
                    w.csat.map_or(Value::Null, |(n, avg, pct)| {
                        object([("count", n.into()), ("avg", float(avg)), ("pct_satisfied", float(pct))])
                    }),
                ),
            ])
        };
        let days: Vec<Value> = self.days.iter().map(crate::history::point_json).collect();
        let rises: Vec<Value> = self
            .rises
            .iter()
            .map(|r| {
                object([
                    ("category", r.category.clone().into()),
                    ("this_week", r.this_week.into()),
                    ("last_week", r.last_week.into()),
                ])
            })
            .collect();
        object([
            ("schema", "vigie.weekly.v1".into()),
            ("as_of", instant(self.at).into()),
            ("this_week", week(&self.this_week)),
            ("last_week", week(&self.last_week)),
            ("categories_rising", Value::Array(rises)),
            (
                "recurring_clusters",
                Value::Array(
                    self.recurring
                        .iter()
                        .map(|r| {
                            object([
                                ("id", r.id.clone().into()),
                                ("name", r.name.clone().into()),
                                ("tickets_4_weeks", r.total.into()),
                                ("weekly", Value::Array(r.weekly.iter().map(|&n| n.into()).collect())),
                                ("open", r.open.into()),
                                ("samples", Value::Array(r.samples.iter().map(|s| s.clone().into()).collect())),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("workflow_steps", Value::Array(self.steps.iter().map(step_json).collect())),
            (
                "bottleneck",
                object([
                    ("most_waiting", vigie_core::workflow::bottleneck(&self.steps).map_or(Value::Null, step_name)),
                    ("longest_waits", vigie_core::workflow::longest_waits(&self.steps).map_or(Value::Null, step_name)),
                ]),
            ),
            ("days", Value::Array(days)),
        ])
    }

    /// The review for a terminal or an e-mail.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let at = self.at.to_zoned(self.zone.clone()).strftime("%A %e %B %Y, %H:%M %Z");
        let _ = writeln!(out, "Weekly review, the 7 days to {at}, against the 7 before\n");
        let (t, l) = (&self.this_week, &self.last_week);
        let _ = writeln!(out, "{:<28}{:>14}{:>14}", "", "this week", "last week");
        let row = |out: &mut String, name: &str, a: String, b: String| {
            let _ = writeln!(out, "{name:<28}{a:>14}{b:>14}");
        };
        row(&mut out, "Created", t.inflow.to_string(), l.inflow.to_string());
        row(&mut out, "Resolved", t.outflow.to_string(), l.outflow.to_string());
        row(
            &mut out,
            "Net",
            format!("{:+}", t.inflow as i64 - t.outflow as i64),
            format!("{:+}", l.inflow as i64 - l.outflow as i64),
        );
        let minutes = |s: &Option<Stats>, pick: fn(&Stats) -> f64| {
            s.as_ref().map_or("-".to_owned(), |s| hours_or_minutes(pick(s)))
        };
        row(
            &mut out,
            "First response, median",
            minutes(&t.first_response, |s| s.p50),
            minutes(&l.first_response, |s| s.p50),
        );
        row(
            &mut out,
            "First response, p90",
            minutes(&t.first_response, |s| s.p90),
            minutes(&l.first_response, |s| s.p90),
        );
        row(&mut out, "Resolution, median", minutes(&t.resolution, |s| s.p50), minutes(&l.resolution, |s| s.p50));
        row(&mut out, "Resolution, p90", minutes(&t.resolution, |s| s.p90), minutes(&l.resolution, |s| s.p90));
        let share = |c: &SlaCounts| c.compliance().map_or("-".to_owned(), |x| format!("{:.1} %", x * 100.0));
        row(&mut out, "First response within SLA", share(&t.sla[0]), share(&l.sla[0]));
        row(&mut out, "Resolution within SLA", share(&t.sla[1]), share(&l.sla[1]));
        let csat = |c: Option<(u64, f64, f64)>| c.map_or("-".to_owned(), |(n, avg, _)| format!("{avg:.2} ({n})"));
        row(&mut out, "Satisfaction (1-5)", csat(t.csat), csat(l.csat));
        if !self.rises.is_empty() {
            let _ = writeln!(out, "\nCategories that rose most");
            for rise in &self.rises {
                let _ = writeln!(out, "  {:<30}{:>6} (from {})", rise.category, rise.this_week, rise.last_week);
            }
        }
        if !self.recurring.is_empty() {
            let _ = writeln!(out, "\nRecurring problems, the last 4 weeks (tickets per week, latest last)");
            for r in &self.recurring {
                let weeks: Vec<String> = r.weekly.iter().rev().map(u64::to_string).collect();
                let _ = writeln!(
                    out,
                    "  {:<40}{:>6} tickets ({}), {} open",
                    format!("'{}'", r.name),
                    r.total,
                    weeks.join(" / "),
                    r.open
                );
            }
        }
        if !self.steps.is_empty() {
            let _ = writeln!(
                out,
                "\nWorkflow steps: tickets waiting now (median / p90 wait, calendar time), and stays ended this week \
                 (how many, in what median time)"
            );
            let bottleneck = vigie_core::workflow::bottleneck(&self.steps);
            let longest = vigie_core::workflow::longest_waits(&self.steps);
            for step in &self.steps {
                let name = format!("{} / {} ({})", step.category, step.step, step.team);
                let waits = step.waits.map_or("-".to_owned(), |w| {
                    format!("{} / {}", hours_or_minutes(w.p50), hours_or_minutes(w.p90.max(w.p50)))
                });
                let done = step.done.map_or("-".to_owned(), |d| format!("{} in {}", d.count, hours_or_minutes(d.p50)));
                let mut marks = Vec::new();
                if bottleneck.is_some_and(|b| std::ptr::eq(b, step)) {
                    marks.push("most work");
                }
                if longest.is_some_and(|l| std::ptr::eq(l, step)) {
                    marks.push("longest waits");
                }
                let marks = if marks.is_empty() { String::new() } else { format!("  <- {}", marks.join(", ")) };
                let over = match (step.waiting_over_sla, step.done_over_sla) {
                    (0, 0) => String::new(),
                    (waiting, done) => format!(" (past the step SLA: {waiting} waiting, {done} done)"),
                };
                let _ = writeln!(out, "  {name:<44}{:>6} waiting  {waits:>17}  done {done}{over}{marks}", step.waiting);
            }
        }
        if !self.days.is_empty() {
            let _ = writeln!(out, "\nEach day: the backlog at its end, and its flow");
            for day in &self.days {
                // A point is the midnight that ends the day.
                let at = Timestamp::from_microsecond(day.at - crate::live::HOUR_MICROS)
                    .map_or_else(|_| String::new(), |t| t.to_zoned(self.zone.clone()).strftime("%a %d %b").to_string());
                let _ = writeln!(
                    out,
                    "  {at:<14}{:>7} open  {:>7.0} h of work  {:>5} in  {:>5} out",
                    day.count, day.hours_of_work, day.inflow, day.outflow
                );
            }
        }
        out
    }
}

fn step_name(step: &StepFigures) -> Value {
    object([("category", step.category.clone().into()), ("step", step.step.clone().into())])
}

fn step_json(step: &StepFigures) -> Value {
    let stats = |s: &Option<Stats>| {
        s.as_ref().map_or(Value::Null, |s| {
            object([("count", s.count.into()), ("mean", float(s.mean)), ("p50", float(s.p50)), ("p90", float(s.p90))])
        })
    };
    object([
        ("category", step.category.clone().into()),
        ("step", step.step.clone().into()),
        ("team", step.team.to_string().into()),
        ("waiting", step.waiting.into()),
        ("wait_minutes", stats(&step.waits)),
        ("done_minutes", stats(&step.done)),
        ("waiting_over_sla", step.waiting_over_sla.into()),
        ("done_over_sla", step.done_over_sla.into()),
    ])
}

fn hours_or_minutes(minutes: f64) -> String {
    if minutes >= 120.0 { format!("{:.1} h", minutes / 60.0) } else { format!("{minutes:.0} min") }
}

/// The weekly review: tickets in and out, first-response and resolution times, SLA
/// compliance and satisfaction, this week against the last; the categories that rose most;
/// the backlog each day; the clusters of similar tickets that came back most over four weeks
/// (those the caller may see).
#[utoipa::path(get, path = "/api/v1/reports/weekly", tag = "reports",
    responses((status = 200, body = Object, description = "The review (`vigie.weekly.v1`)"),
        (status = 401, body = Problem)))]
pub async fn get_weekly(State(state): State<AppState>, Caller(actor): Caller) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    Ok(Json(Weekly::at(&state, now, &actor).await?.to_json()))
}
