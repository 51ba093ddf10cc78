//! Erlang C staffing per interval, for live channels (M/M/N, each interval in steady state):
//! the agents needed so that a share of contacts waits at most T, under an occupancy cap, then
//! grossed up for shrinkage.
//!
//! Definitions (those of `shared/bench/erlangc_reference.py`, the W2 oracle):
//! - offered load `A = count × AHT / interval length`, an exact rational;
//! - Erlang B by the stable forward recursion `B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))`;
//!   Erlang C `C(n) = n·B(n) / (n − A·(1 − B(n)))` for `n > A` (1 otherwise);
//! - service level `SL(n) = 1 − C(n)·exp(−(n − A)·T / AHT)`;
//! - raw agents `max(n_SL, n_occ)`: `n_SL` the least `n > A` with `SL(n) ≥ target`, `n_occ =
//!   ceil(A / max occupancy)`;
//! - with shrinkage `ceil(raw / (1 − shrinkage))`, both ceilings on exact rationals (`21 / 0.7`
//!   is 30; pyworkforce's binary floats say 31);
//! - no arrivals: no agent.
//!
//! The recursion never overflows or loses precision as `n` grows (B stays in (0, 1]): a
//! thousand agents and more are computed as exactly as ten.

use crate::ratio::{Ratio, ceil_div};

/// What the staffing aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingParams {
    pub aht_seconds: Ratio,
    pub interval_minutes: Ratio,
    /// The share of contacts answered within `target_seconds`, in (0, 1].
    pub target_sl: Ratio,
    pub target_seconds: Ratio,
    /// The share of paid time not on contacts (breaks, training...), in [0, 1).
    pub shrinkage: Ratio,
    /// The most agents may be busy, in (0, 1].
    pub max_occupancy: Ratio,
}

/// The most agents an interval may need before the search gives up (a typo in the inputs).
pub const MAX_AGENTS: u64 = 10_000_000;

impl StaffingParams {
    /// Every problem, as (parameter, reason).
    pub fn check(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let one = |r: Ratio| r.num.cmp(&r.den);
        if self.aht_seconds.is_zero() {
            problems.push(("aht-seconds", "must be above 0".to_owned()));
        }
        if self.interval_minutes.is_zero() {
            problems.push(("interval-minutes", "must be above 0".to_owned()));
        }
        if self.target_sl.is_zero() || one(self.target_sl).is_gt() {
            problems.push(("target-sl", "must be a share above 0 and at most 1 (such as 0.8)".to_owned()));
        }
        if one(self.shrinkage).is_ge() {
            problems.push(("shrinkage", "must be a share from 0 to below 1 (such as 0.3)".to_owned()));
        }
        if self.max_occupancy.is_zero() || one(self.max_occupancy).is_gt() {
            problems.push(("max-occupancy", "must be a share above 0 and at most 1 (such as 0.85)".to_owned()));
        }
        problems
    }
}

/// What decided the raw agents of an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// No arrivals.
    None,
    ServiceLevel,
    Occupancy,
}

impl Binding {
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::None => "none",
            Binding::ServiceLevel => "service_level",
            Binding::Occupancy => "occupancy",
        }
    }
}

/// The staffing of one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalStaffing {
    pub count: u64,
    /// Offered load, in Erlangs.
    pub intensity: f64,
    /// Agents on contacts (productive).
    pub raw: u64,
    /// Agents to schedule.
    pub with_shrinkage: u64,
    /// Achieved with the raw agents: the service level, the occupancy, P(wait > 0).
    pub service_level: f64,
    pub occupancy: f64,
    pub waiting_probability: f64,
    pub binding: Binding,
}

/// Why an interval cannot be staffed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooMany {
    pub agents_searched: u64,
}

