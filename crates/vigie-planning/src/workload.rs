//! Staffing for e-mail and back office: work that waits in a backlog, due within an SLA
//! horizon, rather than calls that must be answered in seconds (Erlang C does not apply).
//!
//! The model is the fluid one with deadlines. Each interval's tickets bring `count × AHT` hours
//! of work, released at the interval's start and due `sla` after its middle. The backlog at
//! the start brings its hours, due `sla` after the start. The SLA counts open hours (business
//! time, as vigie's SLAs do) or, when asked, calendar hours. An agent on duty does `1 − shrinkage`
//! hours of work per hour within the opening hours, and nothing outside them. Working earliest
//! deadline first (the same as oldest first here, since every ticket has the same horizon),
//! `N` agents meet every deadline iff, for every window of intervals `a..=i`, the work released
//! in it fits in the productive hours between its release and its deadline:
//!
//! `N ≥ W(a..=i) / (P(deadline_i) − P(start_a))`
//!
//! (the backlog counts in every window that starts at the first interval). The hours needed
//! per interval are the largest such ratio over the windows ending there. The plan is their
//! maximum, with the interval where it binds. Every window counts, found without trying them
//! all (`window_needs`: a convex hull, O(n log n); two years of quarter hours in 0.1 s), and a
//! property test holds it to trying them all.

/// Hours a week the team is open, as minutes of the week from Monday 00:00 UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenHours {
    /// Sorted, non-overlapping [start, end) in minutes of the week.
    windows: Vec<(u32, u32)>,
}

const WEEK: i64 = 7 * 1440;

impl OpenHours {
    /// Always open.
    pub fn always() -> OpenHours {
        OpenHours { windows: vec![(0, WEEK as u32)] }
    }

    /// From (days, start minute, end minute) triples; an end at or before the start runs to
    /// the next day.
    pub fn from_days(spans: &[(Vec<usize>, u32, u32)]) -> OpenHours {
        let mut minutes = vec![false; WEEK as usize];
        for (days, start, end) in spans {
            let end = if end <= start { end + 1440 } else { *end };
            for day in days {
                for m in *start..end {
                    minutes[(day * 1440 + m as usize) % WEEK as usize] = true;
                }
            }
        }
        let mut windows = Vec::new();
        let mut m = 0;
        while m < minutes.len() {
            if minutes[m] {
                let run = minutes[m..].iter().take_while(|open| **open).count();
                windows.push((m as u32, (m + run) as u32));
                m += run;
            } else {
                m += 1;
            }
        }
        OpenHours { windows }
    }

    /// Open minutes a week.
    pub fn minutes_a_week(&self) -> u32 {
        self.windows.iter().map(|(a, b)| b - a).sum()
    }

    /// Open minutes from the Monday before the epoch to `at`: a running total whose
    /// differences are the open time between two instants.
    fn open_before(&self, at: i64) -> f64 {
        let minutes = (at - crate::simulate::scenario::week_start(0)) as f64 / 60.0;
        let weeks = (minutes / WEEK as f64).floor();
        let within = minutes - weeks * WEEK as f64;
        let partial: f64 = self.windows.iter().map(|(a, b)| (within.min(f64::from(*b)) - f64::from(*a)).max(0.0)).sum();
        weeks * f64::from(self.minutes_a_week()) + partial
    }
}

/// What the plan needs.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadParams {
    pub aht_minutes: f64,
    /// Each ticket is due this long after it arrives (calendar minutes).
    pub sla_minutes: f64,
    /// The share of an agent's open hours not spent on tickets, in [0, 1).
    pub shrinkage: f64,
    /// Hours of work already waiting at the start.
    pub backlog_hours: f64,
    /// The SLA counts only the open hours (business time); otherwise calendar time.
    pub sla_in_open_hours: bool,
    pub interval_seconds: i64,
    pub open: OpenHours,
}

/// One interval of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadRow {
    pub start: i64,
    pub count: u64,
    pub work_hours: f64,
    /// Epoch seconds by which its tickets are due.
    pub due: i64,
    /// Agents on duty (with shrinkage) the deadlines of the windows ending here need.
    pub agents: f64,
    /// Where the window that needs them starts (an index of the rows).
    pub window_start: usize,
}

