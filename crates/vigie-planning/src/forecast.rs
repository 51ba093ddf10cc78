//! Inflow forecasts: the next `horizon` intervals of an arrivals series, with prediction
//! intervals, and the backtest that says how far to trust them.
//!
//! Candidates, each fitted on the past only:
//! - **seasonal naive**: the last season again (the baseline every model must beat);
//! - **MSTL** (augurs): the series decomposed into its seasons (day and week; week and year for
//!   daily data when two years are there) by LOESS, the trend forecast by AutoETS "ZZN";
//! - **profile**: the season's shape as the median, position by position, of the last `k`
//!   seasons' ratios to their own mean (robust to a holiday or a spike in one of them), times
//!   the level of the last season; for daily series with more than a year, the same dates a
//!   year earlier say how the level moves over the horizon and where the fixed holidays fall;
//! - **ensemble**: the mean of MSTL and profile, and the blends ¾–¼ either way
//!   (`ensemble_profile`, `ensemble_mstl`): model averaging, its weight chosen like a method.
//!
//! `auto` picks among them by an inner backtest: hold out the last `horizon` of the training
//! data, fit every candidate on the rest, keep the lowest MASE, refit it on everything. The
//! prediction intervals are conformal: the quantiles of the chosen model's errors over that
//! inner holdout, each divided by the square root of its forecast, applied back to the
//! forecast (as wide as the model was actually wrong, without assuming a distribution).
//!
//! MASE is scaled by the in-sample seasonal-naive MAE at the `mase_season` (M4's definition, the
//! one of `shared/bench/peer_forecast_statsforecast.py`), sMAPE is on the 0–200 scale.

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Predict};
use statrs::distribution::ContinuousCDF;

/// A forecasting method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    SeasonalNaive,
    Mstl,
    Profile,
    /// The mean of MSTL and profile.
    Ensemble,
    /// ¾ profile, ¼ MSTL.
    EnsembleProfile,
    /// ¾ MSTL, ¼ profile.
    EnsembleMstl,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::SeasonalNaive,
        Method::Mstl,
        Method::Profile,
        Method::Ensemble,
        Method::EnsembleProfile,
        Method::EnsembleMstl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::Mstl => "mstl",
            Method::Profile => "profile",
            Method::Ensemble => "ensemble",
            Method::EnsembleProfile => "ensemble_profile",
            Method::EnsembleMstl => "ensemble_mstl",
        }
    }

    /// The weight of the profile in a blend of MSTL and profile.
    fn profile_weight(self) -> Option<f64> {
        match self {
            Method::Ensemble => Some(0.5),
            Method::EnsembleProfile => Some(0.75),
            Method::EnsembleMstl => Some(0.25),
            _ => None,
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == text)
    }
}

/// The seasons of a series, shortest first (`[24, 168]` for hours, `[7, 365]` for days).
#[derive(Debug, Clone, PartialEq)]
pub struct Seasons {
    pub periods: Vec<usize>,
    /// For daily series: the intervals are days, so a year ago is 365 (or 366) back.
    pub daily: bool,
    /// Below a day: how many intervals the series' first one starts after midnight (UTC), so
    /// that a week's shape can be cut into days.
    pub start_offset: usize,
    /// Daily series: the date of the first interval, so that "a year earlier" is the same date
    /// (365 or 366 days back).
    pub start_date: Option<jiff::civil::Date>,
}

impl Seasons {
    /// The seasons of intervals `step_seconds` long: day and week below a day, week and year
    /// for days, none above.
    pub fn of_step(step_seconds: i64) -> Seasons {
        const DAY: i64 = 86_400;
        if step_seconds < DAY && DAY % step_seconds == 0 {
            let day = (DAY / step_seconds) as usize;
            Seasons { periods: vec![day, 7 * day], daily: false, start_offset: 0, start_date: None }
        } else if step_seconds == DAY {
            Seasons { periods: vec![7, 365], daily: true, start_offset: 0, start_date: None }
        } else {
            Seasons { periods: Vec::new(), daily: false, start_offset: 0, start_date: None }
        }
    }

    /// The seasons a series of `n` points can show: two whole cycles at least.
    fn usable(&self, n: usize) -> Vec<usize> {
        self.periods.iter().copied().filter(|p| *p > 1 && 2 * p <= n).collect()
    }

