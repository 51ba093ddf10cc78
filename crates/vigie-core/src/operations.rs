//! What the control tower measures the backlog against: the roster (who is on shift when, and
//! so the capacity in hours of work of any stretch of time) and the thresholds that turn a
//! dashboard figure amber or red.
//!
//! A roster is a list of shifts in one local time zone: a team, a number of agents, the
//! weekdays and the hours (`HH:MM-HH:MM`). Capacity is agents × hours on shift × the
//! productive share (the part of a shift spent on tickets, after breaks, meetings and
//! training), so that it compares with the backlog in hours of hands-on work. Civil times are
//! turned into instants with the time zone's rules (a shift over a daylight-saving change is an
//! hour longer or shorter).
//!
//! **Architecture Invariant:** no I/O, no clock: the time zone is resolved by the caller, and
//! every instant is an argument.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::calendar::{self, DaySpan, WEEKDAYS};
use crate::command::{FieldError, ValidationErrors};

/// The largest number of agents on one shift line: more is a typo.
pub const MAX_AGENTS: f64 = 100_000.0;

/// A roster as written in the configuration.
#[derive(Debug, Clone, Default)]
pub struct RosterInput {
    /// IANA name; default UTC.
    pub time_zone: Option<String>,
    /// Share of a shift worked on tickets, in (0, 1]; default 1.
    pub productive_share: Option<f64>,
    pub shifts: Vec<ShiftInput>,
}

