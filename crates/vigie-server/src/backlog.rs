//! The live backlog, `GET /api/v1/backlog`: `shared/METRICS.md`'s "Backlog at T" and "SLA" at
//! the server's now, under the report's field names (`vigie report --format json`), from the
//! live state's aggregates; and what the report cannot know: today's flow, the days to clear at
//! the current net flow, the capacity left on shift today against the hours of work, and the
//! level (ok, amber, red) of each watched figure.
//!
//! [`Dashboard`] is the one computation behind the API, the pages, `/metrics` and the alerts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde_json::Value;
use vigie_analytics::render::instant;
use vigie_analytics::render::json::{backlog_value, float, object, sla_value};
use vigie_core::operations::{Level, local_day};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::live::{HOUR_MICROS, LiveBacklog, hour_of};
use crate::settings::{Figure, Operations};

/// The schema name of the snapshot.
pub const SCHEMA: &str = "vigie.backlog.v1";

/// Tickets created and resolved since the start of the local day.
#[derive(Debug, Clone, PartialEq)]
pub struct Today {
    pub since: Timestamp,
    pub inflow: u64,
    pub outflow: u64,
}

/// A team's hours of work against its hours on shift.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamCapacity {
    pub hours_of_work: f64,
    pub on_shift_now: f64,
    pub remaining_today_hours: f64,
    pub today_hours: f64,
}

/// The capacity on shift, from the roster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capacity {
    pub on_shift_now: f64,
    /// Productive hours on shift from now to the end of the local day.
    pub remaining_today_hours: f64,
    /// Productive hours on shift over the whole local day.
    pub today_hours: f64,
    /// The backlog's hours of work over `remaining_today_hours` (`None` when nobody is left
    /// on shift today).
    pub hours_of_work_vs_remaining: Option<f64>,
    /// Per team (with the tickets of teams the roster does not list).
    pub by_team: BTreeMap<String, TeamCapacity>,
}

/// Everything the control tower shows at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub live: LiveBacklog,
    pub today: Today,
    /// Created minus resolved over the last 7 full days (UTC), as the report's `net_flow_7d`.
    pub net_flow_7d: i64,
    /// Days until the backlog is empty if the last 7 days' net outflow goes on; `None` when it
    /// does not shrink.
    pub days_to_clear: Option<f64>,
    pub capacity: Capacity,
    /// Each watched figure's value and level.
    pub figures: BTreeMap<Figure, (f64, Level)>,
}

impl Dashboard {
    /// The dashboard at `now`.
    pub fn at(state: &AppState, now: Timestamp) -> Dashboard {
        let live = state.live.backlog(now);
        Self::from_live(live, state, now)
    }

