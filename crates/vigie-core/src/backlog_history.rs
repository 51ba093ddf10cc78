//! The backlog at past instants, reconstructed from the tickets' status histories: every status a
//! ticket entered is kept with its instant, so whether it was open at any instant is known
//! exactly (a ticket solved, reopened and solved again was not open in between), without
//! reading the event log.
//!
//! One sweep over the instants in order: a ticket is counted from the instant it entered an
//! open status to the instant it left them. Ages are ranks among the open tickets ordered by
//! creation (a Fenwick tree over that order), so the whole series costs
//! O((tickets + instants × buckets) × log tickets), whatever the number of instants.
//!
//! The groups (team, category, priority) are the tickets' current ones: a ticket moved from a
//! team to another counts in its new team at every past instant.

use std::collections::{BTreeMap, HashMap};

use crate::metrics::AGE_BUCKETS;
use crate::sla::StatusSince;
use crate::ticket::Priority;

/// What the reconstruction needs of a ticket.
#[derive(Debug, Clone)]
pub struct PastTicket<'a> {
    pub created_at: i64,
    /// Its last resolution (the report's `resolved_at`): the outflow counts it there.
    pub resolved_at: Option<i64>,
    pub status_history: &'a [StatusSince],
    pub category: &'a str,
    pub team: &'a str,
    pub priority: Priority,
}

/// The backlog at one instant (microseconds since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogPoint {
    pub at: i64,
    pub count: u64,
    /// In the order of [`AGE_BUCKETS`].
    pub age_buckets: [u64; 5],
    pub hours_of_work: f64,
    pub by_priority: BTreeMap<String, u64>,
    pub by_team: BTreeMap<String, u64>,
    /// Tickets created, and tickets resolved, from the previous instant (included) to this one
    /// (excluded); for the first instant, in the `step` before it.
    pub inflow: u64,
    pub outflow: u64,
}

/// The intervals `[from, until)` during which a ticket was open, in microseconds.
fn open_spans(ticket: &PastTicket<'_>) -> Vec<(i64, i64)> {
    let mut spans = Vec::new();
    let mut open_since: Option<i64> = None;
    for entry in ticket.status_history {
        let at = entry.since.as_microsecond();
        match (entry.status.is_open(), open_since) {
            (true, None) => open_since = Some(at),
            (false, Some(since)) => {
                spans.push((since, at));
                open_since = None;
            }
            _ => {}
        }
    }
    if let Some(since) = open_since {
        spans.push((since, i64::MAX));
    }
    spans
}

