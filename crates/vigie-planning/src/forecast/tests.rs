use super::*;

/// Four weeks of hours with a weekday/weekend profile, no noise.
fn hourly(weeks: usize) -> Vec<f64> {
    (0..weeks * 168)
        .map(|t| {
            let (day, hour) = ((t / 24) % 7, t % 24);
            let weekday = if day < 5 { 10.0 } else { 3.0 };
            if (8..18).contains(&hour) { weekday * 2.0 } else { weekday * 0.5 }
        })
        .collect()
}

#[test]
fn the_metrics_follow_their_definitions() {
    // Naive errors of the training part at season 1: |2-1|, |3-2| = mean 1.
    let train = [1.0, 2.0, 3.0];
    assert_eq!(mase(&[4.0, 6.0], &[5.0, 5.0], &train, 1), 1.0);
    assert_eq!(smape(&[0.0, 10.0], &[0.0, 30.0]), 50.0);
    assert!(mase(&[1.0], &[1.0], &[1.0], 2).is_nan(), "no scale without a season of past");
}

#[test]
fn seasons_follow_the_interval() {
    assert_eq!(Seasons::of_step(3_600).periods, [24, 168]);
    assert_eq!(Seasons::of_step(1_800).periods, [48, 336]);
    assert_eq!(Seasons::of_step(86_400).periods, [7, 365]);
    assert!(Seasons::of_step(7 * 86_400).periods.is_empty());
    let s = Seasons::of_step(3_600);
    assert_eq!(s.main(4 * 168), Some(168));
    assert_eq!(s.main(100), Some(24), "a week does not show in 100 hours");
}

#[test]
fn a_clean_weekly_pattern_is_forecast_exactly_by_every_seasonal_method() {
    let y = hourly(5);
    let seasons = Seasons::of_step(3_600);
    let truth = &hourly(6)[5 * 168..];
    for method in [Method::SeasonalNaive, Method::Profile] {
        let f = point(&y, 168, &seasons, method).expect("a forecast");
        let worst = f.iter().zip(truth).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "{method:?} misses by {worst}");
    }
    let p = forecast(&y, 168, &seasons, None, 0.95).expect("a forecast");
    assert_eq!(p.validation.len(), 6, "every method was measured: {:?}", p.validation);
    assert!(p.point.iter().zip(truth).all(|(a, b)| (a - b).abs() < 1.0), "{:?}", p.method);
    assert!(p.lower.iter().zip(&p.point).all(|(l, v)| l <= v) && p.upper.iter().zip(&p.point).all(|(u, v)| u >= v));
}

#[test]
fn a_holiday_a_year_ago_is_expected_again() {
    // Two years of days at 100 a day, with a fixed-date holiday at 20.
    let holiday = |t: usize| t % 365 == 358;
    let y: Vec<f64> = (0..730).map(|t| if holiday(t) { 20.0 } else { 100.0 }).collect();
    let seasons = Seasons::of_step(86_400);
    let (train, _) = y.split_at(730 - 28);
    let f = point(train, 28, &seasons, Method::Profile).expect("a forecast");
    let day = 365 + 358 - train.len();
    assert!(f[day] < 40.0, "the holiday is expected: {}", f[day]);
    assert!((f[day + 2] - 100.0).abs() < 5.0, "the days around it are not: {}", f[day + 2]);
}

#[test]
fn counts_are_never_negative_and_zero_arrivals_forecast_zero() {
    let seasons = Seasons::of_step(3_600);
    let p = forecast(&vec![0.0; 3 * 168], 48, &seasons, None, 0.9).expect("a forecast");
    assert!(p.point.iter().all(|v| *v == 0.0));
    let p = forecast(
        &hourly(3).iter().map(|v| v - 9.0).map(|v: f64| v.max(0.0)).collect::<Vec<_>>(),
        24,
        &seasons,
        None,
        0.9,
    )
    .expect("a forecast");
    assert!(p.point.iter().chain(&p.lower).all(|v| *v >= 0.0));
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let seasons = Seasons::of_step(3_600);
    assert_eq!(forecast(&[1.0; 100], 0, &seasons, None, 0.9), Err(ForecastError::NoHorizon));
    assert!(matches!(forecast(&[1.0; 10], 5, &seasons, None, 0.9), Err(ForecastError::TooShort { points: 10, .. })));
    let mut y = hourly(3);
    y[7] = f64::NAN;
    assert_eq!(forecast(&y, 5, &seasons, None, 0.9), Err(ForecastError::NotFinite(7)));
    assert!(backtest(&hourly(1), 168, &seasons, None, 0.9, None).is_err());
}

#[test]
fn the_low_rank_shape_keeps_a_rank_two_matrix_and_drops_noise() {
    // Rows are days: two profiles (weekday, weekend) scaled per day.
    let (a, b) = ([1.0, 3.0, 2.0], [2.0, 1.0, 1.0]);
    let scale = [1.0, 1.1, 0.9, 1.0, 1.2, 0.4, 0.3];
    let m: Vec<f64> =
        (0..7).flat_map(|d| (0..3).map(move |h| if d < 5 { a[h] * scale[d] } else { b[h] * scale[d] })).collect();
    let approx = low_rank(&m, 7, 3, 2);
    assert!(m.iter().zip(&approx).all(|(x, y)| (x - y).abs() < 1e-9));
    let rank_one = low_rank(&m, 7, 3, 1);
    assert!(m.iter().zip(&rank_one).any(|(x, y)| (x - y).abs() > 0.1));
}

#[test]
fn a_year_ago_is_the_same_date_across_a_leap_day() {
    // From 2023-01-01: Christmas is day 358 in 2023 and day 365 + 359 = 724 in 2024 (a leap
    // year), 366 days later.
    let y: Vec<f64> = (0..760).map(|t| if t == 358 || t == 724 { 20.0 } else { 100.0 }).collect();
    let mut seasons = Seasons::of_step(86_400);
    seasons.start_date = Some(jiff::civil::date(2023, 1, 1));
    let train = &y[..702];
    let f = point(train, 28, &seasons, Method::Profile).expect("a forecast");
    assert!(f[724 - 702] < 40.0, "Christmas 2024 is expected: {}", f[724 - 702]);
    assert!(f[723 - 702] > 80.0, "Christmas Eve is not: {}", f[723 - 702]);
}

#[test]
fn the_level_asked_sets_the_width_and_an_impossible_method_is_refused() {
    let seasons = Seasons::of_step(3_600);
    let y: Vec<f64> = hourly(4).iter().enumerate().map(|(t, v)| v + ((t * 7919) % 5) as f64).collect();
    let width = |level: f64| {
        let p = forecast(&y, 4, &seasons, None, level).expect("a forecast");
        p.upper[0] - p.lower[0]
    };
    assert!(width(0.5) < width(0.95) && width(0.95) < width(0.999));
    // 60 hours show the day but not the week: the profile repeats days.
    let short: Vec<f64> = (0..60).map(|t| (t % 24) as f64).collect();
    assert!(forecast(&short, 24, &seasons, Some(Method::Profile), 0.9).is_ok());
    // Weeks have no season here: the profile has nothing to repeat.
    let weeks = Seasons::of_step(7 * 86_400);
    assert!(matches!(
        forecast(&[1.0; 100], 4, &weeks, Some(Method::Profile), 0.9),
        Err(ForecastError::CannotRun { method: "profile", .. })
    ));
    assert!(forecast(&[1.0; 100], 4, &weeks, None, 0.9).is_ok(), "auto falls back to what can run");
}
