//! The backlog and KPI metrics of `shared/METRICS.md`, defined once for the offline report
//! (`vigie report` on an exported history) and the server's live dashboard.
//!
//! The definitions are fed one ticket at a time ([`MetricsAccumulator::add`]) and keep only
//! what the report needs: the tickets open at the as-of instant, the tickets of the 28-day
//! window (their durations, for exact percentiles), the rated tickets of the window, and one
//! counter triple per calendar day. So the memory of a report grows with the backlog and the
//! window, never with the length of the history, and an accumulator per thread can be
//! [merged](MetricsAccumulator::merge) in any order: every figure is a count, a sum or a
//! multiset.
//!
//! The as-of instant `T` is either given ([`AsOf::At`]) or the latest timestamp of the history
//! ([`AsOf::Latest`], the export instant), which is only known at the end. The accumulator
//! never needs `T` before [`finish`](MetricsAccumulator::finish): in the latest mode no
//! timestamp is after `T`, so a ticket is open exactly when it has no resolution, and the
//! window is pruned against the latest timestamp seen so far, a lower bound of `T`.
//!
//! With an explicit `T`, a ticket is taken as it stood at `T`: created after `T`, it does not
//! exist yet; a response or resolution after `T` has not happened yet. That is METRICS.md's
//! open(T), frt and resolution definitions, and it gives the daily series' last day as the
//! day up to `T`.
//!
//! Durations are whole seconds (the history's precision), turned into minutes as
//! `seconds / 60.0`; percentiles are continuous (linear interpolation between closest ranks).

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use crate::ticket::{Channel, CustomerTier, Priority, Status};

/// The window of the flow metrics: the 28 days up to `T`, `(T - 28 d, T]`.
pub const WINDOW_SECONDS: i64 = 28 * DAY_SECONDS;
/// An open ticket is at risk when its resolution target falls due within this of `T`.
pub const AT_RISK_SECONDS: i64 = 3600;
/// How many of the oldest open tickets the report lists.
pub const OLDEST_LISTED: usize = 10;
const DAY_SECONDS: i64 = 86_400;

/// The age buckets of the backlog: label and lower bound in seconds (inclusive); the upper
/// bound is the next bucket's lower bound.
pub const AGE_BUCKETS: [(&str, i64); 5] =
    [("<4h", 0), ("4h-24h", 4 * 3600), ("1d-3d", DAY_SECONDS), ("3d-7d", 3 * DAY_SECONDS), (">=7d", 7 * DAY_SECONDS)];

/// The instant the report is computed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// The latest timestamp in the history: the export instant.
    Latest,
    /// A given instant, in Unix seconds.
    At(i64),
}

/// One ticket of a history, as the metrics read it. Timestamps are Unix seconds.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub id: &'a str,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The current status (only reported for the export instant).
    pub status: Status,
    pub priority: Priority,
    pub category: &'a str,
    pub channel: Channel,
    pub customer_tier: CustomerTier,
    pub team: &'a str,
    /// 1 to 5; `None` when not rated.
    pub csat: Option<u8>,
}

/// The SLA table (`sla.csv`): calendar-minute targets per category × priority, with `*` rows.
#[derive(Debug, Clone, Default)]
pub struct SlaTable {
    rows: HashMap<(String, String), SlaMinutes>,
}

/// One row of the SLA table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaMinutes {
    pub first_response: f64,
    pub resolution: f64,
}

impl SlaTable {
    /// Adds a row; `*` in either key matches any value. Returns false if the pair was already
    /// in the table (the caller names the duplicate).
    pub fn insert(&mut self, category: &str, priority: &str, minutes: SlaMinutes) -> bool {
        self.rows.insert((category.to_owned(), priority.to_owned()), minutes).is_none()
    }

