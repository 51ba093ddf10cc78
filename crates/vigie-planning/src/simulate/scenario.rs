//! The scenario file (`vigie-sim-scenario/1`, `shared/bench/SIMULATION.md`): read, checked
//! whole, every problem named by its place, and compiled into what the engine walks.
//!
//! vigie reads the format of the peers exactly, and adds keys they do not know (a scenario
//! using them is vigie's own):
//! - `start` may be any whole minute, not only a Monday 00:00: hours of the week and shifts are
//!   reckoned in UTC from Monday 00:00 of its week (a scenario built from a history starts at
//!   the export);
//! - `[[class]] urgent = true|false`: the band the `vigie` policy serves first (default: the
//!   class named `P1`);
//! - `[[backlog]] class, count, age_minutes`: tickets already open at the start, that old;
//! - `[[outsourcing]]`: a contracted team that comes on duty `lead_minutes` after the open
//!   tickets exceed `above`, and leaves (after the ticket in hand) once they fall below
//!   `below`; `classes` limits what it may work;
//! - `backlog_threshold`: the number of open tickets a manager wants to be back under; the run
//!   reports when it happens.

use serde::Deserialize;

use super::WEEK;

/// The exact format string.
pub const FORMAT: &str = "vigie-sim-scenario/1";

/// The most tickets a replication may expect: beyond, a typo in a rate (a run would take
/// minutes and gigabytes), refused.
pub const MAX_EXPECTED_TICKETS: f64 = 20_000_000.0;
/// The longest horizon, ten years.
pub const MAX_HORIZON_DAYS: f64 = 3_660.0;
/// The most replications of one run.
pub const MAX_REPLICATIONS: u32 = 100_000;
/// The most agents one shift or outsourced team may have.
pub const MAX_AGENTS: u32 = 1_000_000;

pub const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    name: String,
    start: String,
    horizon_days: f64,
    replications: Option<i64>,
    base_seed: Option<i64>,
    #[serde(default)]
    class: Vec<ClassFile>,
    #[serde(default)]
    shift: Vec<ShiftFile>,
    #[serde(default)]
    backlog: Vec<BacklogFile>,
    #[serde(default)]
    outsourcing: Vec<OutsourcingFile>,
    backlog_threshold: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassFile {
    name: String,
    priority: i64,
    sla_wait_minutes: f64,
    service_mean_minutes: f64,
    service_sd_minutes: f64,
    arrivals_per_hour: Vec<f64>,
    urgent: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftFile {
    name: String,
    days: Vec<String>,
    start: String,
    end: String,
    agents: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BacklogFile {
    class: String,
    count: i64,
    age_minutes: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutsourcingFile {
    name: String,
    agents: i64,
    above: i64,
    below: i64,
    #[serde(default)]
    lead_minutes: f64,
    classes: Option<Vec<String>>,
}

/// A priority class, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub name: String,
    pub priority: i64,
    pub urgent: bool,
    pub sla_wait_minutes: f64,
    pub service_mean_minutes: f64,
    pub service_sd_minutes: f64,
    /// Tickets per hour, for each hour of the week from Monday 00:00 UTC.
    pub arrivals_per_hour: Vec<f64>,
}

impl Class {
    /// (mu, sigma) of the normal under the lognormal service time of this mean and sd.
    pub fn lognormal(&self) -> (f64, f64) {
        let m = self.service_mean_minutes;
        let s = self.service_sd_minutes;
        let sigma2 = (1.0 + (s / m).powi(2)).ln();
        (m.ln() - sigma2 / 2.0, sigma2.sqrt())
    }
}

/// A shift as written, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub name: String,
    /// Indices into [`DAYS`] of the days the shift starts on.
    pub days: Vec<usize>,
    /// Minutes after midnight.
    pub start: u32,
    pub end: u32,
    pub agents: u32,
}

/// A constant stretch of the weekly staffing, in minutes of the week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub agents: u32,
}

