//! The live backlog: the "Backlog at T" and "SLA" parts of `shared/METRICS.md` at the server's
//! now, kept as aggregates that every change of a ticket updates, so that a snapshot costs a
//! few rank lookups, never a scan of the open tickets.
//!
//! - [`OpenAggregates`]: counts of the open tickets per priority, category, channel, team, tier
//!   and status; the open tickets ordered by creation (ages, their buckets and percentiles are
//!   ranks in that order at any instant) and by their first-response and resolution deadlines
//!   (what is past its target, what is at risk, are ranges).
//! - [`RecentTickets`]: the tickets created or resolved in the last [`RETENTION_DAYS`] days,
//!   open or not: the SLA compliance of the 28-day window and the hourly inflow and outflow.
//!   Compliance changes with time alone (a window slides, a deadline passes): its counts are
//!   kept as of an instant and moved forward lazily, each ticket being looked at again only at
//!   the instants where its contribution can change (a timeline of those instants).
//!
//! The definitions are the report's, on the server's SLA clock: a target's deadline is its
//! business-time deadline (paused time excluded), which is `created_at + target` for a 24x7
//! calendar without pauses, the report's case; "at risk" is the report's 60 calendar minutes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use vigie_core::metrics::{
    self, AGE_BUCKETS, AT_RISK_SECONDS, AgeStats, Backlog, OLDEST_LISTED, OldTicket, SlaCompliance, SlaCounts,
    WINDOW_SECONDS,
};
use vigie_core::sla::{SlaState, TargetSummary};
use vigie_core::{Channel, CustomerTier, Priority, Status};

use super::LiveTicket;
use super::ordered::{Entry, OrderedQueue};

/// How long the creation and resolution of a ticket are kept, in days: the 28-day window, the
/// dashboard's 30-day trend, and a margin for the day boundaries of any time zone.
pub const RETENTION_DAYS: i64 = 32;
const RETENTION_MICROS: i64 = RETENTION_DAYS * 86_400 * 1_000_000;
const WINDOW_MICROS: i64 = WINDOW_SECONDS * 1_000_000;
const MICROS_PER_MINUTE: f64 = 60_000_000.0;
pub const HOUR_MICROS: i64 = 3_600_000_000;

/// `at` moved by `micros`, saturating at jiff's range.
pub(super) fn shift(at: Timestamp, micros: i64) -> Timestamp {
    let moved = at.as_microsecond().saturating_add(micros);
    Timestamp::from_microsecond(moved).unwrap_or(if micros > 0 { Timestamp::MAX } else { Timestamp::MIN })
}

fn minutes_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_microsecond() - from.as_microsecond()) as f64 / MICROS_PER_MINUTE
}

/// The hour (since the epoch, UTC) an instant falls in.
pub fn hour_of(at: Timestamp) -> i64 {
    at.as_microsecond().div_euclid(HOUR_MICROS)
}

fn bump<K: Ord>(counts: &mut BTreeMap<K, u64>, key: K, add: bool) {
    let count = counts.entry(key).or_insert(0);
    if add {
        *count += 1;
    } else {
        *count = count.saturating_sub(1);
    }
}

fn bump_shared(counts: &mut HashMap<Arc<str>, u64>, key: &Arc<str>, add: bool) {
    if add {
        *counts.entry(key.clone()).or_insert(0) += 1;
    } else if let Some(count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(key);
        }
    }
}

fn named<K>(counts: &BTreeMap<K, u64>, name: impl Fn(&K) -> &'static str) -> BTreeMap<String, u64> {
    counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (name(k).to_owned(), *n)).collect()
}

/// The deadline a target is still worked to (running or already breached), if any.
fn pending_due(target: Option<&TargetSummary>) -> Option<Timestamp> {
    target.filter(|t| matches!(t.state, SlaState::Running | SlaState::Breached) && !t.stopped).and_then(|t| t.due_at)
}