    /// The row for a ticket, most specific first: exact category and priority, then exact
    /// category, then exact priority, then `*,*`.
    pub fn lookup(&self, category: &str, priority: Priority) -> Option<SlaMinutes> {
        let priority = priority.as_str();
        [(category, priority), (category, "*"), ("*", priority), ("*", "*")]
            .into_iter()
            .find_map(|(c, p)| self.rows.get(&(c.to_owned(), p.to_owned())).copied())
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The handle-time table (`handle_time.csv`): mean hands-on minutes per category, with an
/// optional `*` row for the others.
#[derive(Debug, Clone, Default)]
pub struct HandleTimes {
    by_category: HashMap<String, f64>,
    any: Option<f64>,
}

impl HandleTimes {
    /// Adds a row; returns false if the category was already there.
    pub fn insert(&mut self, category: &str, minutes: f64) -> bool {
        if category == "*" {
            self.any.replace(minutes).is_none()
        } else {
            self.by_category.insert(category.to_owned(), minutes).is_none()
        }
    }

    /// The minutes of a category: its own row, else the `*` row, else none.
    pub fn minutes(&self, category: &str) -> Option<f64> {
        self.by_category.get(category).copied().or(self.any)
    }
}

/// Interns the free-text groups (categories, teams) as small numbers, so that the records
/// kept per ticket are small and copyable.
#[derive(Debug, Default)]
struct Names {
    index: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.index.insert(name.into(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |name| name)
    }
}

/// A ticket open at `T` (or, in the latest mode, not resolved).
#[derive(Debug, Clone)]
struct OpenTicket {
    id: Box<str>,
    created_at: i64,
    status: Status,
    priority: Priority,
    category: u32,
    channel: Channel,
    customer_tier: CustomerTier,
    team: u32,
}

/// A ticket created in the window (or, in the latest mode, possibly so): what the response,
/// resolution and SLA figures need.
#[derive(Debug, Clone, Copy)]
struct RecentTicket {
    created_at: i64,
    first_response_at: Option<i64>,
    resolved_at: Option<i64>,
    priority: Priority,
    category: u32,
    channel: Channel,
}

/// A rated ticket resolved in the window (or possibly so).
#[derive(Debug, Clone, Copy)]
struct RatedTicket {
    resolved_at: i64,
    team: u32,
    csat: u8,
}

/// Per calendar day (UTC): tickets created, tickets resolved, and the change of the backlog.
#[derive(Debug, Default, Clone)]
struct DailyCounts {
    first_day: i64,
    inflow: Vec<u64>,
    outflow: Vec<u64>,
    /// +1 on the day of creation, -1 on the day of resolution (never before the creation's).
    backlog_change: Vec<i64>,
}

impl DailyCounts {
    /// The slot of a day, growing the series at either end.
    fn slot(&mut self, day: i64) -> usize {
        if self.inflow.is_empty() {
            self.first_day = day;
        }
        if day < self.first_day {
            let grow = usize::try_from(self.first_day - day).unwrap_or(0);
            for series in [&mut self.inflow, &mut self.outflow] {
                series.splice(0..0, std::iter::repeat_n(0, grow));
            }
            self.backlog_change.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_day = day;
        }
        let slot = usize::try_from(day - self.first_day).unwrap_or(0);
        if slot >= self.inflow.len() {
            self.inflow.resize(slot + 1, 0);
            self.outflow.resize(slot + 1, 0);
            self.backlog_change.resize(slot + 1, 0);
        }
        slot
    }

    fn merge(&mut self, other: &DailyCounts) {
        for (offset, ((&inflow, &outflow), &change)) in
            other.inflow.iter().zip(&other.outflow).zip(&other.backlog_change).enumerate()
        {
            if inflow == 0 && outflow == 0 && change == 0 {
                continue;
            }
            let slot = self.slot(other.first_day + offset as i64);
            self.inflow[slot] += inflow;
            self.outflow[slot] += outflow;
            self.backlog_change[slot] += change;
        }
    }

    fn at(&self, day: i64) -> (u64, u64, i64) {
        match usize::try_from(day - self.first_day).ok().filter(|&slot| slot < self.inflow.len()) {
            Some(slot) => (self.inflow[slot], self.outflow[slot], self.backlog_change[slot]),
            None => (0, 0, 0),
        }
    }
}

/// The running state of a report: feed it tickets, merge partial ones, then finish.
#[derive(Debug)]
pub struct MetricsAccumulator {
    as_of: AsOf,
    rows: u64,
    /// Smallest and largest timestamp of the tickets that exist at `T`.
    earliest: Option<i64>,
    latest: Option<i64>,
    /// Largest timestamp of the whole history (with an explicit `T`, of the later tickets too):
    /// tells whether `T` is the export instant.
    history_latest: Option<i64>,
    days: DailyCounts,
    open: Vec<OpenTicket>,
    recent: Vec<RecentTicket>,
    rated: Vec<RatedTicket>,
    /// Sizes at which `recent` and `rated` are next pruned (latest mode).
    prune_recent_at: usize,
    prune_rated_at: usize,
    names: Names,
}

const FIRST_PRUNE: usize = 1 << 16;

impl MetricsAccumulator {
    pub fn new(as_of: AsOf) -> Self {
        MetricsAccumulator {
            as_of,
            rows: 0,
            earliest: None,
            latest: None,
            history_latest: None,
            days: DailyCounts::default(),
            open: Vec::new(),
            recent: Vec::new(),
            rated: Vec::new(),
            prune_recent_at: FIRST_PRUNE,
            prune_rated_at: FIRST_PRUNE,
            names: Names::default(),
        }
    }

    /// Counts one ticket of the history.
    pub fn add(&mut self, ticket: &TicketFacts<'_>) {
        self.rows += 1;
        let stamps = [Some(ticket.created_at), ticket.first_response_at, ticket.resolved_at];
        let ticket_latest = stamps.into_iter().flatten().max().unwrap_or(ticket.created_at);
        self.history_latest = Some(self.history_latest.map_or(ticket_latest, |l| l.max(ticket_latest)));

        // The ticket as it stood at T: what happened after T has not happened yet.
        let (first_response_at, resolved_at) = match self.as_of {
            AsOf::Latest => (ticket.first_response_at, ticket.resolved_at),
            AsOf::At(t) => {
                if ticket.created_at > t {
                    return;
                }
                (ticket.first_response_at.filter(|&f| f <= t), ticket.resolved_at.filter(|&r| r <= t))
            }
        };
        let created_at = ticket.created_at;
        let (earliest, latest) = [Some(created_at), first_response_at, resolved_at]
            .into_iter()
            .flatten()
            .fold((created_at, created_at), |(lo, hi), x| (lo.min(x), hi.max(x)));
        self.earliest = Some(self.earliest.map_or(earliest, |e| e.min(earliest)));
        self.latest = Some(self.latest.map_or(latest, |l| l.max(latest)));

        let created_day = created_at.div_euclid(DAY_SECONDS);
        let slot = self.days.slot(created_day);
        self.days.inflow[slot] += 1;
        self.days.backlog_change[slot] += 1;
        if let Some(resolved_at) = resolved_at {
            let resolved_day = resolved_at.div_euclid(DAY_SECONDS);
            let slot = self.days.slot(resolved_day);
            self.days.outflow[slot] += 1;
            let slot = self.days.slot(resolved_day.max(created_day));
            self.days.backlog_change[slot] -= 1;
        }

        // With T known, a ticket outside the window is dropped now; in the latest mode it is
        // kept until the latest timestamp seen shows it is out.
        let window_floor = self.window_floor();
        let in_window = created_at > window_floor;
        // Looked up once: an open ticket of the window needs it twice.
        let category = (resolved_at.is_none() || in_window).then(|| self.names.intern(ticket.category));
        if resolved_at.is_none() {
            self.open.push(OpenTicket {
                id: ticket.id.into(),
                created_at,
                status: ticket.status,
                priority: ticket.priority,
                category: category.unwrap_or(u32::MAX),
                channel: ticket.channel,
                customer_tier: ticket.customer_tier,
                team: self.names.intern(ticket.team),
            });
        }
        if in_window {
            self.recent.push(RecentTicket {
                created_at,
                first_response_at,
                resolved_at,
                priority: ticket.priority,
                category: category.unwrap_or(u32::MAX),
                channel: ticket.channel,
            });
            if self.recent.len() >= self.prune_recent_at {
                self.recent.retain(|t| t.created_at > window_floor);
                self.prune_recent_at = (self.recent.len() * 2).max(FIRST_PRUNE);
            }
        }
        if let (Some(resolved_at), Some(csat)) = (resolved_at, ticket.csat)
            && resolved_at > window_floor
        {
            let team = self.names.intern(ticket.team);
            self.rated.push(RatedTicket { resolved_at, team, csat });
            if self.rated.len() >= self.prune_rated_at {
                self.rated.retain(|t| t.resolved_at > window_floor);
                self.prune_rated_at = (self.rated.len() * 2).max(FIRST_PRUNE);
            }
        }
    }

    /// The start of the window, or a lower bound of it while `T` is not known yet.
    fn window_floor(&self) -> i64 {
        match self.as_of {
            AsOf::At(t) => t - WINDOW_SECONDS,
            AsOf::Latest => self.latest.map_or(i64::MIN, |l| l - WINDOW_SECONDS),
        }
    }

    /// Adds the tickets counted by another accumulator of the same as-of.
    pub fn merge(&mut self, other: MetricsAccumulator) {
        debug_assert_eq!(self.as_of, other.as_of);
        let remap: Vec<u32> = other.names.names.iter().map(|name| self.names.intern(name)).collect();
        let name = |id: u32| remap.get(id as usize).copied().unwrap_or(u32::MAX);
        self.rows += other.rows;
        self.earliest = [self.earliest, other.earliest].into_iter().flatten().min();
        self.latest = [self.latest, other.latest].into_iter().flatten().max();
        self.history_latest = [self.history_latest, other.history_latest].into_iter().flatten().max();
        self.days.merge(&other.days);
        self.open.extend(other.open.into_iter().map(|t| OpenTicket {
            category: name(t.category),
            team: name(t.team),
            ..t
        }));
        self.recent.extend(other.recent.into_iter().map(|t| RecentTicket { category: name(t.category), ..t }));
        self.rated.extend(other.rated.into_iter().map(|t| RatedTicket { team: name(t.team), ..t }));
    }

    /// Computes the report.
    pub fn finish(self, sla: &SlaTable, handle_times: &HandleTimes) -> Report {
        let t = match self.as_of {
            AsOf::At(t) => Some(t),
            AsOf::Latest => self.latest,
        };
        let Some(t) = t else {
            return Report::empty(self.rows);
        };
        let at_export = self.history_latest.is_none_or(|latest| t >= latest);
        let names = &self.names;
        let window_floor = t - WINDOW_SECONDS;

        // Backlog at T. In the latest mode every unresolved ticket is open at T.
        let mut open = self.open;
        open.sort_unstable_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        let mut by_priority = BTreeMap::new();
        let mut by_category = BTreeMap::new();
        let mut by_channel = BTreeMap::new();
        let mut by_team = BTreeMap::new();
        let mut by_customer_tier = BTreeMap::new();
        let mut by_status = BTreeMap::new();
        let mut age_buckets: BTreeMap<String, u64> = AGE_BUCKETS.iter().map(|(l, _)| (l.to_string(), 0)).collect();
        let mut per_category: HashMap<u32, u64> = HashMap::new();
        for ticket in &open {
            *by_priority.entry(ticket.priority.as_str().to_owned()).or_insert(0) += 1;
            *by_channel.entry(ticket.channel.as_str().to_owned()).or_insert(0) += 1;
            *by_customer_tier.entry(ticket.customer_tier.as_str().to_owned()).or_insert(0) += 1;
            *by_status.entry(ticket.status.as_str().to_owned()).or_insert(0) += 1;
            *by_team.entry(names.name(ticket.team).to_owned()).or_insert(0) += 1;
            *per_category.entry(ticket.category).or_insert(0) += 1;
            let age = t - ticket.created_at;
            let bucket = AGE_BUCKETS.iter().rev().find(|(_, lower)| age >= *lower).unwrap_or(&AGE_BUCKETS[0]).0;
            *age_buckets.entry(bucket.to_owned()).or_insert(0) += 1;
        }
        for (&category, &count) in &per_category {
            by_category.insert(names.name(category).to_owned(), count);
        }
        let (hours_of_work, missing_handle_time) = self::hours_of_work(&by_category, |name| handle_times.minutes(name));
        // Sorted by creation, the ages are sorted in descending order.
        let ages: Vec<f64> = open.iter().rev().map(|ticket| minutes(t - ticket.created_at)).collect();
        let age_minutes = (!ages.is_empty()).then(|| AgeStats {
            mean: mean(&ages),
            p50: quantile_sorted(&ages, 0.5),
            p90: quantile_sorted(&ages, 0.9),
            max: ages[ages.len() - 1],
        });
        let oldest = open
            .iter()
            .take(OLDEST_LISTED)
            .map(|ticket| OldTicket {
                id: ticket.id.to_string(),
                created_at: timestamp(ticket.created_at),
                age_minutes: minutes(t - ticket.created_at),
            })
            .collect();

        // The SLA rows, looked up once per category × priority.
        let mut targets: HashMap<(u32, Priority), Option<SlaMinutes>> = HashMap::new();
        let mut target = |category: u32, priority: Priority| {
            *targets.entry((category, priority)).or_insert_with(|| sla.lookup(names.name(category), priority))
        };
        let mut at_risk = Vec::new();
        let mut past_resolution_target = 0;
        for ticket in &open {
            let Some(minutes) = target(ticket.category, ticket.priority) else { continue };
            let target_seconds = minutes.resolution * 60.0;
            let age = (t - ticket.created_at) as f64;
            past_resolution_target += u64::from(age > target_seconds);
            if age <= target_seconds && target_seconds - age <= AT_RISK_SECONDS as f64 {
                at_risk.push(AtRisk {
                    id: ticket.id.to_string(),
                    category: names.name(ticket.category).to_owned(),
                    priority: ticket.priority.as_str().to_owned(),
                    minutes_left: (ticket.created_at as f64 + target_seconds - t as f64) / 60.0,
                });
            }
        }
        at_risk.sort_by(|a, b| a.minutes_left.total_cmp(&b.minutes_left).then_with(|| a.id.cmp(&b.id)));

        // Flow: every day from the first timestamp to T.
        // No ticket at T (an empty history, or one that starts later): no day to list.
        let first_day = self.earliest.unwrap_or(t + DAY_SECONDS).min(t + DAY_SECONDS).div_euclid(DAY_SECONDS);
        let last_day = if self.earliest.is_some() { t.div_euclid(DAY_SECONDS) } else { first_day - 1 };
        let mut daily = Vec::with_capacity(usize::try_from(last_day - first_day + 1).unwrap_or(0));
        let mut backlog = 0i64;
        for day in first_day..=last_day {
            let (inflow, outflow, change) = self.days.at(day);
            backlog += change;
            daily.push(DayFlow { day: day_start(day), inflow, outflow, backlog_end: backlog.max(0) as u64 });
        }
        // The last 7 full days: those that end at or before T.
        let last_full = last_day - 1;
        let net_flow_7d = (last_full - 6..=last_full)
            .map(|day| {
                let (inflow, outflow, _) = self.days.at(day);
                inflow as i64 - outflow as i64
            })
            .sum();

        // Response, resolution and SLA over the tickets created in the window.
        let mut frt: BTreeMap<Channel, Vec<i64>> = BTreeMap::new();
        let mut resolution: BTreeMap<(u32, Priority), Vec<i64>> = BTreeMap::new();
        let mut sla_counts: BTreeMap<(u32, Priority), [SlaCounts; 2]> = BTreeMap::new();
        for ticket in self.recent.iter().filter(|r| r.created_at > window_floor && r.created_at <= t) {
            if let Some(f) = ticket.first_response_at {
                frt.entry(ticket.channel).or_default().push(f - ticket.created_at);
            }
            if let Some(r) = ticket.resolved_at {
                resolution.entry((ticket.category, ticket.priority)).or_default().push(r - ticket.created_at);
            }
            if let Some(minutes) = target(ticket.category, ticket.priority) {
                let counts = sla_counts.entry((ticket.category, ticket.priority)).or_default();
                counts[0].count(ticket.created_at, ticket.first_response_at, minutes.first_response, t);
                counts[1].count(ticket.created_at, ticket.resolved_at, minutes.resolution, t);
            }
        }
        let frt_by_channel = frt.into_iter().map(|(channel, d)| (channel.as_str().to_owned(), Stats::of(d))).collect();
        let mut resolution_by = BTreeMap::<String, BTreeMap<String, Stats>>::new();
        for ((category, priority), durations) in resolution {
            resolution_by
                .entry(names.name(category).to_owned())
                .or_default()
                .insert(priority.as_str().to_owned(), Stats::of(durations));
        }
        let mut sla_by = BTreeMap::<String, BTreeMap<String, SlaCompliance>>::new();
        for ((category, priority), [frt, resolution]) in sla_counts {
            sla_by
                .entry(names.name(category).to_owned())
                .or_default()
                .insert(priority.as_str().to_owned(), SlaCompliance { frt, resolution });
        }

        // Satisfaction over the tickets resolved in the window.
        let mut csat: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
        for rated in self.rated.iter().filter(|r| r.resolved_at > window_floor && r.resolved_at <= t) {
            let entry = csat.entry(rated.team).or_default();
            entry.0 += 1;
            entry.1 += u64::from(rated.csat);
            entry.2 += u64::from(rated.csat >= 4);
        }
        let csat_by_team = csat
            .into_iter()
            .map(|(team, (count, sum, satisfied))| {
                let csat = Csat {
                    count,
                    avg: sum as f64 / count as f64,
                    pct_satisfied: 100.0 * satisfied as f64 / count as f64,
                };
                (names.name(team).to_owned(), csat)
            })
            .collect();

        Report {
            as_of: Some(timestamp(t)),
            tickets_total: self.rows,
            window: Some(Window { start_exclusive: timestamp(window_floor), end_inclusive: timestamp(t) }),
            backlog: Backlog {
                count: open.len() as u64,
                by_priority,
                by_category,
                by_channel,
                by_team,
                by_customer_tier,
                by_status: at_export.then_some(by_status),
                age_buckets,
                age_minutes,
                oldest,
                hours_of_work,
                missing_handle_time,
                past_resolution_target,
            },
            flow: Flow {
                first_day: daily.first().map(|d| d.day),
                last_day: daily.last().map(|d| d.day),
                daily,
                net_flow_7d,
            },
            frt_by_channel,
            resolution_by_category_priority: resolution_by,
            sla_by_category_priority: sla_by,
            at_risk,
            csat_by_team,
        }
    }
}

fn minutes(seconds: i64) -> f64 {
    seconds as f64 / 60.0
}

fn timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn day_start(day: i64) -> Timestamp {
    timestamp(day * DAY_SECONDS)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The continuous quantile of sorted values (SQL `quantile_cont`): linear interpolation
/// between the two closest ranks of `(n - 1) * q`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    quantile_by(sorted.len(), q, |rank| sorted[rank])
}

/// [`quantile_sorted`] over `n > 0` values known by rank (ascending), read only at the two
/// ranks needed: the live backlog takes them from an ordered index instead of a sorted copy.
pub fn quantile_by(n: usize, q: f64, value_at: impl Fn(usize) -> f64) -> f64 {
    let rank = (n - 1) as f64 * q;
    let lower = rank.floor();
    let upper = rank.ceil();
    let lo = value_at(lower as usize);
    if lower == upper {
        return lo;
    }
    let hi = value_at(upper as usize);
    lo + (hi - lo) * (rank - lower)
}

/// The backlog in hours of work from its count per category (in category order, so that the
/// same backlog gives the same last digits), and the categories without a handle time.
pub fn hours_of_work(
    by_category: &BTreeMap<String, u64>,
    minutes_of: impl Fn(&str) -> Option<f64>,
) -> (f64, Vec<String>) {
    let mut minutes = 0.0;
    let mut missing = Vec::new();
    for (name, &count) in by_category {
        match minutes_of(name) {
            Some(per_ticket) => minutes += count as f64 * per_ticket,
            None => missing.push(name.clone()),
        }
    }
    (minutes / 60.0, missing)
}

/// The backlog and KPI report at one instant: `shared/bench/REPORT_SCHEMA.md`'s fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `None` only for a history without tickets and no given instant.
    pub as_of: Option<Timestamp>,
    pub tickets_total: u64,
    pub window: Option<Window>,
    pub backlog: Backlog,
    pub flow: Flow,
    pub frt_by_channel: BTreeMap<String, Stats>,
    pub resolution_by_category_priority: BTreeMap<String, BTreeMap<String, Stats>>,
    pub sla_by_category_priority: BTreeMap<String, BTreeMap<String, SlaCompliance>>,
    pub at_risk: Vec<AtRisk>,
    pub csat_by_team: BTreeMap<String, Csat>,
}

impl Report {
    fn empty(rows: u64) -> Report {
        Report {
            as_of: None,
            tickets_total: rows,
            window: None,
            backlog: Backlog {
                count: 0,
                by_priority: BTreeMap::new(),
                by_category: BTreeMap::new(),
                by_channel: BTreeMap::new(),
                by_team: BTreeMap::new(),
                by_customer_tier: BTreeMap::new(),
                by_status: Some(BTreeMap::new()),
                age_buckets: AGE_BUCKETS.iter().map(|(l, _)| (l.to_string(), 0)).collect(),
                age_minutes: None,
                oldest: Vec::new(),
                hours_of_work: 0.0,
                missing_handle_time: Vec::new(),
                past_resolution_target: 0,
            },
            flow: Flow { first_day: None, last_day: None, daily: Vec::new(), net_flow_7d: 0 },
            frt_by_channel: BTreeMap::new(),
            resolution_by_category_priority: BTreeMap::new(),
            sla_by_category_priority: BTreeMap::new(),
            at_risk: Vec::new(),
            csat_by_team: BTreeMap::new(),
        }
    }
}

/// The 28 days up to `T`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start_exclusive: Timestamp,
    pub end_inclusive: Timestamp,
}

