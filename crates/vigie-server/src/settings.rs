//! The configuration file as a whole: the rules (`rules.rs`: calendars, SLA, queue, handle
//! times; revisioned, editable through the API) and the operations settings read from the file
//! at each start: the roster (who is on shift when: today's capacity) and the dashboard (the
//! time zone of its days, the thresholds that turn a tile amber or red).
//!
//! ```toml
//! [roster]
//! time_zone = "Europe/Paris"
//! productive_share = 0.8
//! [[roster.shifts]]
//! team = "support"
//! agents = 6
//! days = ["monday", "tuesday", "wednesday", "thursday", "friday"]
//! hours = "08:00-18:00"
//!
//! [dashboard]
//! time_zone = "Europe/Paris"
//! [dashboard.thresholds]
//! backlog_count = { amber = 400, red = 600 }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigie_core::operations::{Roster, RosterInput, ShiftInput, Threshold};
use vigie_core::{FieldError, ValidationErrors};

use crate::rules::{CalendarDocument, QueueDocument, RulesDocument, SlaDocument, resolve_time_zone};

/// The whole configuration file. The rules' part is also [`RulesDocument`] (kept apart: it is
/// the document the API edits and the store revisions).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarDocument>,
    #[serde(default)]
    pub sla: SlaDocument,
    #[serde(default)]
    pub queue: QueueDocument,
    #[serde(default)]
    pub handle_time: BTreeMap<String, f64>,
    #[serde(default)]
    pub roster: Option<RosterDocument>,
    #[serde(default)]
    pub dashboard: DashboardDocument,
}