/// Tickets open at the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Backlog {
    pub class: usize,
    pub count: u32,
    pub age_minutes: f64,
}

/// A contracted team for peaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Outsourcing {
    pub name: String,
    pub agents: u32,
    pub above: u64,
    pub below: u64,
    pub lead_minutes: f64,
    /// The classes it may work, as a mask over the scenario's classes.
    pub classes: Vec<bool>,
}

/// A scenario, checked and compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub start: jiff::Timestamp,
    /// Minutes from Monday 00:00 UTC of the start's week to the start.
    pub week_offset: f64,
    pub horizon_days: f64,
    pub replications: u32,
    pub base_seed: u64,
    /// By priority (lowest value first), the order the `priority` policy serves them in.
    pub classes: Vec<Class>,
    pub shifts: Vec<Shift>,
    /// The weekly staffing, covering [0, WEEK), with a break at every shift boundary.
    pub staffing: Vec<Segment>,
    pub backlog: Vec<Backlog>,
    pub outsourcing: Vec<Outsourcing>,
    pub backlog_threshold: Option<u64>,
}

/// One problem of a scenario: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: String,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.reason)
    }
}

/// Why a scenario is refused: the TOML does not parse, or every problem found in it.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{0}")]
    Toml(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// Something allowed but probably not meant.
pub type Warning = Problem;

impl Scenario {
    /// The simulated span, in minutes.
    pub fn horizon(&self) -> f64 {
        self.horizon_days * 1440.0
    }

    /// Reads a scenario; also returns what is allowed but worth a warning.
    pub fn parse(text: &str) -> Result<(Scenario, Vec<Warning>), ScenarioError> {
        let file: File = toml::from_str(text).map_err(|error| ScenarioError::Toml(error.to_string()))?;
        let mut problems = Vec::new();
        let mut problem = |place: String, reason: String| problems.push(Problem { place, reason });

        if file.format != FORMAT {
            problem("format".into(), format!("must be \"{FORMAT}\" (found \"{}\")", file.format));
        }
        if file.name.trim().is_empty() {
            problem("name".into(), "must not be empty".into());
        }
        let start = match file.start.parse::<jiff::Timestamp>() {
            Ok(start) if start.as_second() % 60 == 0 && start.subsec_nanosecond() == 0 => Some(start),
            Ok(_) => {
                problem("start".into(), "must fall on a whole minute".into());
                None
            }
            Err(error) => {
                problem("start".into(), format!("not an RFC 3339 instant such as 2026-03-02T00:00:00Z ({error})"));
                None
            }
        };
        if !(file.horizon_days.is_finite() && file.horizon_days > 0.0 && file.horizon_days <= MAX_HORIZON_DAYS) {
            problem(
                "horizon_days".into(),
                format!("must be above 0 and at most {MAX_HORIZON_DAYS} (found {})", file.horizon_days),
            );
        }
        let replications = match file.replications {
            None => 100,
            Some(r) if (1..=i64::from(MAX_REPLICATIONS)).contains(&r) => r as u32,
            Some(r) => {
                problem("replications".into(), format!("must be from 1 to {MAX_REPLICATIONS} (found {r})"));
                1
            }
        };
        let base_seed = match file.base_seed {
            None => 0,
            Some(seed) if seed >= 0 => seed as u64,
            Some(seed) => {
                problem("base_seed".into(), format!("must not be negative (found {seed})"));
                0
            }
        };

        if file.class.is_empty() {
            problem("class".into(), "at least one [[class]] is needed".into());
        }
        let mut classes = Vec::with_capacity(file.class.len());
        for (i, c) in file.class.iter().enumerate() {
            let place = |key: &str| format!("class[{i}] ({}).{key}", c.name);
            if c.name.trim().is_empty() {
                problem(format!("class[{i}].name"), "must not be empty".into());
            }
            if c.name == "ALL" {
                problem(place("name"), "ALL names the total of the classes in the results; choose another name".into());
            }
            if let Some(j) = file.class[..i].iter().position(|other| other.name == c.name) {
                problem(place("name"), format!("the same name as class[{j}]"));
            }
            if let Some(j) = file.class[..i].iter().position(|other| other.priority == c.priority) {
                problem(
                    place("priority"),
                    format!("{} is already the priority of class[{j}]; priorities must be distinct", c.priority),
                );
            }
            if !(c.sla_wait_minutes.is_finite() && c.sla_wait_minutes >= 0.0) {
                problem(
                    place("sla_wait_minutes"),
                    format!("must be a number of minutes, 0 or more (found {})", c.sla_wait_minutes),
                );
            }
            if !(c.service_mean_minutes.is_finite() && c.service_mean_minutes > 0.0) {
                problem(place("service_mean_minutes"), format!("must be above 0 (found {})", c.service_mean_minutes));
            }
            if !(c.service_sd_minutes.is_finite() && c.service_sd_minutes >= 0.0) {
                problem(place("service_sd_minutes"), format!("must be 0 or more (found {})", c.service_sd_minutes));
            } else if c.service_mean_minutes > 0.0 && c.service_mean_minutes.is_finite() {
                // The lognormal's own parameters must exist (a mean of 1e-160 with an sd of 1
                // does not make one).
                let sigma2 = (1.0 + (c.service_sd_minutes / c.service_mean_minutes).powi(2)).ln();
                let mu = c.service_mean_minutes.ln() - sigma2 / 2.0;
                if !(sigma2.is_finite() && mu.is_finite()) {
                    problem(
                        place("service_sd_minutes"),
                        format!(
                            "{} is out of scale with a mean of {}: no lognormal has them",
                            c.service_sd_minutes, c.service_mean_minutes
                        ),
                    );
                }
            }
            if c.arrivals_per_hour.len() != 168 {
                problem(
                    place("arrivals_per_hour"),
                    format!(
                        "needs 168 rates, one per hour of the week from Monday 00:00 (found {})",
                        c.arrivals_per_hour.len()
                    ),
                );
            }
            for (h, rate) in c.arrivals_per_hour.iter().enumerate() {
                if !(rate.is_finite() && *rate >= 0.0) {
                    problem(
                        format!("{}[{h}] ({} {:02}:00)", place("arrivals_per_hour"), DAYS[(h / 24) % 7], h % 24),
                        format!("a rate must be a number of tickets per hour, 0 or more (found {rate})"),
                    );
                }
            }
            classes.push(Class {
                name: c.name.clone(),
                priority: c.priority,
                urgent: c.urgent.unwrap_or(c.name.eq_ignore_ascii_case("P1")),
                sla_wait_minutes: c.sla_wait_minutes,
                service_mean_minutes: c.service_mean_minutes,
                service_sd_minutes: c.service_sd_minutes,
                arrivals_per_hour: c.arrivals_per_hour.clone(),
            });
        }
        classes.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.name.cmp(&b.name)));
        let class_index = |name: &str| classes.iter().position(|c| c.name == name);

        if file.shift.is_empty() {
            problem("shift".into(), "at least one [[shift]] is needed".into());
        }
        let shifts = check_shifts(&file.shift, &mut problem);

        let mut backlog = Vec::new();
        for (i, b) in file.backlog.iter().enumerate() {
            let place = |key: &str| format!("backlog[{i}].{key}");
            let class = class_index(&b.class);
            if class.is_none() {
                problem(
                    place("class"),
                    format!("\"{}\" is not a class of the scenario ({})", b.class, names(&classes)),
                );
            }
            let count = u32::try_from(b.count).unwrap_or_else(|_| {
                problem(place("count"), format!("must be a number of tickets, 0 or more (found {})", b.count));
                0
            });
            if !(b.age_minutes.is_finite() && b.age_minutes >= 0.0) {
                problem(place("age_minutes"), format!("must be 0 or more (found {})", b.age_minutes));
            }
            if let Some(class) = class {
                backlog.push(Backlog { class, count, age_minutes: b.age_minutes });
            }
        }

        let mut outsourcing = Vec::new();
        for (i, o) in file.outsourcing.iter().enumerate() {
            let place = |key: &str| format!("outsourcing[{i}] ({}).{key}", o.name);
            let agents = u32::try_from(o.agents).ok().filter(|a| *a > 0 && *a <= MAX_AGENTS).unwrap_or_else(|| {
                problem(
                    place("agents"),
                    format!("must be a number of agents from 1 to {MAX_AGENTS} (found {})", o.agents),
                );
                0
            });
            let above = u64::try_from(o.above).unwrap_or_else(|_| {
                problem(place("above"), format!("must be a number of open tickets, 0 or more (found {})", o.above));
                0
            });
            let below = u64::try_from(o.below).unwrap_or_else(|_| {
                problem(place("below"), format!("must be a number of open tickets, 0 or more (found {})", o.below));
                0
            });
            if below > above {
                problem(
                    place("below"),
                    format!("{below} is above `above` ({above}): the team would come and go at once"),
                );
            }
            if !(o.lead_minutes.is_finite() && o.lead_minutes >= 0.0) {
                problem(place("lead_minutes"), format!("must be 0 or more (found {})", o.lead_minutes));
            }
            if o.classes.as_ref().is_some_and(Vec::is_empty) {
                problem(
                    place("classes"),
                    "names no class: the team could work nothing (leave the key out for every class)".into(),
                );
            }
            let mut mask = vec![o.classes.is_none(); classes.len()];
            for (j, name) in o.classes.iter().flatten().enumerate() {
                match class_index(name) {
                    Some(c) => mask[c] = true,
                    None => problem(
                        format!("{}[{j}]", place("classes")),
                        format!("\"{name}\" is not a class of the scenario ({})", names(&classes)),
                    ),
                }
            }
            outsourcing.push(Outsourcing {
                name: o.name.clone(),
                agents,
                above,
                below,
                lead_minutes: o.lead_minutes,
                classes: mask,
            });
        }
        let backlog_threshold = file.backlog_threshold.and_then(|t| {
            u64::try_from(t)
                .map_err(|_| {
                    problem(
                        "backlog_threshold".into(),
                        format!("must be a number of open tickets, 0 or more (found {t})"),
                    )
                })
                .ok()
        });

        // Only once every rate is known good: the load a replication would carry.
        if problems.is_empty() {
            // Hour by hour over the real horizon, from the start's place in its week.
            let horizon = file.horizon_days * 1440.0;
            let offset = start.map_or(0.0, |s| (s.as_second() - monday_of(s).as_second()) as f64 / 60.0);
            let per_hour: Vec<f64> = (0..168).map(|h| classes.iter().map(|c| c.arrivals_per_hour[h]).sum()).collect();
            let mut expected = 0.0;
            let mut from = 0.0f64;
            while from < horizon && expected <= MAX_EXPECTED_TICKETS {
                let hour = ((from + offset) / 60.0).floor();
                let to = ((hour + 1.0) * 60.0 - offset).min(horizon);
                expected += per_hour[(hour as usize) % 168] * (to - from) / 60.0;
                from = to;
            }
            let initial: f64 = backlog.iter().map(|b| f64::from(b.count)).sum();
            if expected + initial > MAX_EXPECTED_TICKETS {
                problems.push(Problem {
                    place: "class.arrivals_per_hour".into(),
                    reason: format!(
                        "the rates make about {:.0} tickets a replication; the most vigie simulates is {MAX_EXPECTED_TICKETS:.0}",
                        expected + initial
                    ),
                });
            }
        }
        let (Some(start), true) = (start, problems.is_empty()) else {
            return Err(ScenarioError::Invalid(problems));
        };

        let monday = monday_of(start);
        let week_offset = (start.as_second() - monday.as_second()) as f64 / 60.0;
        let staffing = weekly_staffing(&shifts);
        let scenario = Scenario {
            name: file.name,
            start,
            week_offset,
            horizon_days: file.horizon_days,
            replications,
            base_seed,
            classes,
            shifts,
            staffing,
            backlog,
            outsourcing,
            backlog_threshold,
        };
        let warnings = scenario.warnings();
        Ok((scenario, warnings))
    }

    /// What is allowed but likely a mistake: a day nobody works, work that arrives in hours
    /// nobody is on duty, more work a week than agent hours.
    fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (d, day) in DAYS.iter().enumerate() {
            let (from, to) = (d as f64 * 1440.0, (d + 1) as f64 * 1440.0);
            let staffed = self.staffing.iter().any(|s| s.agents > 0 && s.start < to && s.end > from);
            if !staffed {
                let arriving: f64 =
                    self.classes.iter().map(|c| c.arrivals_per_hour[d * 24..(d + 1) * 24].iter().sum::<f64>()).sum();
                warnings.push(Problem {
                    place: format!("shift ({day})"),
                    reason: format!(
                        "no agent is on duty at any time on {day}; {arriving:.0} tickets are expected to arrive that day and wait for the next shift"
                    ),
                });
            }
        }
        for contract in &self.outsourcing {
            if contract.below == 0 {
                warnings.push(Problem {
                    place: format!("outsourcing ({}).below", contract.name),
                    reason: "0: once called, the team stays until no ticket is open".into(),
                });
            }
        }
        // Hours with arrivals and nobody on duty.
        let mut unstaffed_hours = 0;
        let mut arriving_then = 0.0;
        for h in 0..168 {
            let minute = h as f64 * 60.0;
            let on_duty = self.staffing.iter().any(|s| s.agents > 0 && s.start < minute + 60.0 && s.end > minute);
            let arriving: f64 = self.classes.iter().map(|c| c.arrivals_per_hour[h]).sum();
            if !on_duty && arriving > 0.0 {
                unstaffed_hours += 1;
                arriving_then += arriving;
            }
        }
        if unstaffed_hours > 0 {
            warnings.push(Problem {
                place: "shift".into(),
                reason: format!(
                    "{unstaffed_hours} hours of the week have arrivals and no agent on duty ({arriving_then:.0} tickets a week arrive then and wait)"
                ),
            });
        }
        let work_per_week: f64 =
            self.classes.iter().map(|c| c.arrivals_per_hour.iter().sum::<f64>() * c.service_mean_minutes / 60.0).sum();
        let agent_hours: f64 = self.staffing.iter().map(|s| f64::from(s.agents) * (s.end - s.start) / 60.0).sum();
        if work_per_week > agent_hours && self.outsourcing.is_empty() {
            warnings.push(Problem {
                place: "shift".into(),
                reason: format!(
                    "{work_per_week:.0} hours of work arrive a week against {agent_hours:.0} agent hours on duty: the backlog can only grow"
                ),
            });
        }
        warnings
    }
}

