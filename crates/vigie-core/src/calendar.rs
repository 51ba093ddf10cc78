//! Business-hours calendars: when a team works, and how much working time lies between two
//! instants.
//!
//! A calendar is weekly hours (several intervals a day, in local civil time), an IANA time zone
//! and holidays (whole days, or part of a day). SLA targets are counted in *business time* on a
//! calendar: [`Calendar::add_business_time`] finds the deadline, and
//! [`Calendar::business_time_between`] measures what is left or what was spent.
//!
//! How it is computed. The local working intervals of every date of a year are turned into
//! instants once (lazily, the first time that year is needed) and kept sorted with a running
//! total of the business time before each, so a measure or an addition is a binary search
//! within a year plus a sum over whole years between. Civil times are turned into instants with
//! the time zone's rules, so a day with a daylight-saving change is 23 or 25 hours long when
//! it is worked in full: a business-hours boundary inside a skipped hour starts (or ends) at
//! the jump; one inside a repeated hour counts the repeated hour in full.
//!
//! Calendars cover the local years [`FIRST_YEAR`] to [`LAST_YEAR`]; outside them (or when a
//! target cannot be met in that span), additions return `None`.
//!
//! **Architecture Invariant:** no I/O: the time zone is resolved by the caller (the server
//! reads the system database, tests use jiff's bundled one) and handed in.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::command::{FieldError, ValidationErrors};

/// The first local year a calendar covers.
pub const FIRST_YEAR: i16 = 1970;
/// The last local year a calendar covers.
pub const LAST_YEAR: i16 = 2200;

/// The name of the built-in calendar that is always open (24 hours a day, 7 days a week, no
/// holidays).
pub const ALWAYS_OPEN: &str = "24x7";

const MINUTES_PER_DAY: u16 = 24 * 60;
const MICROS_PER_MINUTE: i64 = 60_000_000;

/// The weekdays in the order calendars list them, with their spelling in configuration.
pub const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "monday"),
    (Weekday::Tuesday, "tuesday"),
    (Weekday::Wednesday, "wednesday"),
    (Weekday::Thursday, "thursday"),
    (Weekday::Friday, "friday"),
    (Weekday::Saturday, "saturday"),
    (Weekday::Sunday, "sunday"),
];

/// A working interval of a day in local civil time, in minutes since midnight: `start < end`,
/// `end <= 1440` (24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DaySpan {
    pub start: u16,
    pub end: u16,
}

impl DaySpan {
    /// `HH:MM-HH:MM`, the spelling of configuration files.
    pub fn spelling(&self) -> String {
        format!("{}-{}", minute_spelling(self.start), minute_spelling(self.end))
    }
}

/// A day (or part of one) when the calendar is closed although its weekly hours say open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    /// The closed part of the day; `None` for the whole day.
    pub closed: Option<DaySpan>,
    /// What it is, for people reading the configuration ("Christmas").
    pub name: Option<String>,
}

/// A calendar as configured: what [`CalendarInput::parse`] checked, and what is shown back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    pub name: String,
    /// The IANA name of the time zone (`Europe/Paris`).
    pub time_zone: String,
    /// Working intervals per weekday, Monday first, each day's sorted and disjoint.
    pub week: [Vec<DaySpan>; 7],
    /// Sorted by date.
    pub holidays: Vec<Holiday>,
}

/// A calendar as submitted: strings, as in the configuration file or the API.
#[derive(Debug, Clone, Default)]
pub struct CalendarInput {
    pub time_zone: String,
    /// Shorthand for `00:00-24:00` every day.
    pub always_open: bool,
    /// For each weekday named (`monday` … `sunday`), its intervals as `HH:MM-HH:MM`. A day not
    /// named is closed.
    pub days: Vec<(String, Vec<String>)>,
    pub holidays: Vec<HolidayInput>,
}

#[derive(Debug, Clone, Default)]
pub struct HolidayInput {
    /// `YYYY-MM-DD`, a local date.
    pub date: String,
    /// `HH:MM`: closed from then (default: midnight).
    pub from: Option<String>,
    /// `HH:MM` or `24:00`: closed until then (default: the end of the day).
    pub to: Option<String>,
    pub name: Option<String>,
}