impl ConfigFile {
    /// Parses the file; errors name the key, line and column.
    pub fn from_toml(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    pub fn rules(&self) -> RulesDocument {
        RulesDocument {
            calendars: self.calendars.clone(),
            sla: self.sla.clone(),
            queue: self.queue.clone(),
            handle_time: self.handle_time.clone(),
        }
    }

    /// Checks the operations settings as a whole, every problem named by its path.
    pub fn operations(&self) -> Result<Operations, ValidationErrors> {
        let mut errors = Vec::new();
        let roster = match &self.roster {
            None => Roster::default(),
            Some(document) => match document.to_input().parse(&resolve_time_zone) {
                Ok(roster) => roster,
                Err(problems) => {
                    errors.extend(problems.0);
                    Roster::default()
                }
            },
        };
        let day_zone = match &self.dashboard.time_zone {
            None => roster.time_zone.clone(),
            Some(name) => resolve_time_zone(name).unwrap_or_else(|| {
                errors.push(FieldError::new("dashboard.time_zone", format!("`{name}` is not a known IANA time zone")));
                jiff::tz::TimeZone::UTC
            }),
        };
        let mut thresholds = BTreeMap::new();
        for (name, document) in &self.dashboard.thresholds {
            let field = format!("dashboard.thresholds.{name}");
            let Some(figure) = Figure::parse(name) else {
                let known: Vec<&str> = Figure::ALL.iter().map(|f| f.as_str()).collect();
                errors.push(FieldError::new(field, format!("is not a dashboard figure (one of {})", known.join(", "))));
                continue;
            };
            let threshold = Threshold { amber: document.amber, red: document.red };
            errors.extend(threshold.check(&field));
            thresholds.insert(figure, threshold);
        }
        ValidationErrors::finish(errors)?;
        Ok(Operations { roster, day_zone, thresholds })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterDocument {
    /// IANA name of the shifts' local time (default UTC).
    pub time_zone: Option<String>,
    /// Share of a shift spent on tickets, in (0, 1] (default 1).
    pub productive_share: Option<f64>,
    #[serde(default)]
    pub shifts: Vec<ShiftDocument>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftDocument {
    pub team: String,
    pub agents: f64,
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`.
    pub hours: String,
}

impl RosterDocument {
    fn to_input(&self) -> RosterInput {
        RosterInput {
            time_zone: self.time_zone.clone(),
            productive_share: self.productive_share,
            shifts: self
                .shifts
                .iter()
                .map(|s| ShiftInput {
                    team: s.team.clone(),
                    agents: s.agents,
                    days: s.days.clone(),
                    hours: s.hours.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardDocument {
    /// The time zone of "today" (default: the roster's, else UTC).
    pub time_zone: Option<String>,
    /// Per figure, the values from which its tile turns amber and red.
    #[serde(default)]
    pub thresholds: BTreeMap<String, ThresholdDocument>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdDocument {
    pub amber: Option<f64>,
    pub red: Option<f64>,
}

/// The figures of the dashboard a threshold can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Figure {
    /// Open tickets.
    BacklogCount,
    /// The backlog in hours of work over the productive hours left on shift today.
    HoursOfWorkVsCapacity,
    /// The age of the oldest open ticket, in hours.
    OldestAgeHours,
    /// Open tickets whose resolution deadline comes within the hour.
    AtRisk,
    /// Open tickets past their resolution target.
    PastResolutionTarget,
    /// Open tickets past their first-response target without a reply.
    ResponseOverdue,
    /// Tickets created today.
    InflowToday,
}

impl Figure {
    pub const ALL: [Figure; 7] = [
        Figure::BacklogCount,
        Figure::HoursOfWorkVsCapacity,
        Figure::OldestAgeHours,
        Figure::AtRisk,
        Figure::PastResolutionTarget,
        Figure::ResponseOverdue,
        Figure::InflowToday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Figure::BacklogCount => "backlog_count",
            Figure::HoursOfWorkVsCapacity => "hours_of_work_vs_capacity",
            Figure::OldestAgeHours => "oldest_age_hours",
            Figure::AtRisk => "at_risk",
            Figure::PastResolutionTarget => "past_resolution_target",
            Figure::ResponseOverdue => "response_overdue",
            Figure::InflowToday => "inflow_today",
        }
    }

    pub fn parse(text: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// The operations settings in force.
#[derive(Debug, Clone)]
pub struct Operations {
    pub roster: Roster,
    /// The time zone of the dashboard's days ("today").
    pub day_zone: jiff::tz::TimeZone,
    pub thresholds: BTreeMap<Figure, Threshold>,
}

impl Default for Operations {
    fn default() -> Self {
        Operations { roster: Roster::default(), day_zone: jiff::tz::TimeZone::UTC, thresholds: BTreeMap::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_the_rules_and_the_operations() {
        let file = ConfigFile::from_toml(
            r#"
            [handle_time]
            "*" = 30.0
            [roster]
            time_zone = "Europe/Paris"
            [[roster.shifts]]
            team = "support"
            agents = 3
            days = ["monday"]
            hours = "09:00-17:00"
            [dashboard.thresholds]
            backlog_count = { amber = 10, red = 20 }
            "#,
        )
        .expect("parses");
        assert_eq!(file.rules().handle_time.get("*"), Some(&30.0));
        let operations = file.operations().expect("valid");
        assert_eq!(operations.roster.shifts.len(), 1);
        assert_eq!(operations.day_zone.iana_name(), Some("Europe/Paris"));
        assert_eq!(operations.thresholds[&Figure::BacklogCount].red, Some(20.0));
    }

    #[test]
    fn bad_operations_name_their_fields() {
        let file = ConfigFile::from_toml(
            r#"
            [dashboard]
            time_zone = "Nowhere/Land"
            [dashboard.thresholds]
            backlog_size = { red = 3 }
            at_risk = { amber = 5, red = 2 }
            [[roster.shifts]]
            team = "support"
            agents = -1
            days = ["monday"]
            hours = "09:00-17:00"
            "#,
        )
        .expect("parses");
        let errors = file.operations().expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "roster.shifts[0].agents",
                "dashboard.time_zone",
                "dashboard.thresholds.at_risk.amber",
                "dashboard.thresholds.backlog_size"
            ]
        );
        let unknown = ConfigFile::from_toml("[dashbord]\n").expect_err("unknown table");
        assert!(unknown.contains("dashbord"), "{unknown}");
    }
}