/// Checks `[[shift]]` tables, every problem told to `problem` as (place, reason).
fn check_shifts(tables: &[ShiftFile], problem: &mut impl FnMut(String, String)) -> Vec<Shift> {
    let mut shifts = Vec::with_capacity(tables.len());
    for (i, s) in tables.iter().enumerate() {
        let place = |key: &str| format!("shift[{i}] ({}).{key}", s.name);
        let mut days = Vec::new();
        for (d, day) in s.days.iter().enumerate() {
            match DAYS.iter().position(|known| known == day) {
                Some(index) if days.contains(&index) => {
                    problem(format!("{}[{d}]", place("days")), format!("{day} is listed twice"))
                }
                Some(index) => days.push(index),
                None => problem(
                    format!("{}[{d}]", place("days")),
                    format!("\"{day}\" is not one of Mon Tue Wed Thu Fri Sat Sun"),
                ),
            }
        }
        if s.days.is_empty() {
            problem(place("days"), "names no day".into());
        }
        let start = hhmm(&s.start).unwrap_or_else(|reason| {
            problem(place("start"), reason);
            0
        });
        let end = hhmm(&s.end).unwrap_or_else(|reason| {
            problem(place("end"), reason);
            0
        });
        let agents = u32::try_from(s.agents).ok().filter(|a| *a <= MAX_AGENTS).unwrap_or_else(|| {
            problem(place("agents"), format!("must be a number of agents from 0 to {MAX_AGENTS} (found {})", s.agents));
            0
        });
        shifts.push(Shift { name: s.name.clone(), days, start, end, agents });
    }
    shifts
}