impl CalendarInput {
    /// Checks every field; errors name them relative to the calendar (`monday[1]`,
    /// `holidays[0].from`). `resolve_time_zone` looks an IANA name up (the caller's database).
    pub fn parse(
        self,
        name: &str,
        resolve_time_zone: &dyn Fn(&str) -> Option<TimeZone>,
    ) -> Result<Calendar, ValidationErrors> {
        let mut errors = Vec::new();
        if let Err(error) = crate::ids::TeamId::parse(name) {
            errors.push(FieldError::new("name", error.to_string()));
        }
        if name == ALWAYS_OPEN {
            errors.push(FieldError::new("name", format!("`{ALWAYS_OPEN}` is built in and cannot be redefined")));
        }
        let time_zone = match resolve_time_zone(&self.time_zone) {
            Some(time_zone) => Some(time_zone),
            None if self.time_zone.is_empty() => {
                errors.push(FieldError::new("time_zone", "is required (an IANA name such as `Europe/Paris`)"));
                None
            }
            None => {
                errors.push(FieldError::new(
                    "time_zone",
                    format!("`{}` is not a known IANA time zone (such as `Europe/Paris`)", self.time_zone),
                ));
                None
            }
        };
        let mut week: [Vec<DaySpan>; 7] = Default::default();
        if self.always_open {
            if !self.days.is_empty() {
                errors.push(FieldError::new("always_open", "cannot be combined with weekly hours"));
            }
            week = std::array::from_fn(|_| vec![DaySpan { start: 0, end: MINUTES_PER_DAY }]);
        }
        for (day, spans) in self.days {
            let Some(idx) = WEEKDAYS.iter().position(|(_, spelling)| *spelling == day) else {
                errors.push(FieldError::new(day, "is not a weekday (monday … sunday)"));
                continue;
            };
            let mut parsed = Vec::new();
            for (span_idx, text) in spans.iter().enumerate() {
                match parse_span(text) {
                    Ok(span) => parsed.push((span_idx, span)),
                    Err(reason) => errors.push(FieldError::new(format!("{day}[{span_idx}]"), reason)),
                }
            }
            parsed.sort_by_key(|(_, span)| *span);
            for pair in parsed.windows(2) {
                let ((_, first), (later_idx, later)) = (pair[0], pair[1]);
                if later.start < first.end {
                    errors.push(FieldError::new(
                        format!("{day}[{later_idx}]"),
                        format!("overlaps {} on the same day", first.spelling()),
                    ));
                }
            }
            week[idx] = parsed.into_iter().map(|(_, span)| span).collect();
        }
        // (Not said again when the hours given were refused: that is the problem to fix.)
        let hours_refused = errors.iter().any(|e| WEEKDAYS.iter().any(|(_, day)| e.field.starts_with(day)));
        if week.iter().all(Vec::is_empty) && !hours_refused {
            errors.push(FieldError::new("hours", "the calendar has no working hours in the week"));
        }
        let mut holidays = Vec::new();
        for (idx, holiday) in self.holidays.into_iter().enumerate() {
            let field = |name: &str| format!("holidays[{idx}].{name}");
            let date = match holiday.date.parse::<Date>() {
                Ok(date) if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) => Some(date),
                Ok(_) => {
                    errors.push(FieldError::new(field("date"), format!("must be in {FIRST_YEAR}–{LAST_YEAR}")));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(field("date"), "must be a date YYYY-MM-DD"));
                    None
                }
            };
            let from = match holiday.from.as_deref().map(parse_minute) {
                None => Some(0),
                Some(Ok(minute)) if minute < MINUTES_PER_DAY => Some(minute),
                Some(Ok(_)) => {
                    errors.push(FieldError::new(field("from"), "must be before 24:00"));
                    None
                }
                Some(Err(reason)) => {
                    errors.push(FieldError::new(field("from"), reason));
                    None
                }
            };
            let to = match holiday.to.as_deref().map(parse_minute) {
                None => Some(MINUTES_PER_DAY),
                Some(Ok(minute)) => Some(minute),
                Some(Err(reason)) => {
                    errors.push(FieldError::new(field("to"), reason));
                    None
                }
            };
            if let (Some(date), Some(from), Some(to)) = (date, from, to) {
                if from >= to {
                    errors.push(FieldError::new(field("to"), "must be after `from`"));
                    continue;
                }
                let closed = (from, to) != (0, MINUTES_PER_DAY);
                holidays.push(Holiday {
                    date,
                    closed: closed.then_some(DaySpan { start: from, end: to }),
                    name: holiday.name,
                });
            }
        }
        ValidationErrors::finish(errors)?;
        let Some(time_zone) = time_zone else { return Err(ValidationErrors::internal()) };
        holidays.sort_by(|a, b| a.date.cmp(&b.date).then(a.closed.cmp(&b.closed)));
        let spec = CalendarSpec { name: name.to_owned(), time_zone: self.time_zone, week, holidays };
        Ok(Calendar::from_spec(spec, time_zone))
    }
}