/// The least `n > A` whose service level reaches `target`.
fn n_for_service_level(a: f64, target: f64, t_over_aht: f64) -> Result<u64, TooMany> {
    // More Erlangs than agents searched (or not a number): no staffing to find.
    if a.is_nan() || a >= MAX_AGENTS as f64 {
        return Err(TooMany { agents_searched: MAX_AGENTS });
    }
    let mut b = 1.0f64;
    let n_min = a.floor() as u64 + 1;
    let mut n = 0u64;
    loop {
        n += 1;
        if n > MAX_AGENTS {
            return Err(TooMany { agents_searched: MAX_AGENTS });
        }
        let nf = n as f64;
        b = a * b / (nf + a * b);
        if n < n_min {
            continue;
        }
        let c = nf * b / (nf - a * (1.0 - b));
        let sl = 1.0 - c * (-(nf - a) * t_over_aht).exp();
        if sl >= target {
            return Ok(n);
        }
    }
}

/// Service level, occupancy and P(wait > 0) with `n` agents.
fn achieved(n: u64, a: f64, t_over_aht: f64) -> (f64, f64, f64) {
    if n == 0 || a <= 0.0 {
        return (1.0, 0.0, 0.0);
    }
    let mut b = 1.0f64;
    for k in 1..=n {
        b = a * b / (k as f64 + a * b);
    }
    let nf = n as f64;
    if nf <= a {
        return (0.0, 1.0, 1.0);
    }
    let c = nf * b / (nf - a * (1.0 - b));
    (1.0 - c * (-(nf - a) * t_over_aht).exp(), a / nf, c)
}

/// The staffing of an interval with `count` arrivals.
pub fn staff(count: u64, p: &StaffingParams) -> Result<IntervalStaffing, TooMany> {
    if count == 0 {
        return Ok(IntervalStaffing {
            count,
            intensity: 0.0,
            raw: 0,
            with_shrinkage: 0,
            service_level: 1.0,
            occupancy: 0.0,
            waiting_probability: 0.0,
            binding: Binding::None,
        });
    }
    // A = count × AHT / (interval × 60), as num / den. Products that do not fit are loads far
    // beyond any staffing (and the parameters' typos): refused, never wrapped.
    let too_many = TooMany { agents_searched: MAX_AGENTS };
    let product = |factors: &[u128]| factors.iter().try_fold(1u128, |acc, &f| acc.checked_mul(f));
    let a_num = product(&[u128::from(count), p.aht_seconds.num, p.interval_minutes.den]).ok_or(too_many.clone())?;
    let a_den = product(&[p.aht_seconds.den, p.interval_minutes.num, 60]).ok_or(too_many.clone())?;
    let a = a_num as f64 / a_den as f64;
    let t_over_aht = product(&[p.target_seconds.num, p.aht_seconds.den]).ok_or(too_many.clone())? as f64
        / product(&[p.target_seconds.den, p.aht_seconds.num]).ok_or(too_many.clone())? as f64;
    let n_sl = n_for_service_level(a, p.target_sl.to_f64(), t_over_aht)?;
    // ceil(A / max occupancy), exactly.
    let n_occ = ceil_div(
        product(&[a_num, p.max_occupancy.den]).ok_or(too_many.clone())?,
        product(&[a_den, p.max_occupancy.num]).ok_or(too_many.clone())?,
    );
    let n_occ = u64::try_from(n_occ).map_err(|_| too_many.clone())?;
    let raw = n_sl.max(n_occ);
    // ceil(raw / (1 − shrinkage)), exactly.
    let with_shrinkage = ceil_div(u128::from(raw) * p.shrinkage.den, p.shrinkage.den - p.shrinkage.num);
    let (service_level, occupancy, waiting_probability) = achieved(raw, a, t_over_aht);
    Ok(IntervalStaffing {
        count,
        intensity: a,
        raw,
        with_shrinkage: u64::try_from(with_shrinkage).unwrap_or(u64::MAX),
        service_level,
        occupancy,
        waiting_probability,
        binding: if n_occ > n_sl { Binding::Occupancy } else { Binding::ServiceLevel },
    })
}