/// The `[[shift]]` tables of a file (a scenario, or a file of shifts alone; other keys are
/// left alone), checked as a scenario checks them.
pub fn parse_shifts(text: &str) -> Result<Vec<Shift>, ScenarioError> {
    #[derive(Deserialize)]
    struct Shifts {
        #[serde(default)]
        shift: Vec<ShiftFile>,
    }
    let file: Shifts = toml::from_str(text).map_err(|error| ScenarioError::Toml(error.to_string()))?;
    let mut problems = Vec::new();
    if file.shift.is_empty() {
        problems.push(Problem { place: "shift".into(), reason: "no [[shift]] table".into() });
    }
    let shifts = check_shifts(&file.shift, &mut |place, reason| problems.push(Problem { place, reason }));
    if problems.is_empty() { Ok(shifts) } else { Err(ScenarioError::Invalid(problems)) }
}

fn names(classes: &[Class]) -> String {
    classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Monday 00:00 UTC of the week of epoch second `second`, in epoch seconds: where hours of
/// the week, shifts and opening hours are reckoned from.
pub(crate) fn week_start(second: i64) -> i64 {
    // 1970-01-01 was a Thursday: days since the epoch, shifted so that Monday is 0.
    let day = second.div_euclid(86_400);
    (day - (day + 3).rem_euclid(7)) * 86_400
}

/// Monday 00:00 UTC of the week of `at`.
fn monday_of(at: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(week_start(at.as_second())).unwrap_or(at)
}

/// `HH:MM` as minutes after midnight, 00:00 to 24:00.
pub(crate) fn hhmm(text: &str) -> Result<u32, String> {
    let bad = || format!("\"{text}\" is not a time of day HH:MM from 00:00 to 24:00");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h * 60 + m > 1440 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// The weekly staffing of the shifts: c(t) on [0, WEEK), cut at every shift start and end and
/// at Monday 00:00 (`sim_common.load_scenario`'s construction, the boundaries of the handover).
pub fn weekly_staffing(shifts: &[Shift]) -> Vec<Segment> {
    let mut pieces = Vec::new();
    for shift in shifts {
        let (start, mut end) = (f64::from(shift.start), f64::from(shift.end));
        if end <= start {
            end += 1440.0; // overnight: the shift belongs to the day it starts on
        }
        for &day in &shift.days {
            let (a, b) = (day as f64 * 1440.0 + start, day as f64 * 1440.0 + end);
            if b <= WEEK {
                pieces.push((a, b, shift.agents));
            } else {
                pieces.push((a, WEEK, shift.agents));
                pieces.push((0.0, b - WEEK, shift.agents));
            }
        }
    }
    let mut bounds: Vec<f64> = vec![0.0, WEEK];
    bounds.extend(pieces.iter().flat_map(|(a, b, _)| [*a, *b]));
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
        .windows(2)
        .map(|w| Segment {
            start: w[0],
            end: w[1],
            // At most a million a shift (checked): the sum of a few thousand shifts fits.
            agents: pieces
                .iter()
                .filter(|(a, b, _)| *a <= w[0] && w[1] <= *b)
                .map(|(_, _, n)| u64::from(*n))
                .sum::<u64>()
                .min(u64::from(u32::MAX)) as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests;