    /// The longest usable season, the one the naive and profile methods repeat.
    fn main(&self, n: usize) -> Option<usize> {
        let usable = self.usable(n);
        // The year is only a main season for series too short for a week to exist.
        usable.iter().copied().filter(|p| !(self.daily && *p == 365)).max().or(usable.first().copied())
    }
}

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("{points} points are too few: {needed} at least are needed for a horizon of {horizon}")]
    TooShort { points: usize, needed: usize, horizon: usize },
    #[error("the horizon must be at least 1")]
    NoHorizon,
    #[error("a value is not a finite count (position {0})")]
    NotFinite(usize),
    #[error("the method {method} cannot run on this series: {reason}")]
    CannotRun { method: &'static str, reason: String },
}

/// A forecast: the point and the interval at `level` for each step ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub method: Method,
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub level: f64,
    /// Each candidate's MASE on the inner holdout that chose the method (empty when the method
    /// was imposed and the series too short to measure it).
    pub validation: Vec<(Method, f64)>,
}

/// MASE: the mean absolute error over the in-sample seasonal-naive MAE at `season`.
pub fn mase(actual: &[f64], forecast: &[f64], train: &[f64], season: usize) -> f64 {
    let season = season.max(1);
    if train.len() <= season {
        return f64::NAN;
    }
    let scale =
        train[season..].iter().zip(train).map(|(a, b)| (a - b).abs()).sum::<f64>() / (train.len() - season) as f64;
    let mae = actual.iter().zip(forecast).map(|(a, f)| (a - f).abs()).sum::<f64>() / actual.len().max(1) as f64;
    mae / scale
}

/// sMAPE in percent, 0–200; a term with both values 0 counts 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let sum: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let den = a.abs() + f.abs();
            if den == 0.0 { 0.0 } else { 2.0 * (a - f).abs() / den }
        })
        .sum();
    100.0 * sum / actual.len().max(1) as f64
}

fn seasonal_naive(y: &[f64], horizon: usize, season: usize) -> Vec<f64> {
    let start = y.len() - season;
    (0..horizon).map(|i| y[start + i % season]).collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// How many past seasons the profile's shape is taken from.
const PROFILE_SEASONS: usize = 8;

/// The mean without the lowest and the highest value (when there are four or more): a
/// holiday or a spike in one season does not bend the shape, and the rest is averaged (a
/// median would waste most of the data).
fn trimmed_mean(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let kept = if values.len() >= 4 { &values[1..values.len() - 1] } else { &values[..] };
    if kept.is_empty() { f64::NAN } else { kept.iter().sum::<f64>() / kept.len() as f64 }
}

/// The best rank-`rank` approximation of a `rows × cols` matrix (row-major), by power
/// iteration and deflation: a week of hours is a few daily profiles scaled per day, and the
/// rest is noise.
fn low_rank(matrix: &[f64], rows: usize, cols: usize, rank: usize) -> Vec<f64> {
    let mut residual = matrix.to_vec();
    let mut approx = vec![0.0; matrix.len()];
    for _ in 0..rank.min(rows).min(cols) {
        let mut v = vec![1.0 / (cols as f64).sqrt(); cols];
        let mut u = vec![0.0; rows];
        for _ in 0..100 {
            for (r, ur) in u.iter_mut().enumerate() {
                *ur = (0..cols).map(|c| residual[r * cols + c] * v[c]).sum();
            }
            let mut next: Vec<f64> =
                (0..cols).map(|c| (0..rows).map(|r| residual[r * cols + c] * u[r]).sum()).collect();
            let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                return approx;
            }
            next.iter_mut().for_each(|x| *x /= norm);
            v = next;
        }
        for (r, ur) in u.iter_mut().enumerate() {
            *ur = (0..cols).map(|c| residual[r * cols + c] * v[c]).sum::<f64>();
            for c in 0..cols {
                approx[r * cols + c] += *ur * v[c];
                residual[r * cols + c] -= *ur * v[c];
            }
        }
    }
    approx
}