/// A Fenwick tree of counts over positions.
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn add(&mut self, position: usize, delta: i64) {
        let mut i = position + 1;
        while i < self.0.len() {
            self.0[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// The sum over positions `< end`.
    fn prefix(&self, end: usize) -> i64 {
        let mut i = end.min(self.0.len() - 1);
        let mut sum = 0;
        while i > 0 {
            sum += self.0[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// The backlog at each of `instants` (sorted ascending, microseconds), `step` microseconds
/// apart for the first one's flow; `handle_minutes` gives a category's handle time.
pub fn backlog_series(
    tickets: &[PastTicket<'_>],
    instants: &[i64],
    step: i64,
    handle_minutes: impl Fn(&str) -> Option<f64>,
) -> Vec<BacklogPoint> {
    // The tickets by creation: a ticket's position in that order is its place in the tree.
    let mut by_creation: Vec<usize> = (0..tickets.len()).collect();
    by_creation.sort_by_key(|&idx| (tickets[idx].created_at, idx));
    let mut position = vec![0; tickets.len()];
    for (rank, &idx) in by_creation.iter().enumerate() {
        position[idx] = rank;
    }
    let created: Vec<i64> = by_creation.iter().map(|&idx| tickets[idx].created_at).collect();

    // Every entry into and exit from the open statuses, in time order.
    let mut changes: Vec<(i64, bool, usize)> = Vec::new();
    for (idx, ticket) in tickets.iter().enumerate() {
        for (from, until) in open_spans(ticket) {
            changes.push((from, true, idx));
            if until != i64::MAX {
                changes.push((until, false, idx));
            }
        }
    }
    // At the same instant, exits after entries: a ticket opened and closed at once was never
    // open at that instant, and the counts never go below zero.
    changes.sort_by_key(|&(at, enters, idx)| (at, !enters, idx));
    let mut resolutions: Vec<i64> = tickets.iter().filter_map(|t| t.resolved_at).collect();
    resolutions.sort_unstable();

    let mut tree = Fenwick(vec![0; tickets.len() + 1]);
    let mut open_count: i64 = 0;
    let mut by_category: HashMap<&str, i64> = HashMap::new();
    let mut by_team: HashMap<&str, i64> = HashMap::new();
    let mut by_priority: HashMap<Priority, i64> = HashMap::new();
    let mut next_change = 0;
    let mut points = Vec::with_capacity(instants.len());
    for (n, &at) in instants.iter().enumerate() {
        while let Some(&(when, enters, idx)) = changes.get(next_change) {
            if when > at {
                break;
            }
            next_change += 1;
            let delta = if enters { 1 } else { -1 };
            let ticket = &tickets[idx];
            tree.add(position[idx], delta);
            open_count += delta;
            *by_category.entry(ticket.category).or_default() += delta;
            *by_team.entry(ticket.team).or_default() += delta;
            *by_priority.entry(ticket.priority).or_default() += delta;
        }
        // Open tickets created at or before `x`.
        let created_by = |x: i64| tree.prefix(created.partition_point(|&c| c <= x));
        let mut age_buckets = [0u64; 5];
        let mut older = 0;
        for idx in (0..AGE_BUCKETS.len()).rev() {
            let from_here = if idx == 0 { open_count } else { created_by(at - AGE_BUCKETS[idx].1 * 1_000_000) };
            age_buckets[idx] = (from_here - older).max(0) as u64;
            older = from_here;
        }
        let categories: BTreeMap<String, u64> =
            by_category.iter().filter(|(_, n)| **n > 0).map(|(c, n)| (c.to_string(), *n as u64)).collect();
        let (hours_of_work, _) = crate::metrics::hours_of_work(&categories, &handle_minutes);
        let previous = if n == 0 { at - step } else { instants[n - 1] };
        let between =
            |sorted: &[i64]| (sorted.partition_point(|&x| x < at) - sorted.partition_point(|&x| x < previous)) as u64;
        points.push(BacklogPoint {
            at,
            count: open_count.max(0) as u64,
            age_buckets,
            hours_of_work,
            by_priority: by_priority
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(p, n)| (p.as_str().to_owned(), *n as u64))
                .collect(),
            by_team: by_team.iter().filter(|(_, n)| **n > 0).map(|(t, n)| (t.to_string(), *n as u64)).collect(),
            inflow: between(&created),
            outflow: between(&resolutions),
        });
    }
    points
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;
    use crate::ticket::Status;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + seconds).expect("valid")
    }

    /// One ticket: created, then alternating solved / reopened at the given offsets.
    fn history(created: i64, moves: &[i64]) -> Vec<StatusSince> {
        let mut entries = vec![StatusSince { status: Status::New, since: at(created) }];
        let mut t = created;
        for (idx, step) in moves.iter().enumerate() {
            t += step;
            let status = if idx % 2 == 0 { Status::Solved } else { Status::Open };
            entries.push(StatusSince { status, since: at(t) });
        }
        entries
    }

    proptest! {
        /// Each point counts, by brute force, the tickets whose status at that instant is open.
        #[test]
        fn each_point_is_the_backlog_at_its_instant(
            specs in prop::collection::vec((0i64..2_000_000, prop::collection::vec(1i64..400_000, 0..4), 0usize..3), 0..60),
            instants in prop::collection::btree_set(0i64..3_000_000, 1..12),
        ) {
            let histories: Vec<Vec<StatusSince>> = specs.iter().map(|(c, moves, _)| history(*c, moves)).collect();
            let teams = ["a", "b", "c"];
            let tickets: Vec<PastTicket<'_>> = specs
                .iter()
                .zip(&histories)
                .map(|((created, _, team), history)| PastTicket {
                    created_at: at(*created).as_microsecond(),
                    resolved_at: history.last().filter(|e| !e.status.is_open()).map(|e| e.since.as_microsecond()),
                    status_history: history,
                    category: teams[*team],
                    team: teams[*team],
                    priority: Priority::P3,
                })
                .collect();
            let instants: Vec<i64> = instants.iter().map(|s| at(*s).as_microsecond()).collect();
            let points = backlog_series(&tickets, &instants, 3_600_000_000, |c| (c == "a").then_some(30.0));
            for point in &points {
                let open: Vec<&PastTicket<'_>> = tickets
                    .iter()
                    .filter(|t| {
                        t.status_history.iter().rev().find(|e| e.since.as_microsecond() <= point.at).is_some_and(|e| e.status.is_open())
                    })
                    .collect();
                prop_assert_eq!(point.count, open.len() as u64);
                let mut buckets = [0u64; 5];
                for ticket in &open {
                    let age = point.at - ticket.created_at;
                    let idx = AGE_BUCKETS.iter().rposition(|(_, lower)| age >= lower * 1_000_000).unwrap_or(0);
                    buckets[idx] += 1;
                }
                prop_assert_eq!(point.age_buckets, buckets);
                let in_a = open.iter().filter(|t| t.category == "a").count();
                prop_assert!((point.hours_of_work - in_a as f64 * 0.5).abs() < 1e-9);
                prop_assert_eq!(point.by_team.values().sum::<u64>(), open.len() as u64);
            }
        }
    }
}
