//! Recurring problems: the daily volume of a cluster of similar tickets, whether its last day
//! jumps above its usual level (a probable root cause: "a bug producing 50 tickets a day"), and
//! the clusters that came back most over the last weeks.
//!
//! The usual level is the median of the cluster's daily counts over the days before, and the
//! jump is measured in robust standard deviations (1.4826 × the median absolute deviation):
//! one burst in the history does not raise the bar the way a mean and a standard deviation
//! would. Most clusters are quiet on most days (a median and a MAD of 0), so the spread has a
//! floor, the Poisson noise of the usual level (its square root, and at least 1): 5 tickets
//! out of nowhere score 5, 50 score 50.
//!
//! **Architecture Invariant:** pure: counts in, verdicts out.

/// Days of history a cluster is measured over: the last 24 hours and the 27 days before.
pub const WINDOW_DAYS: usize = 28;

/// The fewest days before the last that make a usual level: a younger history says nothing.
pub const MIN_HISTORY_DAYS: usize = 7;

/// A cluster's arrivals per day.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterVolume {
    /// The cluster's identity (its first ticket).
    pub id: String,
    /// Its most telling words.
    pub name: String,
    /// Tickets created per 24 hours, `[0]` the last 24 hours, `[k]` the 24 hours `k` days
    /// before; [`WINDOW_DAYS`] long.
    pub daily: Vec<u32>,
    /// How many of `daily`'s days the history covers (the days before the first ticket known
    /// are not zeros, they are unknown).
    pub known_days: usize,
    /// A few of its latest tickets.
    pub samples: Vec<String>,
    /// Its tickets of the last 24 hours, the latest first, at most [`MAX_RECENT`]: what tells
    /// one spike from another when the cluster's identity moved (its oldest ticket left the
    /// window, two clusters joined).
    pub recent: Vec<String>,
}

/// The most tickets of the last 24 hours a [`ClusterVolume`] names.
pub const MAX_RECENT: usize = 200;

/// A day above the usual level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Tickets of the last 24 hours.
    pub last_day: u32,
    /// The median day before.
    pub usual: f64,
    /// How far above the usual, in robust standard deviations.
    pub score: f64,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// The last day of `volume` against the days before it; `None` when fewer than
/// [`MIN_HISTORY_DAYS`] days before it are known.
pub fn spike(volume: &ClusterVolume) -> Option<Spike> {
    let known = volume.known_days.min(volume.daily.len());
    if known < MIN_HISTORY_DAYS + 1 {
        return None;
    }
    let last_day = volume.daily[0];
    let mut before: Vec<f64> = volume.daily[1..known].iter().map(|&n| f64::from(n)).collect();
    before.sort_by(f64::total_cmp);
    let usual = median(&before);
    let mut deviations: Vec<f64> = before.iter().map(|n| (n - usual).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let spread = (1.4826 * median(&deviations)).max(usual.sqrt()).max(1.0);
    Some(Spike { last_day, usual, score: (f64::from(last_day) - usual) / spread })
}

/// A cluster among those that came back most.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurring<'a> {
    /// Its place among the clusters given.
    pub at: usize,
    pub volume: &'a ClusterVolume,
    /// Tickets over the window.
    pub total: u64,
    /// Tickets per week, `[0]` the last 7 days.
    pub weekly: [u64; 4],
}

/// The `most` clusters with the most tickets over the last four weeks (ties by identity), each
/// with its weekly counts.
pub fn top_recurring<'a>(clusters: impl IntoIterator<Item = &'a ClusterVolume>, most: usize) -> Vec<Recurring<'a>> {
    let mut ranked: Vec<Recurring<'a>> = clusters
        .into_iter()
        .enumerate()
        .map(|(at, volume)| {
            let mut weekly = [0u64; 4];
            for (day, &n) in volume.daily.iter().take(WINDOW_DAYS).enumerate() {
                weekly[day / 7] += u64::from(n);
            }
            Recurring { at, volume, total: weekly.iter().sum(), weekly }
        })
        .filter(|r| r.total > 0)
        .collect();
    ranked.sort_by(|x, y| y.total.cmp(&x.total).then_with(|| x.volume.id.cmp(&y.volume.id)));
    ranked.truncate(most);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(daily: &[u32], known_days: usize) -> ClusterVolume {
        ClusterVolume {
            id: "T-1".into(),
            name: "n".into(),
            daily: daily.to_vec(),
            known_days,
            samples: Vec::new(),
            recent: Vec::new(),
        }
    }

    #[test]
    fn a_burst_out_of_nowhere_scores_high_and_a_steady_flow_does_not() {
        let mut daily = vec![0; WINDOW_DAYS];
        daily[0] = 27;
        let s = spike(&volume(&daily, WINDOW_DAYS)).expect("history");
        assert_eq!((s.last_day, s.usual, s.score), (27, 0.0, 27.0));

        // Ten a day, give or take: eleven today is nothing.
        let steady: Vec<u32> = (0..WINDOW_DAYS as u32).map(|d| if d == 0 { 11 } else { 8 + d % 5 }).collect();
        let s = spike(&volume(&steady, WINDOW_DAYS)).expect("history");
        assert_eq!(s.usual, 10.0);
        assert!(s.score < 1.0, "{s:?}");
        // Forty today is.
        let mut burst = steady.clone();
        burst[0] = 40;
        assert!(spike(&volume(&burst, WINDOW_DAYS)).expect("history").score > 8.0);
    }

    #[test]
    fn one_old_burst_does_not_raise_the_bar() {
        let mut daily = vec![1; WINDOW_DAYS];
        daily[10] = 200;
        daily[0] = 12;
        let s = spike(&volume(&daily, WINDOW_DAYS)).expect("history");
        assert_eq!(s.usual, 1.0);
        assert_eq!(s.score, 11.0);
    }

    #[test]
    fn a_short_history_says_nothing() {
        let mut daily = vec![0; WINDOW_DAYS];
        daily[0] = 50;
        assert_eq!(spike(&volume(&daily, MIN_HISTORY_DAYS)), None);
        assert!(spike(&volume(&daily, MIN_HISTORY_DAYS + 1)).is_some());
        assert_eq!(spike(&volume(&[], 0)), None);
    }

    #[test]
    fn top_recurring_ranks_by_four_weeks() {
        let mut a = volume(&[0; WINDOW_DAYS], WINDOW_DAYS);
        a.daily[3] = 5;
        a.daily[20] = 5;
        let mut b = volume(&[0; WINDOW_DAYS], WINDOW_DAYS);
        b.id = "T-2".into();
        b.daily[0] = 4;
        let quiet = ClusterVolume { id: "T-3".into(), ..volume(&[0; WINDOW_DAYS], WINDOW_DAYS) };
        let clusters = [b, quiet, a];
        let top = top_recurring(&clusters, 5);
        assert_eq!(top.iter().map(|r| r.volume.id.as_str()).collect::<Vec<_>>(), ["T-1", "T-2"]);
        assert_eq!(top[0].weekly, [5, 0, 5, 0]);
        assert_eq!(top[0].total, 10);
        assert_eq!(top_recurring(&clusters, 1).len(), 1);
    }
}