/// A calendar ready for arithmetic. Cheap to share (`Arc`); the per-year timelines are built
/// on first use and kept.
#[derive(Debug)]
pub struct Calendar {
    spec: CalendarSpec,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Every instant is business time: arithmetic is plain arithmetic.
    Always,
    Weekly(Box<Weekly>),
}

#[derive(Debug)]
struct Weekly {
    time_zone: TimeZone,
    week: [Vec<DaySpan>; 7],
    /// The closed parts of each holiday date, merged.
    closed: BTreeMap<Date, Vec<DaySpan>>,
    /// One slot per local year from [`FIRST_YEAR`].
    years: Box<[OnceLock<YearTimeline>]>,
}

/// The working intervals of one local year as instants (epoch microseconds), with the business
/// time before each.
#[derive(Debug, Default)]
struct YearTimeline {
    /// Sorted, disjoint, non-empty `[start, end)`.
    intervals: Vec<(i64, i64)>,
    /// `before[i]`: business microseconds of the year before `intervals[i]`.
    before: Vec<i64>,
    /// `after[i]`: business microseconds of the year at the end of `intervals[i]`.
    after: Vec<i64>,
    total: i64,
}

impl Calendar {
    /// The built-in calendar that is always open.
    pub fn always_open() -> Calendar {
        let spec = CalendarSpec {
            name: ALWAYS_OPEN.to_owned(),
            time_zone: "UTC".to_owned(),
            week: std::array::from_fn(|_| vec![DaySpan { start: 0, end: MINUTES_PER_DAY }]),
            holidays: Vec::new(),
        };
        Calendar { spec, kind: Kind::Always }
    }

    fn from_spec(spec: CalendarSpec, time_zone: TimeZone) -> Calendar {
        let full_week = spec.week.iter().all(|day| day == &[DaySpan { start: 0, end: MINUTES_PER_DAY }]);
        if full_week && spec.holidays.is_empty() {
            return Calendar { spec, kind: Kind::Always };
        }
        let mut closed: BTreeMap<Date, Vec<DaySpan>> = BTreeMap::new();
        for holiday in &spec.holidays {
            closed
                .entry(holiday.date)
                .or_default()
                .push(holiday.closed.unwrap_or(DaySpan { start: 0, end: MINUTES_PER_DAY }));
        }
        let n_years = usize::try_from(LAST_YEAR - FIRST_YEAR + 1).unwrap_or(0);
        let weekly = Weekly {
            time_zone,
            week: spec.week.clone(),
            closed,
            years: (0..n_years).map(|_| OnceLock::new()).collect(),
        };
        Calendar { spec, kind: Kind::Weekly(Box::new(weekly)) }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    /// Whether every instant is business time.
    pub fn is_always_open(&self) -> bool {
        matches!(self.kind, Kind::Always)
    }

    /// The business time from `from` to `to`; negative when `to` is before `from`.
    pub fn business_time_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let (from_us, to_us) = (from.as_microsecond(), to.as_microsecond());
        let micros = match &self.kind {
            Kind::Always => to_us - from_us,
            Kind::Weekly(weekly) if from_us <= to_us => weekly.between(from_us, to_us),
            Kind::Weekly(weekly) => -weekly.between(to_us, from_us),
        };
        SignedDuration::from_micros(micros)
    }

    /// The instant at which `amount` of business time has passed since `from` (counting back
    /// when `amount` is negative). Going forward, the earliest such instant (a deadline that
    /// falls at closing time is at closing time, not at the next opening); going back, the
    /// latest. `None` beyond the years the calendar covers. Precision: microseconds.
    pub fn add_business_time(&self, from: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
        let from_us = from.as_microsecond();
        let amount_us = i64::try_from(amount.as_micros()).ok()?;
        let micros = match &self.kind {
            Kind::Always => from_us.checked_add(amount_us)?,
            Kind::Weekly(_) if amount_us == 0 => from_us,
            Kind::Weekly(weekly) if amount_us > 0 => weekly.forward(from_us, amount_us)?,
            Kind::Weekly(weekly) => weekly.backward(from_us, -amount_us)?,
        };
        Timestamp::from_microsecond(micros).ok()
    }

    /// `at` if the calendar is open then, else its next opening (`None` beyond the covered
    /// years).
    pub fn next_open_at(&self, at: Timestamp) -> Option<Timestamp> {
        // The earliest instant a microsecond of business time after `at` is a microsecond
        // after the first open instant.
        let tick = SignedDuration::from_micros(1);
        self.add_business_time(at, tick)?.checked_sub(tick).ok()
    }
}