/// Counts and indexes of the open tickets.
#[derive(Debug, Default)]
pub(super) struct OpenAggregates {
    by_priority: BTreeMap<Priority, u64>,
    by_category: HashMap<Arc<str>, u64>,
    by_channel: BTreeMap<Channel, u64>,
    by_team: HashMap<Arc<str>, u64>,
    by_customer_tier: BTreeMap<CustomerTier, u64>,
    by_status: BTreeMap<Status, u64>,
    /// Per team, per category: each team's hours of work.
    by_team_category: HashMap<(Arc<str>, Arc<str>), u64>,
    /// Every open ticket by (`created_at`, id): the oldest first.
    by_created: OrderedQueue<Timestamp>,
    /// The sum of their `created_at` in microseconds (the mean age without a pass).
    created_sum: i128,
    /// The open tickets whose resolution target runs or is breached, by its deadline.
    resolution_due: OrderedQueue<Timestamp>,
    /// The open tickets not yet answered whose first-response target runs or is breached.
    response_due: OrderedQueue<Timestamp>,
}

impl OpenAggregates {
    pub fn add(&mut self, held: &LiveTicket) {
        self.count(held, true);
        self.by_created.insert(Entry { key: held.created_at, id: held.id.clone(), weight: 0 });
        self.created_sum += i128::from(held.created_at.as_microsecond());
        if let Some(due) = pending_due(held.sla_cache[1].as_ref()) {
            self.resolution_due.insert(Entry { key: due, id: held.id.clone(), weight: 0 });
        }
        if let Some(due) = Self::response_due_of(held) {
            self.response_due.insert(Entry { key: due, id: held.id.clone(), weight: 0 });
        }
    }

    pub fn remove(&mut self, held: &LiveTicket) {
        self.count(held, false);
        if self.by_created.remove(&held.created_at, &held.id) {
            self.created_sum -= i128::from(held.created_at.as_microsecond());
        }
        if let Some(due) = pending_due(held.sla_cache[1].as_ref()) {
            self.resolution_due.remove(&due, &held.id);
        }
        if let Some(due) = Self::response_due_of(held) {
            self.response_due.remove(&due, &held.id);
        }
    }

    fn response_due_of(held: &LiveTicket) -> Option<Timestamp> {
        held.first_response_at.is_none().then(|| pending_due(held.sla_cache[0].as_ref())).flatten()
    }