/// The plan.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadPlan {
    pub rows: Vec<WorkloadRow>,
    /// Agents on duty in the opening hours to meet every deadline (a whole number).
    pub agents: u64,
    /// The interval whose deadline binds (none when nothing is to be done).
    pub binding: Option<usize>,
    /// Work the deadlines leave no open hour for: due before the team opens again.
    pub impossible: Option<usize>,
    /// Agents the backlog alone needs by its own deadline, and that deadline.
    pub backlog_agents: f64,
    pub backlog_due: Option<i64>,
}

impl OpenHours {
    /// The instant `minutes` of open time after `from` (the first, if open time runs out
    /// exactly there).
    fn after_open_minutes(&self, from: i64, minutes: f64) -> i64 {
        let target = self.open_before(from) + minutes;
        let weekly = f64::from(self.minutes_a_week()).max(1.0);
        // Within whole weeks plus one of the answer.
        let (mut low, mut high) = (from, from + (((minutes / weekly).ceil() as i64) + 1) * WEEK * 60);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.open_before(mid) >= target { high = mid } else { low = mid }
        }
        high
    }
}

/// Plans a series of (interval start in epoch seconds, count).
pub fn plan(series: &[(i64, u64)], params: &WorkloadParams) -> WorkloadPlan {
    let productive = 1.0 - params.shrinkage;
    let half = params.interval_seconds / 2;
    let due = |from: i64| {
        if params.sla_in_open_hours {
            params.open.after_open_minutes(from, params.sla_minutes)
        } else {
            from.saturating_add((params.sla_minutes * 60.0).round() as i64)
        }
    };
    let mut rows: Vec<WorkloadRow> = series
        .iter()
        .map(|(start, count)| WorkloadRow {
            start: *start,
            count: *count,
            work_hours: *count as f64 * params.aht_minutes / 60.0,
            due: due(start + half),
            agents: 0.0,
            window_start: 0,
        })
        .collect();
    // Productive hours per agent before each instant.
    let hours_before = |at: i64| params.open.open_before(at) / 60.0 * productive;
    let released: Vec<f64> = rows.iter().map(|r| hours_before(r.start)).collect();
    let deadline: Vec<f64> = rows.iter().map(|r| hours_before(r.due)).collect();
    let mut prefix = Vec::with_capacity(rows.len() + 1);
    prefix.push(0.0);
    for row in &rows {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + row.work_hours);
    }
    let mut impossible = None;
    let needs = window_needs(&prefix, &released, &deadline, params.backlog_hours);
    for (i, (need, from, blocked)) in needs.into_iter().enumerate() {
        if blocked {
            impossible.get_or_insert(i);
        }
        rows[i].agents = need;
        rows[i].window_start = from;
    }
    let binding = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.agents > 0.0)
        .max_by(|a, b| a.1.agents.total_cmp(&b.1.agents))
        .map(|(i, _)| i);
    // The backlog alone, by its own deadline (the windows above give it the first interval's).
    let (mut backlog_agents, mut backlog_due) = (0.0, None);
    if let (Some(first), true) = (rows.first(), params.backlog_hours > 0.0) {
        let by = due(first.start);
        let capacity = hours_before(by) - hours_before(first.start);
        backlog_due = Some(by);
        if capacity > 1e-12 {
            backlog_agents = params.backlog_hours / capacity;
        } else {
            impossible.get_or_insert(0);
        }
    }
    let most = binding.map_or(0.0, |i| rows[i].agents).max(backlog_agents);
    // A whole number of agents; 1e-9 absorbs the float error of a ratio that is whole.
    let agents = (most - 1e-9).ceil().max(0.0) as u64;
    WorkloadPlan { rows, agents, binding, impossible, backlog_agents, backlog_due }
}

