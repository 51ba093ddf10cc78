//! Replications summarised: for each class and `ALL`, each metric's mean, sample sd (n − 1)
//! and 95 % confidence interval mean ± t(0.975, n − 1)·sd/√n over the replications where it is
//! defined (`shared/bench/sim_common.py`'s `summarize`); the open tickets day by day; when the
//! backlog gets back under the threshold; the outsourced hours.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::engine::{Outcome, Replication};
use super::scenario::Scenario;

/// The metrics, in the order of the peers' output.
pub const METRICS: [&str; 5] = ["mean_wait", "p90_wait", "sla_share", "backlog_end", "arrived"];

/// One metric over the replications. NaN where undefined (fewer than two values for the sd
/// and the interval, none for the mean).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
    pub lo: f64,
    pub hi: f64,
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

impl Stat {
    /// The statistic of the defined (non-NaN) values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stat {
        let values: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
        let n = values.len();
        let mean = if n == 0 { f64::NAN } else { values.iter().sum::<f64>() / n as f64 };
        if n < 2 {
            return Stat { mean, sd: f64::NAN, n, lo: f64::NAN, hi: f64::NAN };
        }
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let half = t975(n - 1) * sd / (n as f64).sqrt();
        Stat { mean, sd, n, lo: mean - half, hi: mean + half }
    }
}

/// A class's (or `ALL`'s) metrics, in [`METRICS`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    pub name: String,
    pub metrics: [Stat; 5],
}

impl ClassSummary {
    fn of(name: &str, outcomes: &[&Outcome]) -> ClassSummary {
        let stat = |f: fn(&Outcome) -> f64| Stat::of(outcomes.iter().map(|o| f(o)));
        ClassSummary {
            name: name.to_owned(),
            metrics: [
                stat(|o| o.mean_wait),
                stat(|o| o.p90_wait),
                stat(|o| o.sla_share),
                stat(|o| o.backlog_end as f64),
                stat(|o| o.arrived as f64),
            ],
        }
    }
}

/// The open tickets after `day` days, across the replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayBand {
    pub day: usize,
    /// Minutes after the start: `day` days, or the horizon for the last band.
    pub minute: f64,
    /// The mean over the replications of the most tickets open at once during the day that
    /// starts here (NaN for the last band, at the horizon).
    pub peak_mean: f64,
    pub mean: f64,
    /// Nearest-rank 10th and 90th percentiles: eight replications in ten fall in between.
    pub p10: f64,
    pub p90: f64,
}

/// When the open tickets first got back at or below the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdSummary {
    pub threshold: u64,
    /// Replications where it happened within the horizon, of all.
    pub reached: usize,
    pub replications: usize,
    /// Minutes after the start, over the replications where it happened: median, and the
    /// 10th and 90th percentiles.
    pub median_minutes: f64,
    pub p10_minutes: f64,
    pub p90_minutes: f64,
    /// The first time back at or below after being above: in how many replications, and the
    /// median over those.
    pub first_back: usize,
    pub first_back_median_minutes: f64,
    /// Replications that were above it at some point.
    pub ever_above: usize,
}

/// An outsourcing contract's use.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractSummary {
    pub name: String,
    pub agent_hours: Stat,
}

/// Everything a policy's replications say.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySummary {
    /// The classes in the scenario's order, then `ALL`.
    pub classes: Vec<ClassSummary>,
    pub daily: Vec<DayBand>,
    pub threshold: Option<ThresholdSummary>,
    pub outsourcing: Vec<ContractSummary>,
    /// The share of the crew's time on duty (shifts and overtime) spent on tickets.
    pub utilisation: Stat,
    /// Agent-hours worked past a shift's end, finishing the ticket in hand.
    pub overtime_hours: Stat,
}