    fn count(&mut self, held: &LiveTicket, add: bool) {
        bump(&mut self.by_priority, held.priority, add);
        bump(&mut self.by_channel, held.channel, add);
        bump(&mut self.by_customer_tier, held.customer_tier, add);
        bump(&mut self.by_status, held.status, add);
        bump_shared(&mut self.by_category, &held.category, add);
        bump_shared(&mut self.by_team, &held.team, add);
        let key = (held.team.clone(), held.category.clone());
        if add {
            *self.by_team_category.entry(key).or_insert(0) += 1;
        } else if let Some(count) = self.by_team_category.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.by_team_category.remove(&key);
            }
        }
    }

    /// Each team's backlog in hours of work (categories without a handle time count 0).
    pub fn hours_of_work_by_team(&self, handle_minutes: impl Fn(&str) -> Option<f64>) -> BTreeMap<String, f64> {
        let mut per_team: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((team, category), count) in &self.by_team_category {
            per_team.entry(team.to_string()).or_default().insert(category.to_string(), *count);
        }
        per_team
            .into_iter()
            .map(|(team, by_category)| (team, metrics::hours_of_work(&by_category, &handle_minutes).0))
            .collect()
    }

    /// The backlog at `t`, as the report defines it (with the current statuses).
    pub fn backlog(&self, t: Timestamp, handle_minutes: impl Fn(&str) -> Option<f64>) -> Backlog {
        let n = self.by_created.len();
        let by_category: BTreeMap<String, u64> = self.by_category.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        let (hours_of_work, missing_handle_time) = metrics::hours_of_work(&by_category, handle_minutes);
        // Tickets with an age of at least `lower`: created at or before `t - lower`.
        let at_least = |lower_seconds: i64| self.by_created.count_below(&shift(t, 1 - lower_seconds * 1_000_000));
        let mut age_buckets = BTreeMap::new();
        let mut older = 0;
        for (idx, (label, _)) in AGE_BUCKETS.iter().enumerate().rev() {
            let from_here = if idx == 0 { n } else { at_least(AGE_BUCKETS[idx].1) };
            age_buckets.insert((*label).to_owned(), (from_here - older) as u64);
            older = from_here;
        }
        // Ages ascending are creations descending: rank r of the ages is n - 1 - r here.
        let age_at = |rank: usize| self.by_created.nth(n - 1 - rank).map_or(0.0, |entry| minutes_between(entry.key, t));
        let age_minutes = (n > 0).then(|| {
            let total_age = n as i128 * i128::from(t.as_microsecond()) - self.created_sum;
            AgeStats {
                mean: total_age as f64 / MICROS_PER_MINUTE / n as f64,
                p50: metrics::quantile_by(n, 0.5, age_at),
                p90: metrics::quantile_by(n, 0.9, age_at),
                max: age_at(n - 1),
            }
        });
        let oldest = (0..n.min(OLDEST_LISTED))
            .filter_map(|position| self.by_created.nth(position))
            .map(|entry| OldTicket {
                id: entry.id.to_string(),
                created_at: entry.key,
                age_minutes: minutes_between(entry.key, t),
            })
            .collect();
        Backlog {
            count: n as u64,
            by_priority: named(&self.by_priority, |p| p.as_str()),
            by_category,
            by_channel: named(&self.by_channel, |c| c.as_str()),
            by_team: self.by_team.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            by_customer_tier: named(&self.by_customer_tier, |c| c.as_str()),
            by_status: Some(named(&self.by_status, |s| s.as_str())),
            age_buckets,
            age_minutes,
            oldest,
            hours_of_work,
            missing_handle_time,
            past_resolution_target: self.resolution_due.count_below(&t) as u64,
        }
    }

    /// Open tickets not yet answered whose first-response deadline has passed at `t`.
    pub fn response_overdue(&self, t: Timestamp) -> u64 {
        self.response_due.count_below(&t) as u64
    }

    /// The open tickets whose resolution deadline is within [`AT_RISK_SECONDS`] after `t`
    /// (`t` included), by deadline then id.
    pub fn at_risk(&self, t: Timestamp) -> impl Iterator<Item = (Timestamp, &Arc<str>)> + '_ {
        let until = shift(t, AT_RISK_SECONDS * 1_000_000);
        let from = self.resolution_due.count_below(&t);
        (from..)
            .map_while(move |position| self.resolution_due.nth(position))
            .take_while(move |e| e.key <= until)
            .map(|entry| (entry.key, &entry.id))
    }
}

/// What the window keeps of a ticket created or resolved recently.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RecentTicket {
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// Its category and priority when it has SLA targets (the compliance cell it counts in).
    pub cell: Option<Cell>,
    /// First response, resolution: their state when the ticket last changed.
    pub targets: [Option<TargetSummary>; 2],
}

/// A compliance cell: category and priority.
type Cell = (Arc<str>, Priority);

/// How a target counts in compliance at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Met,
    Breached,
    Running,
}

impl RecentTicket {
    /// A ticket's targets as the report counts them: the server's clock also counts a first
    /// solution as the answer, but the report's first-response figures count replies only, so
    /// a ticket solved without a reply is still waiting for one (breached once its deadline
    /// passes), and a reply is met or breached by its own instant.
    pub fn counted_targets(
        targets: [Option<TargetSummary>; 2],
        first_response_at: Option<Timestamp>,
    ) -> [Option<TargetSummary>; 2] {
        let [response, resolution] = targets;
        let response = response.map(|target| match first_response_at {
            Some(reply) => TargetSummary {
                state: if target.due_at.is_some_and(|due| reply > due) { SlaState::Breached } else { SlaState::Met },
                due_at: target.due_at,
                stopped: true,
            },
            None if target.stopped => TargetSummary { state: SlaState::Running, due_at: target.due_at, stopped: false },
            None => target,
        });
        [response, resolution]
    }