#[derive(Debug, Clone, Default)]
pub struct ShiftInput {
    pub team: String,
    pub agents: f64,
    /// `monday` … `sunday`.
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`, local time.
    pub hours: String,
}

/// One line of the roster: `agents` agents of `team` work `span` on the weekdays marked.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub team: String,
    pub agents: f64,
    /// Monday first.
    pub days: [bool; 7],
    pub span: DaySpan,
}

/// Who works when.
#[derive(Debug, Clone)]
pub struct Roster {
    pub time_zone: TimeZone,
    pub productive_share: f64,
    pub shifts: Vec<Shift>,
}

impl Default for Roster {
    /// Nobody on shift: every capacity is 0.
    fn default() -> Self {
        Roster { time_zone: TimeZone::UTC, productive_share: 1.0, shifts: Vec::new() }
    }
}

impl RosterInput {
    /// Checks the roster; every problem is named by its path (`roster.shifts[1].hours`).
    pub fn parse(self, resolve_time_zone: &dyn Fn(&str) -> Option<TimeZone>) -> Result<Roster, ValidationErrors> {
        let mut errors = Vec::new();
        let time_zone = match &self.time_zone {
            None => TimeZone::UTC,
            Some(name) => resolve_time_zone(name).unwrap_or_else(|| {
                errors.push(FieldError::new("roster.time_zone", format!("`{name}` is not a known IANA time zone")));
                TimeZone::UTC
            }),
        };
        let productive_share = self.productive_share.unwrap_or(1.0);
        if !(productive_share > 0.0 && productive_share <= 1.0) {
            errors.push(FieldError::new(
                "roster.productive_share",
                format!("{productive_share} must be a share above 0 and at most 1 (such as 0.8)"),
            ));
        }
        let mut shifts = Vec::new();
        for (idx, input) in self.shifts.into_iter().enumerate() {
            let field = |name: &str| format!("roster.shifts[{idx}].{name}");
            if input.team.trim().is_empty() {
                errors.push(FieldError::new(field("team"), "must name a team"));
            }
            if !(input.agents.is_finite() && input.agents > 0.0 && input.agents <= MAX_AGENTS) {
                errors.push(FieldError::new(
                    field("agents"),
                    format!("{} must be a number of agents above 0 and at most {MAX_AGENTS}", input.agents),
                ));
            }
            let mut days = [false; 7];
            if input.days.is_empty() {
                errors.push(FieldError::new(field("days"), "must list at least one weekday"));
            }
            for (day_idx, day) in input.days.iter().enumerate() {
                match WEEKDAYS.iter().position(|(_, name)| *name == day.as_str()) {
                    Some(position) => days[position] = true,
                    None => errors.push(FieldError::new(
                        format!("roster.shifts[{idx}].days[{day_idx}]"),
                        format!("`{day}` is not a weekday (monday … sunday)"),
                    )),
                }
            }
            match calendar::parse_span(input.hours.trim()) {
                Ok(span) => shifts.push(Shift { team: input.team, agents: input.agents, days, span }),
                Err(reason) => errors.push(FieldError::new(field("hours"), reason)),
            }
        }
        ValidationErrors::finish(errors)?;
        Ok(Roster { time_zone, productive_share, shifts })
    }
}

impl Roster {
    /// The shifts worked in `[from, to)`: (team, agents, start, end), clipped to the interval.
    fn stretches(&self, from: Timestamp, to: Timestamp) -> impl Iterator<Item = (&str, f64, Timestamp, Timestamp)> {
        let first = from.to_zoned(self.time_zone.clone()).date().yesterday().unwrap_or(Date::MIN);
        let last = to.to_zoned(self.time_zone.clone()).date();
        let days = std::iter::successors(Some(first), move |d| d.tomorrow().ok().filter(|next| *next <= last));
        days.flat_map(move |date| {
            let weekday = date.weekday().to_monday_zero_offset() as usize;
            self.shifts.iter().filter(move |shift| shift.days[weekday]).filter_map(move |shift| {
                let start = self.local(date, shift.span.start)?.max(from);
                let end = self.local(date, shift.span.end)?.min(to);
                (start < end).then_some((shift.team.as_str(), shift.agents, start, end))
            })
        })
    }

    /// `minute` minutes after the local midnight of `date`, as an instant.
    fn local(&self, date: Date, minute: u16) -> Option<Timestamp> {
        let midnight = date.to_datetime(jiff::civil::Time::midnight());
        let civil = midnight.checked_add(i64::from(minute).minutes()).ok()?;
        self.time_zone.to_ambiguous_timestamp(civil).compatible().ok()
    }

    /// Productive hours on shift in `[from, to)`, per team.
    pub fn capacity_hours(&self, from: Timestamp, to: Timestamp) -> BTreeMap<String, f64> {
        let mut hours: BTreeMap<String, f64> = BTreeMap::new();
        if from >= to {
            return hours;
        }
        for (team, agents, start, end) in self.stretches(from, to) {
            let worked = (end.as_microsecond() - start.as_microsecond()) as f64 / 3_600_000_000.0;
            *hours.entry(team.to_owned()).or_default() += agents * worked * self.productive_share;
        }
        hours
    }

    /// Agents on shift at `at`, per team.
    pub fn on_shift(&self, at: Timestamp) -> BTreeMap<String, f64> {
        let mut agents: BTreeMap<String, f64> = BTreeMap::new();
        let Ok(next) = at.checked_add(jiff::SignedDuration::from_micros(1)) else { return agents };
        for (team, n, _, _) in self.stretches(at, next) {
            *agents.entry(team.to_owned()).or_default() += n;
        }
        agents
    }

    /// Whether any shift is defined.
    pub fn is_empty(&self) -> bool {
        self.shifts.is_empty()
    }
}

/// The local day of `zone` holding `at`: its first instant and the next day's (a day with a
/// daylight-saving change is 23 or 25 hours long).
pub fn local_day(zone: &TimeZone, at: Timestamp) -> (Timestamp, Timestamp) {
    let date = at.to_zoned(zone.clone()).date();
    let start = date.to_zoned(zone.clone()).map_or(at, |day| day.timestamp());
    let end = date.tomorrow().ok().and_then(|next| next.to_zoned(zone.clone()).ok()).map_or(at, |day| day.timestamp());
    (start, end)
}

/// How a figure stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Ok,
    Amber,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Amber => "amber",
            Level::Red => "red",
        }
    }
}

/// Amber from one value, red from another (both included): a figure at or above `red` is red.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub amber: Option<f64>,
    pub red: Option<f64>,
}

impl Threshold {
    pub fn level(&self, value: f64) -> Level {
        if self.red.is_some_and(|red| value >= red) {
            Level::Red
        } else if self.amber.is_some_and(|amber| value >= amber) {
            Level::Amber
        } else {
            Level::Ok
        }
    }

    /// Checks the pair; problems named under `field`.
    pub fn check(&self, field: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, value) in [("amber", self.amber), ("red", self.red)] {
            if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                errors.push(FieldError::new(format!("{field}.{name}"), "must be a number, 0 or more"));
            }
        }
        if let (Some(amber), Some(red)) = (self.amber, self.red)
            && amber > red
        {
            errors.push(FieldError::new(format!("{field}.amber"), format!("{amber} must not be above red ({red})")));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> Option<TimeZone> {
        jiff::tz::db().get("Europe/Paris").ok()
    }

    fn roster(shifts: Vec<ShiftInput>) -> Roster {
        RosterInput { time_zone: Some("Europe/Paris".into()), productive_share: Some(0.5), shifts }
            .parse(&|_| paris())
            .expect("valid roster")
    }

    fn shift(team: &str, agents: f64, days: &[&str], hours: &str) -> ShiftInput {
        ShiftInput {
            team: team.into(),
            agents,
            days: days.iter().map(|d| d.to_string()).collect(),
            hours: hours.into(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid instant")
    }

    #[test]
    fn capacity_counts_agents_hours_and_the_productive_share() {
        let roster = roster(vec![
            shift("support", 4.0, &["monday", "tuesday"], "08:00-12:00"),
            shift("support", 2.0, &["monday"], "13:00-17:00"),
            shift("billing", 1.0, &["sunday"], "22:00-24:00"),
        ]);
        // Monday 2026-11-23, Paris is UTC+1.
        let hours = roster.capacity_hours(at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z"));
        assert_eq!(hours.get("support"), Some(&((4.0 * 4.0 + 2.0 * 4.0) * 0.5)));
        // Sunday 22:00-24:00 Paris is 21:00-23:00 UTC the day before: outside.
        assert_eq!(hours.get("billing"), None);
        // From 10:00 Paris (09:00 UTC) on: 2 hours of the morning shift, the afternoon whole.
        let rest = roster.capacity_hours(at("2026-11-23T09:00:00Z"), at("2026-11-23T23:00:00Z"));
        assert_eq!(rest.get("support"), Some(&((4.0 * 2.0 + 2.0 * 4.0) * 0.5)));
        assert_eq!(roster.on_shift(at("2026-11-23T09:00:00Z")).get("support"), Some(&4.0));
        assert!(roster.on_shift(at("2026-11-23T11:30:00Z")).is_empty());
        let (start, end) = local_day(&roster.time_zone, at("2026-11-23T23:30:00Z"));
        assert_eq!((start, end), (at("2026-11-23T23:00:00Z"), at("2026-11-24T23:00:00Z")));
    }

    #[test]
    fn a_shift_over_the_change_to_summer_time_is_an_hour_shorter() {
        let roster = roster(vec![shift("night", 1.0, &["sunday"], "00:00-06:00")]);
        // 2026-03-29: Paris skips from 02:00 to 03:00.
        let hours = roster.capacity_hours(at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"));
        assert_eq!(hours.get("night"), Some(&(5.0 * 0.5)));
    }

    #[test]
    fn bad_rosters_are_refused_with_every_field_named() {
        let input = RosterInput {
            time_zone: Some("Mars/Olympus".into()),
            productive_share: Some(1.5),
            shifts: vec![shift("", 0.0, &["funday"], "18:00-08:00")],
        };
        let errors = input.parse(&|_| None).expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "roster.time_zone",
                "roster.productive_share",
                "roster.shifts[0].team",
                "roster.shifts[0].agents",
                "roster.shifts[0].days[0]",
                "roster.shifts[0].hours"
            ]
        );
    }

    #[test]
    fn thresholds_turn_amber_then_red() {
        let threshold = Threshold { amber: Some(10.0), red: Some(20.0) };
        assert_eq!(threshold.level(9.9), Level::Ok);
        assert_eq!(threshold.level(10.0), Level::Amber);
        assert_eq!(threshold.level(20.0), Level::Red);
        assert_eq!(Threshold { amber: None, red: Some(1.0) }.level(5.0), Level::Red);
        assert_eq!(Threshold { amber: Some(3.0), red: Some(2.0) }.check("t").len(), 1);
    }
}