/// The tickets open at `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backlog {
    pub count: u64,
    pub by_priority: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    pub by_team: BTreeMap<String, u64>,
    pub by_customer_tier: BTreeMap<String, u64>,
    /// By current status: only when `T` is the export instant (the history does not say what
    /// the status was earlier).
    pub by_status: Option<BTreeMap<String, u64>>,
    /// Every bucket of [`AGE_BUCKETS`], 0 included.
    pub age_buckets: BTreeMap<String, u64>,
    /// `None` when the backlog is empty.
    pub age_minutes: Option<AgeStats>,
    /// The oldest open tickets, oldest first (ties by id).
    pub oldest: Vec<OldTicket>,
    pub hours_of_work: f64,
    /// Categories of open tickets with no handle time (and no `*` row), sorted.
    pub missing_handle_time: Vec<String>,
    /// Open tickets whose resolution target has passed at `T` (not in the JSON schema: the
    /// morning view's "breached").
    pub past_resolution_target: u64,
}

impl Backlog {
    /// The age buckets youngest first, as [`AGE_BUCKETS`] lists them (the map sorts them by
    /// label).
    pub fn age_buckets_in_order(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        AGE_BUCKETS.iter().map(|(label, _)| (*label, self.age_buckets.get(*label).copied().unwrap_or(0)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgeStats {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OldTicket {
    pub id: String,
    pub created_at: Timestamp,
    pub age_minutes: f64,
}

/// Inflow, outflow and backlog per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub first_day: Option<Timestamp>,
    pub last_day: Option<Timestamp>,
    /// Every day from the first to the last, ascending; `day` is its midnight (UTC).
    pub daily: Vec<DayFlow>,
    pub net_flow_7d: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayFlow {
    pub day: Timestamp,
    pub inflow: u64,
    pub outflow: u64,
    pub backlog_end: u64,
}

/// Count, mean and percentiles of durations, in minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
}

impl Stats {
    /// Of durations in seconds (never empty: a group exists because it has a member).
    pub fn of(mut seconds: Vec<i64>) -> Stats {
        seconds.sort_unstable();
        let values: Vec<f64> = seconds.into_iter().map(minutes).collect();
        Stats {
            count: values.len() as u64,
            mean: mean(&values),
            p50: quantile_sorted(&values, 0.5),
            p90: quantile_sorted(&values, 0.9),
        }
    }
}

/// The two targets of a category × priority.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaCompliance {
    pub frt: SlaCounts,
    pub resolution: SlaCounts,
}

/// How many tickets met, breached or are still running against a target.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SlaCounts {
    pub met: u64,
    pub breached: u64,
    pub running: u64,
}

impl SlaCounts {
    /// Counts one ticket against a target of `target_minutes` calendar minutes: met when the
    /// stop came on or before the target, breached when it came later or has not come and the
    /// target has passed at `t`, running otherwise.
    fn count(&mut self, created_at: i64, stopped_at: Option<i64>, target_minutes: f64, t: i64) {
        let target = target_minutes * 60.0;
        match stopped_at {
            Some(stop) if ((stop - created_at) as f64) <= target => self.met += 1,
            Some(_) => self.breached += 1,
            None if ((t - created_at) as f64) > target => self.breached += 1,
            None => self.running += 1,
        }
    }

    /// met / (met + breached); `None` when nothing is decided yet.
    pub fn compliance(&self) -> Option<f64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| self.met as f64 / decided as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AtRisk {
    pub id: String,
    pub category: String,
    pub priority: String,
    pub minutes_left: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Csat {
    /// Rated tickets.
    pub count: u64,
    pub avg: f64,
    /// Share rated 4 or 5, in percent.
    pub pct_satisfied: f64,
}

#[cfg(test)]
mod tests;