/// Staffs many intervals under the same parameters: an interval's staffing depends on its
/// count alone, and a year of half hours has a few hundred distinct counts, so each is solved
/// once.
#[derive(Debug)]
pub struct Staffer {
    params: StaffingParams,
    /// By count, for the counts below [`DIRECT_COUNTS`] (an index, not a hash).
    direct: Vec<Option<IntervalStaffing>>,
    others: std::collections::HashMap<u64, IntervalStaffing>,
}

/// Counts remembered in a plain vector: a busy half hour is a few thousand contacts.
const DIRECT_COUNTS: u64 = 1 << 16;

impl Staffer {
    pub fn new(params: StaffingParams) -> Staffer {
        Staffer { params, direct: Vec::new(), others: std::collections::HashMap::new() }
    }

    pub fn staff(&mut self, count: u64) -> Result<IntervalStaffing, TooMany> {
        if count >= DIRECT_COUNTS {
            if let Some(done) = self.others.get(&count) {
                return Ok(*done);
            }
            let done = staff(count, &self.params)?;
            self.others.insert(count, done);
            return Ok(done);
        }
        let slot = count as usize;
        if slot >= self.direct.len() {
            self.direct.resize(slot + 1, None);
        }
        if let Some(done) = self.direct[slot] {
            return Ok(done);
        }
        let done = staff(count, &self.params)?;
        self.direct[slot] = Some(done);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> StaffingParams {
        let r = |t: &str| Ratio::parse(t).expect("valid");
        StaffingParams {
            aht_seconds: r("300"),
            interval_minutes: r("30"),
            target_sl: r("0.8"),
            target_seconds: r("20"),
            shrinkage: r("0.3"),
            max_occupancy: r("0.85"),
        }
    }

    #[test]
    fn known_intervals() {
        let p = params();
        assert_eq!(staff(0, &p).map(|s| (s.raw, s.with_shrinkage, s.binding)), Ok((0, 0, Binding::None)));
        // 225 arrivals in half an hour at 5 minutes: 37.5 Erlangs; the W2 notes' closest case
        // to the target needs 43.
        let s = staff(225, &p).expect("staffed");
        assert_eq!(s.intensity, 37.5);
        assert_eq!(s.raw, 45, "the occupancy cap: ceil(37.5 / 0.85) = 45");
        assert_eq!(s.binding, Binding::Occupancy);
        assert_eq!(s.with_shrinkage, 65, "ceil(45 / 0.7) = 64.28… → 65");
        // The shrinkage ceiling is exact where binary floats are not: raw 21 → 30, not 31.
        let mut q = p;
        q.max_occupancy = Ratio::parse("1").expect("valid");
        let twenty_one =
            (1..200).map(|c| staff(c, &q).expect("staffed")).find(|s| s.raw == 21).expect("some count needs 21");
        assert_eq!(twenty_one.with_shrinkage, 30);
    }

    #[test]
    fn a_thousand_agents_and_more_are_computed() {
        let p = params();
        // 12,000 arrivals a half hour: 2,000 Erlangs.
        let s = staff(12_000, &p).expect("staffed");
        assert!(s.raw >= 2_000 && s.raw < 2_400, "{s:?}");
        assert!(s.service_level >= 0.8 && s.service_level <= 1.0);
        assert!(s.occupancy <= 0.85 + 1e-12);
    }

    #[test]
    fn absurd_loads_are_refused_not_wrapped() {
        let mut p = params();
        p.aht_seconds = Ratio::parse("999999999999.999999999999").expect("valid");
        p.interval_minutes = Ratio::parse("0.000000000001").expect("valid");
        assert_eq!(staff(u64::MAX, &p), Err(TooMany { agents_searched: MAX_AGENTS }));
        assert_eq!(staff(1, &p), Err(TooMany { agents_searched: MAX_AGENTS }));
    }

    #[test]
    fn parameters_are_checked() {
        let mut p = params();
        p.shrinkage = Ratio::parse("1").expect("valid");
        p.target_sl = Ratio::parse("1.5").expect("valid");
        let names: Vec<&str> = p.check().iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["target-sl", "shrinkage"]);
    }
}