impl Weekly {
    /// The local year of an instant, as an index into `years` (clamped to the covered span).
    fn year_idx(&self, micros: i64) -> Option<usize> {
        let timestamp = Timestamp::from_microsecond(micros).ok()?;
        let year = self.time_zone.to_datetime(timestamp).year();
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return None;
        }
        usize::try_from(year - FIRST_YEAR).ok()
    }

    fn year(&self, idx: usize) -> Option<&YearTimeline> {
        let slot = self.years.get(idx)?;
        let year = FIRST_YEAR + i16::try_from(idx).ok()?;
        Some(slot.get_or_init(|| self.build_year(year)))
    }

    fn build_year(&self, year: i16) -> YearTimeline {
        let mut intervals: Vec<(i64, i64)> = Vec::new();
        let Ok(first) = Date::new(year, 1, 1) else { return YearTimeline::default() };
        let mut date = first;
        while date.year() == year {
            let weekday_idx = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
            let open = &self.week[weekday_idx];
            let spans = match self.closed.get(&date) {
                Some(closed) => subtract(open, closed),
                None => open.clone(),
            };
            for span in spans {
                let (Some(start), Some(end)) =
                    (self.instant(date, span.start, Edge::Start), self.instant(date, span.end, Edge::End))
                else {
                    continue;
                };
                if start >= end {
                    continue;
                }
                // Adjacent intervals (a day worked to midnight, the next from midnight) merge.
                match intervals.last_mut() {
                    Some(last) if last.1 >= start => last.1 = last.1.max(end),
                    _ => intervals.push((start, end)),
                }
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        let mut before = Vec::with_capacity(intervals.len());
        let mut after = Vec::with_capacity(intervals.len());
        let mut total = 0;
        for (start, end) in &intervals {
            before.push(total);
            total += end - start;
            after.push(total);
        }
        YearTimeline { intervals, before, after, total }
    }

    /// The instant of `minute` (0–1440) of local `date`. A minute inside a skipped hour maps to
    /// the jump; inside a repeated hour, a start takes the first occurrence and an end the second.
    fn instant(&self, date: Date, minute: u16, edge: Edge) -> Option<i64> {
        let (date, minute) = if minute == MINUTES_PER_DAY { (date.tomorrow().ok()?, 0) } else { (date, minute) };
        let time = Time::new(i8::try_from(minute / 60).ok()?, i8::try_from(minute % 60).ok()?, 0, 0).ok()?;
        let civil = DateTime::from_parts(date, time);
        let ambiguous = self.time_zone.to_ambiguous_timestamp(civil);
        let timestamp = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible().ok()?,
            AmbiguousOffset::Gap { after, .. } => {
                // The civil time does not exist: the interval starts or ends at the jump, the
                // first transition after this civil time read with the later offset.
                let before_jump = after.to_timestamp(civil).ok()?;
                self.time_zone.following(before_jump).next()?.timestamp()
            }
            AmbiguousOffset::Fold { .. } => match edge {
                Edge::Start => ambiguous.earlier().ok()?,
                Edge::End => ambiguous.later().ok()?,
            },
        };
        Some(timestamp.as_microsecond())
    }

    fn between(&self, from: i64, to: i64) -> i64 {
        let (Some(from_year), Some(to_year)) = (self.year_idx(from), self.year_idx(to)) else {
            return self.between_clamped(from, to);
        };
        let Some(first) = self.year(from_year) else { return 0 };
        if from_year == to_year {
            return first.before_instant(to) - first.before_instant(from);
        }
        let mut total = first.total - first.before_instant(from);
        for idx in from_year + 1..to_year {
            total += self.year(idx).map_or(0, |year| year.total);
        }
        total + self.year(to_year).map_or(0, |year| year.before_instant(to))
    }

    /// `between` for instants outside the covered years: only the covered part counts.
    fn between_clamped(&self, from: i64, to: i64) -> i64 {
        let start = self.year_start(0).unwrap_or(i64::MIN);
        let end = self.year_start(self.years.len()).unwrap_or(i64::MAX);
        let (from, to) = (from.clamp(start, end - 1), to.clamp(start, end - 1));
        if from >= to { 0 } else { self.between(from, to) }
    }

    /// The first instant of the local year `FIRST_YEAR + idx`.
    fn year_start(&self, idx: usize) -> Option<i64> {
        let year = FIRST_YEAR.checked_add(i16::try_from(idx).ok()?)?;
        let date = Date::new(year, 1, 1).ok()?;
        self.time_zone
            .to_ambiguous_timestamp(date.to_datetime(Time::midnight()))
            .compatible()
            .ok()
            .map(|t| t.as_microsecond())
    }

    fn forward(&self, from: i64, amount: i64) -> Option<i64> {
        let mut idx = self.year_idx(from)?;
        let year = self.year(idx)?;
        let position = year.before_instant(from);
        if year.total - position >= amount {
            return year.earliest_at(position + amount);
        }
        let mut remaining = amount - (year.total - position);
        loop {
            idx += 1;
            let year = self.year(idx)?;
            if year.total >= remaining {
                return year.earliest_at(remaining);
            }
            remaining -= year.total;
        }
    }

    fn backward(&self, from: i64, amount: i64) -> Option<i64> {
        let mut idx = self.year_idx(from)?;
        let year = self.year(idx)?;
        let position = year.before_instant(from);
        if position >= amount {
            return self.latest_at(idx, position - amount);
        }
        let mut remaining = amount - position;
        loop {
            idx = idx.checked_sub(1)?;
            let year = self.year(idx)?;
            if year.total >= remaining {
                return self.latest_at(idx, year.total - remaining);
            }
            remaining -= year.total;
        }
    }

    /// The latest instant at which `position` business time of year `idx` has passed: inside
    /// an interval, or the next opening (of this year or a later one).
    fn latest_at(&self, mut idx: usize, mut position: i64) -> Option<i64> {
        loop {
            if let Some(instant) = self.year(idx)?.latest_at(position) {
                return Some(instant);
            }
            idx += 1;
            position = 0;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Edge {
    Start,
    End,
}

impl YearTimeline {
    /// Business time of the year before `instant` (which lies in the year).
    fn before_instant(&self, instant: i64) -> i64 {
        let idx = self.intervals.partition_point(|(_, end)| *end <= instant);
        match self.intervals.get(idx) {
            Some((start, _)) if *start < instant => self.before[idx] + (instant - start),
            _ => self.before.get(idx).copied().unwrap_or(self.total),
        }
    }

    /// The earliest instant at which `position` (> 0) business time of the year has passed.
    fn earliest_at(&self, position: i64) -> Option<i64> {
        let idx = self.after.partition_point(|after| *after < position);
        let (start, _) = self.intervals.get(idx)?;
        Some(start + (position - self.before[idx]))
    }

    /// The latest instant at which `position` business time of the year has passed, if it
    /// lies in the year (not when `position` is the year's total: that is the next opening).
    fn latest_at(&self, position: i64) -> Option<i64> {
        let idx = self.after.partition_point(|after| *after <= position);
        let (start, _) = self.intervals.get(idx)?;
        Some(start + (position - self.before[idx]))
    }
}

/// `open` minus `closed`, both sorted lists of spans of one day.
fn subtract(open: &[DaySpan], closed: &[DaySpan]) -> Vec<DaySpan> {
    let mut result = Vec::new();
    for span in open {
        let mut pieces = vec![*span];
        for hole in closed {
            pieces = pieces
                .into_iter()
                .flat_map(|piece| {
                    let mut kept = Vec::new();
                    if hole.end <= piece.start || hole.start >= piece.end {
                        kept.push(piece);
                    } else {
                        if hole.start > piece.start {
                            kept.push(DaySpan { start: piece.start, end: hole.start });
                        }
                        if hole.end < piece.end {
                            kept.push(DaySpan { start: hole.end, end: piece.end });
                        }
                    }
                    kept
                })
                .collect();
        }
        result.extend(pieces);
    }
    result
}

/// `HH:MM` (00:00–24:00) as minutes since midnight.
fn parse_minute(text: &str) -> Result<u16, String> {
    let reason = || format!("`{text}` is not a time HH:MM (00:00 to 24:00)");
    let (hours, minutes) = text.split_once(':').ok_or_else(reason)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(reason());
    }
    let hours: u16 = hours.parse().map_err(|_| reason())?;
    let minutes: u16 = minutes.parse().map_err(|_| reason())?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(reason());
    }
    Ok(hours * 60 + minutes)
}

pub(crate) fn parse_span(text: &str) -> Result<DaySpan, String> {
    let (start, end) =
        text.split_once('-').ok_or_else(|| format!("`{text}` is not an interval HH:MM-HH:MM (such as 09:00-17:30)"))?;
    let (start, end) = (parse_minute(start.trim())?, parse_minute(end.trim())?);
    if start >= end {
        return Err(format!("`{text}` must end after it starts, on the same day (24:00 for midnight)"));
    }
    Ok(DaySpan { start, end })
}

fn minute_spelling(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// A business duration of whole minutes.
pub fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_micros(n.saturating_mul(MICROS_PER_MINUTE))
}

#[cfg(test)]
mod tests;