    /// Its contribution to the compliance counts at `t`: none outside the 28 days up to `t`.
    fn outcomes_at(&self, t: Timestamp) -> Option<(&Cell, [Option<Outcome>; 2])> {
        let cell = self.cell.as_ref()?;
        let floor = shift(t, -WINDOW_MICROS);
        if self.created_at <= floor || self.created_at > t {
            return None;
        }
        let outcome = |target: &Option<TargetSummary>| {
            target.as_ref().map(|target| match target.state_at(t) {
                SlaState::Met => Outcome::Met,
                SlaState::Breached => Outcome::Breached,
                SlaState::Running | SlaState::Paused => Outcome::Running,
            })
        };
        Some((cell, [outcome(&self.targets[0]), outcome(&self.targets[1])]))
    }

    /// The instants after which its contribution may differ: entering and leaving the window,
    /// a running deadline passing, leaving the retention.
    fn changes(&self) -> impl Iterator<Item = Timestamp> + '_ {
        let deadlines = self
            .targets
            .iter()
            .flatten()
            .filter(|t| t.state == SlaState::Running)
            .filter_map(|t| t.due_at)
            .map(|due| shift(due, 1));
        [self.created_at, shift(self.created_at, WINDOW_MICROS), self.retained_until()].into_iter().chain(deadlines)
    }

    /// The instant after which neither its creation nor its resolution is recent.
    fn retained_until(&self) -> Timestamp {
        shift(self.resolved_at.unwrap_or(self.created_at).max(self.created_at), RETENTION_MICROS)
    }

    fn hours(&self) -> [Option<i64>; 2] {
        [Some(hour_of(self.created_at)), self.resolved_at.map(hour_of)]
    }
}

/// The tickets created or resolved in the last [`RETENTION_DAYS`] days.
#[derive(Debug, Default)]
pub(super) struct RecentTickets {
    tickets: HashMap<Arc<str>, RecentTicket>,
    /// The instant `cells` describes; it only moves forward.
    as_of: Option<Timestamp>,
    cells: HashMap<Cell, [SlaCounts; 2]>,
    /// Per hour since the epoch: tickets created, tickets resolved.
    hours: BTreeMap<i64, [u64; 2]>,
    /// (instant, ticket): when a ticket's contribution may change.
    timeline: BinaryHeap<Reverse<(Timestamp, Arc<str>)>>,
}

fn tally(counts: &mut HashMap<Cell, [SlaCounts; 2]>, ticket: &RecentTicket, t: Timestamp, add: bool) {
    let Some((cell, outcomes)) = ticket.outcomes_at(t) else { return };
    let entry = counts.entry(cell.clone()).or_default();
    for (counts, outcome) in entry.iter_mut().zip(outcomes) {
        let slot = match outcome {
            Some(Outcome::Met) => &mut counts.met,
            Some(Outcome::Breached) => &mut counts.breached,
            Some(Outcome::Running) => &mut counts.running,
            None => continue,
        };
        if add {
            *slot += 1;
        } else {
            *slot = slot.saturating_sub(1);
        }
    }
    if entry.iter().all(|c| c.met + c.breached + c.running == 0) {
        counts.remove(cell);
    }
}

impl RecentTickets {
    pub fn clear(&mut self) {
        *self = RecentTickets::default();
    }