    fn from_live(live: LiveBacklog, state: &AppState, now: Timestamp) -> Dashboard {
        let operations: &Operations = &state.operations;
        let (day_start, day_end) = local_day(&operations.day_zone, now);
        let now_hour = hour_of(now);
        // The hours of the local day so far (a day starts on an hour in every time zone vigie
        // serves whole hours of; a half-hour zone counts from the hour before its midnight).
        let today_hours = state.live.hourly_flow(hour_of(day_start), now_hour);
        let (inflow, outflow) = today_hours.iter().fold((0, 0), |(i, o), h| (i + h[0], o + h[1]));
        // The last 7 full UTC days, as the report.
        let today_utc = now.as_microsecond().div_euclid(24 * HOUR_MICROS);
        let week = state.live.hourly_flow((today_utc - 7) * 24, today_utc * 24 - 1);
        let net_flow_7d: i64 = week.iter().map(|h| h[0] as i64 - h[1] as i64).sum();
        let count = live.backlog.count;
        let days_to_clear = (net_flow_7d < 0).then(|| count as f64 / (-net_flow_7d as f64 / 7.0));

        let roster = &operations.roster;
        let remaining = roster.capacity_hours(now, day_end);
        let whole_day = roster.capacity_hours(day_start, day_end);
        let on_shift = roster.on_shift(now);
        let mut by_team: BTreeMap<String, TeamCapacity> = BTreeMap::new();
        for (team, hours) in &live.hours_of_work_by_team {
            by_team.entry(team.clone()).or_default().hours_of_work = *hours;
        }
        for (team, hours) in &remaining {
            by_team.entry(team.clone()).or_default().remaining_today_hours = *hours;
        }
        for (team, hours) in &whole_day {
            by_team.entry(team.clone()).or_default().today_hours = *hours;
        }
        for (team, agents) in &on_shift {
            by_team.entry(team.clone()).or_default().on_shift_now = *agents;
        }
        // `+ 0.0`: an empty sum of floats is -0.0, which JSON would show.
        let remaining_today_hours: f64 = remaining.values().sum::<f64>() + 0.0;
        let capacity = Capacity {
            on_shift_now: on_shift.values().sum::<f64>() + 0.0,
            remaining_today_hours,
            today_hours: whole_day.values().sum::<f64>() + 0.0,
            hours_of_work_vs_remaining: (remaining_today_hours > 0.0)
                .then(|| live.backlog.hours_of_work / remaining_today_hours),
            by_team,
        };

        let oldest_hours = live.backlog.age_minutes.as_ref().map_or(0.0, |age| age.max / 60.0);
        let values = [
            (Figure::BacklogCount, count as f64),
            // Work with nobody left on shift to do it today is as bad as it gets.
            (
                Figure::HoursOfWorkVsCapacity,
                capacity.hours_of_work_vs_remaining.unwrap_or(if live.backlog.hours_of_work > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }),
            ),
            (Figure::OldestAgeHours, oldest_hours),
            (Figure::AtRisk, live.at_risk.len() as f64),
            (Figure::PastResolutionTarget, live.backlog.past_resolution_target as f64),
            (Figure::ResponseOverdue, live.response_overdue as f64),
            (Figure::InflowToday, inflow as f64),
        ];
        let figures = values
            .into_iter()
            .map(|(figure, value)| {
                let level = operations.thresholds.get(&figure).map_or(Level::Ok, |t| t.level(value));
                (figure, (value, level))
            })
            .collect();
        Dashboard {
            live,
            today: Today { since: day_start, inflow, outflow },
            net_flow_7d,
            days_to_clear,
            capacity,
            figures,
        }
    }

    /// The snapshot as JSON: the report's `backlog` and `sla` objects, then the rest.
    pub fn to_json(&self) -> Value {
        let capacity = &self.capacity;
        let optional = |x: Option<f64>| x.map_or(Value::Null, float);
        let by_team: serde_json::Map<String, Value> = capacity
            .by_team
            .iter()
            .map(|(team, c)| {
                let value = object([
                    ("hours_of_work", float(c.hours_of_work)),
                    ("on_shift_now", float(c.on_shift_now)),
                    ("remaining_today_hours", float(c.remaining_today_hours)),
                    ("today_hours", float(c.today_hours)),
                ]);
                (team.clone(), value)
            })
            .collect();
        let figures: serde_json::Map<String, Value> = self
            .figures
            .iter()
            .map(|(figure, (value, level))| {
                let value = if value.is_finite() { float(*value) } else { Value::Null };
                (figure.as_str().to_owned(), object([("value", value), ("level", level.as_str().into())]))
            })
            .collect();
        let mut sla = sla_value(&self.live.sla_by_category_priority, &self.live.at_risk);
        if let Value::Object(map) = &mut sla {
            map.insert("first_response_overdue".into(), self.live.response_overdue.into());
        }
        object([
            ("schema", SCHEMA.into()),
            ("as_of", instant(self.live.at).into()),
            ("backlog", backlog_value(&self.live.backlog)),
            ("sla", sla),
            (
                "flow",
                object([
                    (
                        "today",
                        object([
                            ("since", instant(self.today.since).into()),
                            ("inflow", self.today.inflow.into()),
                            ("outflow", self.today.outflow.into()),
                        ]),
                    ),
                    ("net_flow_7d", self.net_flow_7d.into()),
                    ("days_to_clear", optional(self.days_to_clear)),
                ]),
            ),
            (
                "capacity",
                object([
                    ("on_shift_now", float(capacity.on_shift_now)),
                    ("remaining_today_hours", float(capacity.remaining_today_hours)),
                    ("today_hours", float(capacity.today_hours)),
                    ("hours_of_work_vs_remaining", optional(capacity.hours_of_work_vs_remaining)),
                    ("by_team", Value::Object(by_team)),
                ]),
            ),
            ("figures", Value::Object(figures)),
        ])
    }
}

/// The live backlog: counts, ages, oldest, hours of work, SLA compliance over 28 days, at risk;
/// today's flow, days to clear, capacity on shift, and each watched figure's level.
#[utoipa::path(get, path = "/api/v1/backlog", tag = "backlog",
    responses((status = 200, body = Object, description = "The snapshot (`vigie.backlog.v1`)"),
        (status = 401, body = Problem)))]
pub async fn get_backlog(State(state): State<AppState>, Caller(_actor): Caller) -> Result<Json<Value>, ApiError> {
    let now = state.now();
    Ok(Json(Dashboard::at(&state, now).to_json()))
}