/// The profile method (see the module's comment).
fn profile(y: &[f64], horizon: usize, season: usize, seasons: &Seasons) -> Vec<f64> {
    let daily = seasons.daily;
    let n = y.len();
    let cycles = (n / season).min(PROFILE_SEASONS.max(2) + 4);
    let first = n - cycles * season;
    let rows: Vec<&[f64]> = y[first..].chunks(season).collect();
    let means: Vec<f64> = rows.iter().map(|r| r.iter().sum::<f64>() / season as f64).collect();
    let used: Vec<usize> = (0..rows.len()).rev().filter(|w| means[*w] > 0.0).take(PROFILE_SEASONS).collect();
    let mut shape: Vec<f64> = (0..season)
        .map(|p| {
            let mut ratios: Vec<f64> = used.iter().map(|w| rows[*w][p] / means[*w]).collect();
            let m = trimmed_mean(&mut ratios);
            if m.is_nan() { 1.0 } else { m }
        })
        .collect();
    // A week of sub-daily intervals: the days' shapes, denoised as two daily profiles (such as
    // weekdays and weekends) scaled per day.
    if let [day, week] = seasons.periods[..]
        && season == week
        && week == 7 * day
        && day > 1
    {
        // Days are cut at their quietest hour (the night, wherever the team is), not at UTC
        // midnight, so that no row mixes the end of one day with the start of the next.
        let midnight = (day - (seasons.start_offset + first) % day) % day;
        let quietest = (0..day)
            .min_by(|a, b| {
                let mean = |h: usize| (0..7).map(|d| shape[(midnight + d * day + h) % week]).sum::<f64>();
                mean(*a).total_cmp(&mean(*b))
            })
            .unwrap_or(0);
        let shift = (midnight + quietest) % week;
        let rotated: Vec<f64> = (0..week).map(|j| shape[(j + shift) % week]).collect();
        let denoised = low_rank(&rotated, 7, day, 2);
        for (j, value) in denoised.into_iter().enumerate() {
            shape[(j + shift) % week] = value.max(0.0);
        }
    }
    let total: f64 = shape.iter().sum::<f64>() / season as f64;
    if total > 0.0 {
        shape.iter_mut().for_each(|s| *s /= total);
    }
    // The level of the last season, robustly: the season cut into days (single points for a
    // daily series), each day's level its arrivals over its shape; the days within 40 % of the
    // median day count, so a holiday or a spike does not move the whole horizon.
    let last_row = rows.last().copied().unwrap_or(&[]);
    let block = if seasons.daily { 1 } else { seasons.periods.first().copied().unwrap_or(1).clamp(1, season) };
    let days: Vec<(f64, f64)> = last_row
        .chunks(block)
        .zip(shape.chunks(block))
        .map(|(v, s)| (v.iter().sum::<f64>(), s.iter().sum::<f64>()))
        .filter(|(_, s)| *s > 0.0)
        .collect();
    let typical = median(&mut days.iter().map(|(v, s)| v / s).collect::<Vec<_>>());
    let (kept_values, kept_shape) = days
        .iter()
        .filter(|(v, s)| typical > 0.0 && ((v / s) / typical - 1.0).abs() <= 0.4)
        .fold((0.0, 0.0), |(a, b), (v, s)| (a + v, b + s));
    let level = if kept_shape > 0.0 { kept_values / kept_shape } else { means.last().copied().unwrap_or(0.0) };
    let mut forecast: Vec<f64> = (0..horizon).map(|i| level * shape[(n - first + i) % season]).collect();

    // A year of days and more: the same dates a year before say how the level moves and
    // where the fixed holidays fall.
    const YEAR: usize = 365;
    const WINDOW: usize = 14;
    // The index of the same date a year before index t: 365 days back, 366 across a 29 Feb.
    let year_ago = |t: usize| -> Option<usize> {
        let Some(start) = seasons.start_date else { return t.checked_sub(YEAR) };
        let date = start.checked_add(jiff::Span::new().days(t as i64)).ok()?;
        let before = date.checked_sub(jiff::Span::new().years(1)).ok()?;
        let back = date.since(before).ok()?.get_days() as usize;
        t.checked_sub(back)
    };
    if daily && n >= YEAR + 2 * WINDOW + horizon {
        // The place in the season of any instant, before `first` too.
        let place = |t: usize| (t + season - n % season) % season;
        let deseasoned: Vec<f64> = (0..n).map(|t| y[t] / shape[place(t)].max(1e-9)).collect();
        let around = |t: usize| {
            let (from, to) = (t.saturating_sub(WINDOW), (t + WINDOW + 1).min(n));
            median(&mut deseasoned[from..to].to_vec())
        };
        let then_now = year_ago(n).map_or(0.0, around);
        if then_now > 0.0 {
            for (i, f) in forecast.iter_mut().enumerate() {
                let Some(then) = year_ago(n + i).filter(|t| *t < n) else { continue };
                let mut factor = around(then) / then_now;
                // A day a third lower than its neighbours a year ago: a fixed holiday, again.
                let expected = around(then) * shape[place(then)];
                if expected > 0.0 && y[then] / expected < 0.8 {
                    factor *= y[then] / expected;
                }
                if factor.is_finite() {
                    *f *= factor;
                }
            }
        }
    }
    forecast
}