/// For each interval i, the largest work / capacity ratio over the windows a..=i, where
/// window a..=i holds `prefix[i + 1] − prefix[a]` hours (plus the backlog when a = 0) and
/// `deadline[i] − released[a]` productive hours; with the a of that window, and whether some
/// window with work has no capacity at all.
///
/// The ratio is the slope from the point (released[a], prefix[a]) (the backlog lowers the
/// first one) to (deadline[i], prefix[i + 1]), which lies to the right of every point with
/// capacity: the steepest is a vertex of the points' lower convex hull, where the slope is
/// unimodal, so a binary search finds it. Points enter the hull as the deadlines pass their
/// release (both only grow): O(n log n) in all, where trying every window is O(n²).
fn window_needs(prefix: &[f64], released: &[f64], deadline: &[f64], backlog: f64) -> Vec<(f64, usize, bool)> {
    const TINY: f64 = 1e-12;
    let n = released.len();
    let point = |a: usize| (released[a], prefix[a] - if a == 0 { backlog } else { 0.0 });
    let cross = |o: (f64, f64), p: (f64, f64), q: (f64, f64)| (p.0 - o.0) * (q.1 - o.1) - (p.1 - o.1) * (q.0 - o.0);
    let mut hull: Vec<usize> = Vec::new();
    let mut added = 0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let target = (deadline[i], prefix[i + 1]);
        // Every window start whose release is before this deadline can count.
        while added <= i && released[added] < target.0 - TINY {
            let p = point(added);
            // Same release, higher point: never the steepest.
            if hull.last().is_none_or(|&h| point(h).0 < p.0) {
                while hull.len() >= 2 && cross(point(hull[hull.len() - 2]), point(hull[hull.len() - 1]), p) <= 0.0 {
                    hull.pop();
                }
                hull.push(added);
            } else if let Some(last) = hull.last_mut()
                && point(*last).1 > p.1
            {
                *last = added;
            }
            added += 1;
        }
        // A window starting at a release with no open time before the deadline, and work in it.
        let blocked = added <= i && (target.1 - point(added).1) > 0.0;
        let slope = |k: usize| {
            let q = point(hull[k]);
            (target.1 - q.1) / (target.0 - q.0)
        };
        let (mut low, mut high) = (0usize, hull.len().saturating_sub(1));
        while low < high {
            let mid = (low + high) / 2;
            if slope(mid) < slope(mid + 1) { low = mid + 1 } else { high = mid }
        }
        match hull.get(low) {
            Some(&a) if slope(low) > 0.0 => out.push((slope(low), a, blocked)),
            _ => out.push((0.0, i, blocked)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: i64 = 1_772_409_600; // 2026-03-02T00:00:00Z

    fn params(open: OpenHours) -> WorkloadParams {
        WorkloadParams {
            aht_minutes: 60.0,
            sla_minutes: 24.0 * 60.0,
            shrinkage: 0.0,
            backlog_hours: 0.0,
            sla_in_open_hours: false,
            interval_seconds: 86_400,
            open,
        }
    }

    /// Every window tried: the definition the fast search must agree with.
    fn brute(prefix: &[f64], released: &[f64], deadline: &[f64], backlog: f64) -> Vec<f64> {
        (0..released.len())
            .map(|i| {
                (0..=i)
                    .filter_map(|a| {
                        let work = prefix[i + 1] - prefix[a] + if a == 0 { backlog } else { 0.0 };
                        let capacity = deadline[i] - released[a];
                        (work > 0.0 && capacity > 1e-12).then(|| work / capacity)
                    })
                    .fold(0.0, f64::max)
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn the_hull_search_finds_what_every_window_says(
            steps in proptest::collection::vec((0u8..4, 0u8..20), 1..60),
            sla in 1u8..6,
            backlog in 0u8..30,
        ) {
            // Releases that stall (closed hours) and deadlines a few steps later.
            let mut released = Vec::new();
            let mut prefix = vec![0.0];
            let mut at = 0.0;
            for (open, work) in &steps {
                released.push(at);
                at += f64::from(*open);
                prefix.push(prefix.last().copied().unwrap_or(0.0) + f64::from(*work));
            }
            let deadline: Vec<f64> = (0..released.len())
                .map(|i| released.get(i + usize::from(sla)).copied().unwrap_or(at + f64::from(sla)))
                .collect();
            let fast = window_needs(&prefix, &released, &deadline, f64::from(backlog));
            let slow = brute(&prefix, &released, &deadline, f64::from(backlog));
            for (i, ((need, _, _), expected)) in fast.iter().zip(&slow).enumerate() {
                proptest::prop_assert!((need - expected).abs() <= 1e-9 * expected.max(1.0), "interval {}: {} vs {}", i, need, expected);
            }
        }
    }

    #[test]
    fn no_work_needs_no_agent() {
        let p = plan(&[(MONDAY, 0), (MONDAY + 86_400, 0)], &params(OpenHours::always()));
        assert_eq!((p.agents, p.binding), (0, None));
    }

    #[test]
    fn a_day_of_work_due_in_a_day_and_a_half_needs_what_fits() {
        // 36 hours of work on Monday (36 tickets of an hour), due Tuesday 12:00 (middle of
        // Monday + 24 h): 36 hours of open time for one agent always open, 1 agent.
        let p = plan(&[(MONDAY, 36)], &params(OpenHours::always()));
        assert_eq!(p.agents, 1);
        // Open 08:00–16:00 every day: Monday 8 h + Tuesday 08:00–12:00 4 h = 12 h: 3 agents.
        let office = OpenHours::from_days(&[((0..7).collect(), 8 * 60, 16 * 60)]);
        assert_eq!(plan(&[(MONDAY, 36)], &params(office.clone())).agents, 3);
        // With 25 % shrinkage, 36 / (12 × 0.75) = 4.
        let mut shrunk = params(office);
        shrunk.shrinkage = 0.25;
        assert_eq!(plan(&[(MONDAY, 36)], &shrunk).agents, 4);
    }

    #[test]
    fn the_backlog_counts_in_every_window_from_the_start() {
        let mut p = params(OpenHours::always());
        p.backlog_hours = 36.0;
        // 36 h of backlog and 36 h of Monday's work by Tuesday noon (36 h): 2 agents.
        assert_eq!(plan(&[(MONDAY, 36)], &p).agents, 2);
    }

    #[test]
    fn the_backlog_alone_is_due_one_sla_after_the_start() {
        // 36 h of backlog due 24 h after the start, no arrivals: 2 agents (not 1 by the first
        // interval's later deadline).
        let mut p = params(OpenHours::always());
        p.backlog_hours = 36.0;
        let plan = plan(&[(MONDAY, 0), (MONDAY + 86_400, 0)], &p);
        assert_eq!(plan.agents, 2);
        assert_eq!(plan.backlog_due, Some(MONDAY + 86_400));
    }

    #[test]
    fn an_sla_in_open_hours_runs_only_while_the_team_works() {
        // Open 09:00-17:00 on weekdays, an SLA of 8 open hours: Friday's tickets (middle at
        // Friday 12:00) are due Monday 12:00, not on Saturday.
        let office = OpenHours::from_days(&[((0..5).collect(), 9 * 60, 17 * 60)]);
        let mut p = params(office);
        p.sla_minutes = 8.0 * 60.0;
        p.sla_in_open_hours = true;
        let friday = MONDAY + 4 * 86_400;
        let plan = plan(&[(friday, 8)], &p);
        assert_eq!(plan.rows[0].due, MONDAY + 7 * 86_400 + 12 * 3600);
        // 8 h of work in the 11 open hours from Friday 00:00 to Monday 12:00: 1 agent.
        assert_eq!(plan.agents, 1);
        assert_eq!(plan.impossible, None);
    }

    #[test]
    fn the_tightest_window_binds_not_the_whole_series() {
        // A quiet week with one busy Wednesday: the Wednesday binds.
        let series: Vec<(i64, u64)> = (0..7).map(|d| (MONDAY + d * 86_400, if d == 2 { 72 } else { 6 })).collect();
        let p = plan(&series, &params(OpenHours::always()));
        assert_eq!(p.binding, Some(2));
        // Wednesday's 72 h, due Thursday noon; released Wednesday 00:00: 36 h: 2 agents.
        assert_eq!(p.agents, 2);
    }

    #[test]
    fn work_due_before_the_team_opens_is_said() {
        // Open on weekdays only; Saturday's tickets are due Sunday noon.
        let weekdays = OpenHours::from_days(&[((0..5).collect(), 9 * 60, 17 * 60)]);
        let p = plan(&[(MONDAY + 5 * 86_400, 3)], &params(weekdays));
        assert_eq!(p.impossible, Some(0));
    }

    #[test]
    fn open_time_is_counted_across_weeks() {
        let office = OpenHours::from_days(&[((0..5).collect(), 9 * 60, 17 * 60)]);
        assert_eq!(office.minutes_a_week(), 5 * 8 * 60);
        let week = office.open_before(MONDAY + 7 * 86_400) - office.open_before(MONDAY);
        assert_eq!(week, 2400.0);
        let monday_morning = office.open_before(MONDAY + 12 * 3600) - office.open_before(MONDAY);
        assert_eq!(monday_morning, 180.0);
        // An overnight span wraps into the next day and from Sunday into Monday.
        let night = OpenHours::from_days(&[(vec![6], 22 * 60, 6 * 60)]);
        assert_eq!(night.minutes_a_week(), 8 * 60);
    }
}