/// Nearest-rank percentile `p` of sorted values.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl PolicySummary {
    pub fn of(scenario: &Scenario, replications: &[Replication]) -> PolicySummary {
        let mut classes: Vec<ClassSummary> = scenario
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| ClassSummary::of(&c.name, &replications.iter().map(|r| &r.classes[i]).collect::<Vec<_>>()))
            .collect();
        classes.push(ClassSummary::of("ALL", &replications.iter().map(|r| &r.all).collect::<Vec<_>>()));

        let days = replications.iter().map(|r| r.open_by_day.len()).min().unwrap_or(0);
        let daily = (0..days)
            .map(|day| {
                let mut values: Vec<f64> = replications.iter().map(|r| r.open_by_day[day] as f64).collect();
                values.sort_by(f64::total_cmp);
                let peaks: Vec<f64> =
                    replications.iter().filter_map(|r| r.peak_by_day.get(day)).map(|p| *p as f64).collect();
                DayBand {
                    day,
                    minute: (day as f64 * 1440.0).min(scenario.horizon()),
                    peak_mean: if peaks.is_empty() { f64::NAN } else { peaks.iter().sum::<f64>() / peaks.len() as f64 },
                    mean: values.iter().sum::<f64>() / values.len() as f64,
                    p10: nearest_rank(&values, 0.1),
                    p90: nearest_rank(&values, 0.9),
                }
            })
            .collect();

        let threshold = scenario.backlog_threshold.map(|threshold| {
            let mut reached: Vec<f64> = replications.iter().filter_map(|r| r.under_threshold_at).collect();
            reached.sort_by(f64::total_cmp);
            let mut back: Vec<f64> = replications.iter().filter_map(|r| r.first_back_under_at).collect();
            back.sort_by(f64::total_cmp);
            let ever_above = replications
                .iter()
                .filter(|r| r.first_back_under_at.is_some() || r.under_threshold_at.is_none_or(|t| t > 0.0))
                .count();
            ThresholdSummary {
                threshold,
                reached: reached.len(),
                replications: replications.len(),
                median_minutes: nearest_rank(&reached, 0.5),
                p10_minutes: nearest_rank(&reached, 0.1),
                p90_minutes: nearest_rank(&reached, 0.9),
                first_back: back.len(),
                first_back_median_minutes: nearest_rank(&back, 0.5),
                ever_above,
            }
        });
        let outsourcing = scenario
            .outsourcing
            .iter()
            .enumerate()
            .map(|(i, contract)| ContractSummary {
                name: contract.name.clone(),
                agent_hours: Stat::of(replications.iter().map(|r| r.outsourced_agent_minutes[i] / 60.0)),
            })
            .collect();
        let utilisation = Stat::of(replications.iter().map(|r| {
            let on_duty = r.on_duty_minutes + r.overtime_minutes;
            if on_duty > 0.0 { r.busy_minutes / on_duty } else { f64::NAN }
        }));
        let overtime_hours = Stat::of(replications.iter().map(|r| r.overtime_minutes / 60.0));
        PolicySummary { classes, daily, threshold, outsourcing, utilisation, overtime_hours }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_uses_students_t() {
        // Three values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653.
        let stat = Stat::of([1.0, 2.0, 3.0]);
        assert_eq!((stat.mean, stat.sd, stat.n), (2.0, 1.0, 3));
        let half = 4.302_652_729_911_275 / 3f64.sqrt();
        assert!((stat.lo - (2.0 - half)).abs() < 1e-9, "{stat:?}");
        assert!((stat.hi - (2.0 + half)).abs() < 1e-9, "{stat:?}");
    }

    #[test]
    fn undefined_values_are_left_out_and_one_value_has_no_interval() {
        let stat = Stat::of([f64::NAN, 5.0]);
        assert_eq!((stat.mean, stat.n), (5.0, 1));
        assert!(stat.sd.is_nan() && stat.lo.is_nan() && stat.hi.is_nan());
        assert!(Stat::of([]).mean.is_nan());
    }

    #[test]
    fn nearest_rank_takes_the_ceiling_rank() {
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&sorted, 0.9), 9.0);
        assert_eq!(nearest_rank(&sorted, 0.1), 1.0);
        assert_eq!(nearest_rank(&sorted[..1], 0.9), 1.0);
    }
}