/// MSTL with an AutoETS trend, over the usable seasons.
fn mstl(y: &[f64], horizon: usize, periods: Vec<usize>) -> Option<Vec<f64>> {
    let model = MSTLModel::new(periods, AutoETS::non_seasonal().into_trend_model());
    let fitted = model.fit(y).ok()?;
    let forecast = fitted.predict(horizon, None).ok()?;
    forecast.point.iter().all(|v| v.is_finite()).then_some(forecast.point)
}

/// Every method's point forecast that can run (or only `only`), MSTL and profile fitted once
/// for the ensemble too.
pub fn points_all(y: &[f64], horizon: usize, seasons: &Seasons, only: Option<Method>) -> Vec<(Method, Vec<f64>)> {
    let blend = only.is_none_or(|o| o.profile_weight().is_some());
    let wanted = |m: Method| only.is_none_or(|o| o == m) || (blend && m != Method::SeasonalNaive);
    let naive = wanted(Method::SeasonalNaive).then(|| point(y, horizon, seasons, Method::SeasonalNaive)).flatten();
    let mstl = wanted(Method::Mstl).then(|| point(y, horizon, seasons, Method::Mstl)).flatten();
    let profile = wanted(Method::Profile).then(|| point(y, horizon, seasons, Method::Profile)).flatten();
    let mut all =
        vec![(Method::SeasonalNaive, naive), (Method::Mstl, mstl.clone()), (Method::Profile, profile.clone())];
    for method in [Method::Ensemble, Method::EnsembleProfile, Method::EnsembleMstl] {
        let weight = method.profile_weight().unwrap_or(0.5);
        let mixed = match (&mstl, &profile) {
            (Some(a), Some(b)) => Some(a.iter().zip(b).map(|(a, b)| (1.0 - weight) * a + weight * b).collect()),
            _ => None,
        };
        all.push((method, mixed));
    }
    all.into_iter().filter(|(m, _)| only.is_none_or(|o| o == *m)).filter_map(|(m, f)| f.map(|f| (m, f))).collect()
}

/// The point forecast of one method; `None` when it cannot run on this series.
pub fn point(y: &[f64], horizon: usize, seasons: &Seasons, method: Method) -> Option<Vec<f64>> {
    let n = y.len();
    let main = seasons.main(n);
    let out = match method {
        Method::SeasonalNaive => seasonal_naive(y, horizon, main.unwrap_or(1)),
        Method::Profile => profile(y, horizon, main?, seasons),
        Method::Mstl => mstl(y, horizon, seasons.usable(n)).filter(|_| !seasons.usable(n).is_empty())?,
        Method::Ensemble | Method::EnsembleProfile | Method::EnsembleMstl => {
            let weight = method.profile_weight().unwrap_or(0.5);
            let a = point(y, horizon, seasons, Method::Mstl)?;
            let b = point(y, horizon, seasons, Method::Profile)?;
            a.iter().zip(&b).map(|(a, b)| (1.0 - weight) * a + weight * b).collect()
        }
    };
    // Arrivals are counts: never below zero.
    Some(out.into_iter().map(|v| v.max(0.0)).collect())
}

/// The season MASE is scaled with by default: the shortest usable one (a day of hours, a week
/// of days), as the W4 table does.
pub fn mase_season(seasons: &Seasons, n: usize) -> usize {
    seasons.usable(n).first().copied().unwrap_or(1)
}