    /// Puts a ticket's latest state in (`None`: it no longer exists), at `now`.
    pub fn update(&mut self, id: &Arc<str>, ticket: Option<RecentTicket>, now: Timestamp) {
        let t = *self.as_of.get_or_insert(now);
        let old = self.tickets.remove(id);
        if let Some(old) = &old {
            tally(&mut self.cells, old, t, false);
            self.count_hours(old, false);
        }
        let Some(ticket) = ticket else { return };
        if ticket.retained_until() <= t.min(now) {
            return;
        }
        tally(&mut self.cells, &ticket, t, true);
        self.count_hours(&ticket, true);
        // The old state's instants are still queued (a visit at an instant recounts whatever
        // the ticket is then): queue only the new ones, so that the timeline grows with the
        // tickets, not with their changes.
        let queued: Vec<Timestamp> =
            old.as_ref().map(|old| old.changes().filter(|at| *at > t).collect()).unwrap_or_default();
        for at in ticket.changes().filter(|at| *at > t && !queued.contains(at)) {
            self.timeline.push(Reverse((at, id.clone())));
        }
        self.tickets.insert(id.clone(), ticket);
    }

    fn count_hours(&mut self, ticket: &RecentTicket, add: bool) {
        for (slot, hour) in ticket.hours().into_iter().enumerate() {
            let Some(hour) = hour else { continue };
            let counts = self.hours.entry(hour).or_default();
            if add {
                counts[slot] += 1;
            } else {
                counts[slot] = counts[slot].saturating_sub(1);
            }
        }
    }

    /// Moves the counts forward to `t` (never back): only the tickets with a change due
    /// meanwhile are looked at.
    fn advance(&mut self, t: Timestamp) {
        let Some(as_of) = self.as_of else {
            self.as_of = Some(t);
            return;
        };
        if t <= as_of {
            return;
        }
        let mut due = HashSet::new();
        while let Some(Reverse((at, _))) = self.timeline.peek() {
            if *at > t {
                break;
            }
            if let Some(Reverse((_, id))) = self.timeline.pop() {
                due.insert(id);
            }
        }
        for id in due {
            let Some(ticket) = self.tickets.get(&id) else { continue };
            tally(&mut self.cells, ticket, as_of, false);
            if ticket.retained_until() <= t {
                self.tickets.remove(&id);
                continue;
            }
            let ticket = ticket.clone();
            tally(&mut self.cells, &ticket, t, true);
        }
        self.as_of = Some(t);
        let oldest_hour = hour_of(shift(t, -RETENTION_MICROS));
        while self.hours.first_key_value().is_some_and(|(hour, _)| *hour < oldest_hour) {
            self.hours.pop_first();
        }
    }

    /// SLA compliance per category and priority over the tickets created in the 28 days up to
    /// `t`, as the report's `sla.by_category_priority`.
    pub fn compliance_at(&mut self, t: Timestamp) -> BTreeMap<String, BTreeMap<String, SlaCompliance>> {
        // Readers take "now" before the lock: one may come a little after another that moved the
        // counts on. Within a minute that is the same instant for a dashboard.
        let t = match self.as_of {
            Some(as_of) if t < as_of && as_of.as_microsecond() - t.as_microsecond() <= 60_000_000 => as_of,
            _ => t,
        };
        let counts = if self.as_of.is_some_and(|as_of| t < as_of) {
            // An instant before the one held (a clock set back): counted afresh.
            let mut counts = HashMap::new();
            for ticket in self.tickets.values() {
                tally(&mut counts, ticket, t, true);
            }
            counts
        } else {
            self.advance(t);
            self.cells.clone()
        };
        let mut by = BTreeMap::<String, BTreeMap<String, SlaCompliance>>::new();
        for ((category, priority), [frt, resolution]) in counts {
            by.entry(category.to_string())
                .or_default()
                .insert(priority.as_str().to_owned(), SlaCompliance { frt, resolution });
        }
        by
    }

    /// Tickets created and resolved per hour, from hour `from` to hour `to` (both included,
    /// hours since the epoch); hours before the retention read 0.
    pub fn hourly(&self, from: i64, to: i64) -> Vec<[u64; 2]> {
        let mut out = vec![[0, 0]; usize::try_from(to - from + 1).unwrap_or(0)];
        for (hour, counts) in self.hours.range(from..=to) {
            out[(hour - from) as usize] = *counts;
        }
        out
    }
}