/// Forecasts `horizon` steps of `y` with `method` (`None`: chosen by the inner backtest), and
/// intervals at `level` (such as 0.95).
pub fn forecast(
    y: &[f64],
    horizon: usize,
    seasons: &Seasons,
    method: Option<Method>,
    level: f64,
) -> Result<Prediction, ForecastError> {
    if horizon == 0 {
        return Err(ForecastError::NoHorizon);
    }
    if let Some(bad) = y.iter().position(|v| !v.is_finite()) {
        return Err(ForecastError::NotFinite(bad));
    }
    // The shortest season twice, so that at least it shows.
    let needed = 2 * seasons.periods.first().copied().unwrap_or(1) + 2;
    if y.len() < needed {
        return Err(ForecastError::TooShort { points: y.len(), needed, horizon });
    }
    // The inner holdout: as long as the horizon, while what is left still shows its seasons.
    let holdout = horizon.min(y.len().saturating_sub(needed));
    let (train, test) = y.split_at(y.len() - holdout);
    let m = mase_season(seasons, train.len());
    let inner: Vec<(Method, Vec<f64>)> =
        if holdout > 0 { points_all(train, holdout, seasons, method) } else { Vec::new() };
    let validation: Vec<(Method, f64)> = inner.iter().map(|(c, f)| (*c, mase(test, f, train, m))).collect();
    // Chosen by the mean absolute error: the same order as MASE (one scale for all), and
    // defined when the past is flat and MASE's scale is zero.
    let mae = |f: &[f64]| test.iter().zip(f).map(|(a, f)| (a - f).abs()).sum::<f64>();
    let chosen = method.unwrap_or_else(|| {
        inner
            .iter()
            .map(|(c, f)| (*c, mae(f)))
            .filter(|(_, score)| score.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(Method::SeasonalNaive, |(c, _)| c)
    });
    let point = match points_all(y, horizon, seasons, Some(chosen)).pop() {
        Some((_, point)) => point,
        None if method.is_some() => {
            return Err(ForecastError::CannotRun {
                method: chosen.name(),
                reason: format!("{} points do not show two of its seasons ({:?})", y.len(), seasons.periods),
            });
        }
        None => point_or_naive(y, horizon, seasons),
    };

    // Conformal intervals: quantiles of the errors over the inner holdout, each scaled by the
    // square root of its forecast (counts vary about as their square root: a quiet hour's
    // error is not a busy hour's), applied the same way to the forecast.
    let scale = |f: f64| f.max(1.0).sqrt();
    let scaled: Vec<f64> = inner
        .iter()
        .find(|(m, _)| *m == chosen)
        .map(|(_, f)| test.iter().zip(f).map(|(a, f)| (a - f) / scale(*f)).collect())
        .unwrap_or_default();
    let (lo, hi) = conformal_band(scaled, level);
    let lower = point.iter().map(|p| (p + lo * scale(*p)).max(0.0)).collect();
    let upper = point.iter().map(|p| p + hi * scale(*p)).collect();
    Ok(Prediction { method: chosen, point, lower, upper, level, validation })
}

/// The band of scaled errors at `level`. With 20 errors or more, split-conformal: the
/// ⌈(n + 1)(1 − α/2)⌉-th of each side (the widest when the level asks for more than the
/// errors can say). With fewer, a normal band of the errors' spread (at least Poisson's).
fn conformal_band(mut scaled: Vec<f64>, level: f64) -> (f64, f64) {
    let alpha = 1.0 - level;
    let n = scaled.len();
    if n >= 20 {
        scaled.sort_by(f64::total_cmp);
        let k = (((n + 1) as f64) * (1.0 - alpha / 2.0)).ceil() as usize;
        let hi = scaled[k.clamp(1, n) - 1];
        let lo = scaled[n - k.clamp(1, n)];
        (lo.min(0.0), hi.max(0.0))
    } else {
        let z = statrs::distribution::Normal::standard().inverse_cdf(1.0 - alpha / 2.0);
        let sd = if n >= 2 {
            let mean = scaled.iter().sum::<f64>() / n as f64;
            (scaled.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            1.0
        };
        let spread = z * sd.max(1.0);
        (-spread, spread)
    }
}

/// The seasonal naive forecast, or the last value repeated when there is no season.
fn point_or_naive(y: &[f64], horizon: usize, seasons: &Seasons) -> Vec<f64> {
    point(y, horizon, seasons, Method::SeasonalNaive).unwrap_or_else(|| vec![y.last().copied().unwrap_or(0.0); horizon])
}

/// A backtest: the last `horizon` points held out, the forecast made from the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub prediction: Prediction,
    pub actual: Vec<f64>,
    pub mase: f64,
    pub smape: f64,
    pub mase_season: usize,
    /// Every method's scores on the same held-out window, for comparison.
    pub methods: Vec<(Method, f64, f64)>,
}

pub fn backtest(
    y: &[f64],
    horizon: usize,
    seasons: &Seasons,
    method: Option<Method>,
    level: f64,
    mase_season_override: Option<usize>,
) -> Result<Backtest, ForecastError> {
    if y.len() <= horizon {
        return Err(ForecastError::TooShort { points: y.len(), needed: horizon + 1, horizon });
    }
    let (train, actual) = y.split_at(y.len() - horizon);
    let prediction = forecast(train, horizon, seasons, method, level)?;
    let m = mase_season_override.unwrap_or_else(|| mase_season(seasons, train.len()));
    let methods = points_all(train, horizon, seasons, None)
        .into_iter()
        .map(|(candidate, f)| (candidate, mase(actual, &f, train, m), smape(actual, &f)))
        .collect();
    Ok(Backtest {
        mase: mase(actual, &prediction.point, train, m),
        smape: smape(actual, &prediction.point),
        actual: actual.to_vec(),
        prediction,
        mase_season: m,
        methods,
    })
}

#[cfg(test)]
mod tests;
