//! `vigie forecast`: the next intervals of an arrivals series (or of a history's inflow, in
//! total and per category or channel), with prediction intervals and an honest backtest.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use jiff::{SignedDuration, Timestamp};
use vigie_analytics::history::{self, ReadOptions};
use vigie_analytics::render::svg::{self, Band, escape};
use vigie_planning::forecast::{Backtest, Method, Prediction, Seasons, backtest, forecast};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
    /// The forecast as an arrivals series (`interval_start,count`, counts rounded), for
    /// `vigie staffing`.
    Arrivals,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Total,
    Category,
    Channel,
}

#[derive(Args)]
pub struct ForecastArgs {
    /// The arrivals series (`interval_start,count`, shared/FORMATS.md). Not needed with
    /// --from-history.
    arrivals: Option<PathBuf>,
    /// The length of an interval: 15min, 30min, 1h, 1d...
    #[arg(long, default_value = "1h")]
    freq: String,
    /// How many intervals ahead (default: a week of them).
    #[arg(long)]
    horizon: Option<usize>,
    /// auto (chosen by a backtest on the past), seasonal_naive, mstl, profile, ensemble (their
    /// mean), ensemble_profile or ensemble_mstl (¾ of the one named).
    #[arg(long, default_value = "auto")]
    method: String,
    /// The coverage of the prediction intervals.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Also hold out the last horizon, forecast it from the rest, and score it (MASE, sMAPE).
    #[arg(long)]
    backtest: bool,
    /// The season MASE is scaled with (default: the shortest, a day of intervals or a week of
    /// days).
    #[arg(long)]
    mase_season: Option<usize>,
    /// Forecast the inflow of this ticket history (tickets.csv) instead: its created_at,
    /// counted per interval up to the export.
    #[arg(long, value_name = "TICKETS_CSV")]
    from_history: Option<PathBuf>,
    /// With --from-history: the series to forecast, total and per category or channel (the
    /// --groups largest, the rest together as "other"). Repeat or comma-separate.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "total")]
    by: Vec<By>,
    /// With --by category or channel: how many groups get their own forecast.
    #[arg(long, default_value_t = 8)]
    groups: usize,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write there instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `30min`, `1h`, `1d` as seconds.
fn parse_freq(text: &str) -> anyhow::Result<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = if number.is_empty() { 1 } else { number.parse().unwrap_or(0) };
    let unit = match unit {
        "min" | "m" | "T" => 60,
        "h" | "H" => 3_600,
        "d" | "D" => 86_400,
        _ => bail!("--freq: \"{text}\" is not an interval length such as 30min, 1h or 1d"),
    };
    if number <= 0 || number > 366 * 86_400 / unit {
        bail!("--freq: \"{text}\" is not an interval length such as 30min, 1h or 1d");
    }
    Ok(number * unit)
}

/// One series to forecast.
struct Series {
    name: String,
    start: Timestamp,
    values: Vec<f64>,
}

/// What was computed for one series.
struct Outcome {
    series: Series,
    prediction: Prediction,
    backtest: Option<Backtest>,
}

fn read_arrivals(path: &PathBuf, step: i64) -> anyhow::Result<Series> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot read {name}"))?;
    let (intervals, gaps) =
        vigie_planning::arrivals::read(&name, std::io::BufReader::new(file), SignedDuration::from_secs(step))?;
    let Some(first) = intervals.first() else { bail!("{name}: no interval") };
    let start = first.start;
    // Gaps are intervals with no row: counted as no arrival, and said.
    for gap in gaps.iter().take(5) {
        say!("warning: {name}:{}: no interval between {} and {} (counted as 0)", gap.line, gap.after, gap.next);
    }
    if gaps.len() > 5 {
        say!("warning: {name}: {} gaps in all", gaps.len());
    }
    let last = intervals.last().map_or(start, |i| i.start);
    let n = ((last.as_second() - start.as_second()) / step) as usize + 1;
    // Gaps are filled with zeros: a typo'd year would make billions of them.
    if n > 10_000_000 {
        bail!(
            "{name}: from {} to {} is {n} intervals of {step} s; the most is 10,000,000 (a wrong year?)",
            first.start_text,
            intervals.last().map_or("", |i| i.start_text.as_str())
        );
    }
    let mut values = vec![0.0; n];
    for interval in &intervals {
        values[((interval.start.as_second() - start.as_second()) / step) as usize] = interval.count as f64;
    }
    Ok(Series { name: "total".into(), start, values })
}

/// The inflow of a history per interval: the total and the groups asked for.
fn read_history(path: &PathBuf, step: i64, by: &[By], groups: usize) -> anyhow::Result<Vec<Series>> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    type Counts = (Vec<i64>, i64, HashMap<String, Vec<i64>>, HashMap<String, Vec<i64>>);
    let (states, _) = history::fold_rows(
        file,
        &name,
        ReadOptions::default(),
        &|_| {},
        || (Vec::new(), i64::MIN, HashMap::new(), HashMap::new()),
        |state: &mut Counts, row| {
            let facts = row.facts()?;
            let latest = facts.latest();
            state.0.push(facts.created_at);
            state.1 = state.1.max(latest);
            state.2.entry(facts.category.to_string()).or_default().push(facts.created_at);
            state.3.entry(facts.channel.as_str().to_owned()).or_default().push(facts.created_at);
            Ok(())
        },
    )?;
    let mut all = Vec::new();
    let mut export = i64::MIN;
    let mut categories: HashMap<String, Vec<i64>> = HashMap::new();
    let mut channels: HashMap<String, Vec<i64>> = HashMap::new();
    for (created, latest, by_category, by_channel) in states {
        all.extend(created);
        export = export.max(latest);
        for (k, v) in by_category {
            categories.entry(k).or_default().extend(v);
        }
        for (k, v) in by_channel {
            channels.entry(k).or_default().extend(v);
        }
    }
    let Some(first) = all.iter().min().copied() else { bail!("{name}: the history holds no ticket") };
    let last_created = all.iter().max().copied().unwrap_or(first);
    // Whole intervals only: the one the export falls in is not over. An export made days
    // after the last ticket arrived would add days of no arrivals the file cannot vouch for:
    // the series stops at the last creation's interval then, and says so.
    let start = first.div_euclid(step) * step;
    let mut end = export.div_euclid(step) * step;
    if export - last_created > 86_400.max(step) {
        end = last_created.div_euclid(step) * step;
        say!(
            "note: {name}: the last ticket was created {:.1} days before the export ({}); the series stops there",
            (export - last_created) as f64 / 86_400.0,
            Timestamp::from_second(last_created).map_or_else(|_| last_created.to_string(), instant)
        );
    }
    let n = ((end - start) / step) as usize;
    if n == 0 {
        bail!("{name}: the history spans less than one interval");
    }
    let count = |created: &[i64]| {
        let mut values = vec![0.0; n];
        for t in created {
            let i = (t.div_euclid(step) * step - start) / step;
            if (0..n as i64).contains(&i) {
                values[i as usize] += 1.0;
            }
        }
        values
    };
    let start_ts = Timestamp::from_second(start).context("the history's first instant")?;
    let mut out = Vec::new();
    for b in by {
        match b {
            By::Total => out.push(Series { name: "total".into(), start: start_ts, values: count(&all) }),
            By::Category | By::Channel => {
                let (label, map) = if *b == By::Category { ("category", &categories) } else { ("channel", &channels) };
                let mut ranked: Vec<(&String, &Vec<i64>)> = map.iter().collect();
                ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
                let mut other = Vec::new();
                for (i, (group, created)) in ranked.into_iter().enumerate() {
                    if i < groups {
                        out.push(Series { name: format!("{label}={group}"), start: start_ts, values: count(created) });
                    } else {
                        other.extend_from_slice(created);
                    }
                }
                if !other.is_empty() {
                    out.push(Series { name: format!("{label}=other"), start: start_ts, values: count(&other) });
                }
            }
        }
    }
    Ok(out)
}

fn instant(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn at(series: &Series, step: i64, index: usize) -> Timestamp {
    series.start.checked_add(SignedDuration::from_secs(step * index as i64)).unwrap_or(series.start)
}

fn rows_json(series: &Series, step: i64, from: usize, p: &Prediction) -> Vec<serde_json::Value> {
    (0..p.point.len())
        .map(|i| {
            serde_json::json!({
                "interval_start": instant(at(series, step, from + i)),
                "point": round2(p.point[i]), "lower": round2(p.lower[i]), "upper": round2(p.upper[i]),
            })
        })
        .collect()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn outcome_json(o: &Outcome, step: i64, horizon: usize) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("series".into(), o.series.name.clone().into());
    m.insert("points".into(), o.series.values.len().into());
    m.insert("method".into(), o.prediction.method.name().into());
    m.insert("level".into(), o.prediction.level.into());
    let validation: serde_json::Map<String, serde_json::Value> =
        o.prediction.validation.iter().map(|(method, score)| (method.name().to_owned(), (*score).into())).collect();
    m.insert("validation_mase".into(), validation.into());
    m.insert("forecast".into(), rows_json(&o.series, step, o.series.values.len(), &o.prediction).into());
    if let Some(b) = &o.backtest {
        m.insert("mase".into(), b.mase.into());
        m.insert("smape".into(), b.smape.into());
        m.insert("mase_season".into(), b.mase_season.into());
        m.insert("backtest_method".into(), b.prediction.method.name().into());
        let methods: serde_json::Map<String, serde_json::Value> = b
            .methods
            .iter()
            .map(|(method, mase, smape)| {
                (method.name().to_owned(), serde_json::json!({ "mase": mase, "smape": smape }))
            })
            .collect();
        m.insert("backtest_methods".into(), methods.into());
        let from = o.series.values.len() - horizon;
        let mut rows = rows_json(&o.series, step, from, &b.prediction);
        for (row, actual) in rows.iter_mut().zip(&b.actual) {
            row["actual"] = (*actual).into();
        }
        m.insert("backtest".into(), rows.into());
    }
    m
}

fn to_json(outcomes: &[Outcome], step: i64, horizon: usize) -> String {
    let mut top = serde_json::Map::new();
    top.insert("format".into(), "vigie-forecast/1".into());
    top.insert("step_seconds".into(), step.into());
    top.insert("horizon".into(), horizon.into());
    if let Some(first) = outcomes.first() {
        top.extend(outcome_json(first, step, horizon));
    }
    if outcomes.len() > 1 {
        let all: Vec<serde_json::Value> = outcomes.iter().map(|o| outcome_json(o, step, horizon).into()).collect();
        top.insert("groups".into(), all.into());
    }
    format!("{}\n", serde_json::to_string_pretty(&serde_json::Value::Object(top)).unwrap_or_default())
}

fn to_csv(outcomes: &[Outcome], step: i64) -> String {
    let mut out = String::from("series,interval_start,point,lower,upper\n");
    for o in outcomes {
        for i in 0..o.prediction.point.len() {
            let _ = writeln!(
                out,
                "{},{},{:.2},{:.2},{:.2}",
                o.series.name,
                instant(at(&o.series, step, o.series.values.len() + i)),
                o.prediction.point[i],
                o.prediction.lower[i],
                o.prediction.upper[i]
            );
        }
    }
    out
}

fn method_line(o: &Outcome) -> String {
    let scores: Vec<String> = o.prediction.validation.iter().map(|(m, s)| format!("{} {:.3}", m.name(), s)).collect();
    if scores.is_empty() {
        format!("method {}", o.prediction.method.name())
    } else {
        format!("method {} (MASE on the last horizon of the past: {})", o.prediction.method.name(), scores.join(", "))
    }
}

fn to_text(outcomes: &[Outcome], step: i64, horizon: usize, freq: &str) -> String {
    let mut out = String::new();
    for o in outcomes {
        let p = &o.prediction;
        let _ = writeln!(
            out,
            "{}: {} intervals of {freq} from {}, forecast {} ahead, {:.0} % prediction ranges",
            o.series.name,
            o.series.values.len(),
            instant(o.series.start),
            horizon,
            p.level * 100.0
        );
        let _ = writeln!(out, "{}", method_line(o));
        if let Some(b) = &o.backtest {
            let _ = writeln!(
                out,
                "backtest on the last {horizon} intervals: MASE {:.3}, sMAPE {:.1} % ({}; every method: {})",
                b.mase,
                b.smape,
                b.prediction.method.name(),
                b.methods.iter().map(|(m, mase, _)| format!("{} {:.3}", m.name(), mase)).collect::<Vec<_>>().join(", ")
            );
        }
        let n = o.series.values.len();
        if step < 86_400 && horizon > 48 {
            // A week of hours, told per UTC day: the expected total (the ranges are per
            // interval and do not add up: --format csv or json gives them).
            let _ = writeln!(out, "{:<22} {:>10}", "day (UTC)", "expected");
            let mut day_total = 0.0;
            let mut day_start = at(&o.series, step, n);
            for i in 0..p.point.len() {
                let here = at(&o.series, step, n + i);
                if i > 0 && here.as_second().rem_euclid(86_400) == 0 {
                    let _ = writeln!(out, "{:<22} {:>10.0}", instant(day_start), day_total);
                    day_total = 0.0;
                    day_start = here;
                }
                day_total += p.point[i];
            }
            let _ = writeln!(out, "{:<22} {:>10.0}", instant(day_start), day_total);
        } else {
            let _ = writeln!(out, "{:<22} {:>10} {:>22}", "interval start", "expected", "range");
            for i in 0..p.point.len() {
                let _ = writeln!(
                    out,
                    "{:<22} {:>10.0} {:>22}",
                    instant(at(&o.series, step, n + i)),
                    p.point[i],
                    format!("{:.0} – {:.0}", p.lower[i], p.upper[i])
                );
            }
        }
        out.push('\n');
    }
    out
}

fn to_html(outcomes: &[Outcome], step: i64, horizon: usize, freq: &str) -> String {
    let mut page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Inflow forecast</title><style>{}{}</style></head><body><header><h1>Inflow forecast</h1><p>{} intervals of {} ahead · generated by vigie</p></header><main>"#,
        vigie_analytics::render::html::STYLE,
        svg::STYLE,
        horizon,
        escape(freq)
    );
    for o in outcomes {
        let n = o.series.values.len();
        let shown = (3 * horizon).min(n);
        let labels: Vec<String> = (n - shown..n + horizon)
            .map(|i| {
                at(&o.series, step, i).strftime(if step < 86_400 { "%m-%d %H:%M" } else { "%Y-%m-%d" }).to_string()
            })
            .collect();
        let mut past = o.series.values[n - shown..].to_vec();
        past.extend(std::iter::repeat_n(f64::NAN, horizon));
        let mut ahead = vec![f64::NAN; shown.saturating_sub(1)];
        ahead.push(o.series.values[n - 1]);
        ahead.extend(&o.prediction.point);
        let mut range = vec![(f64::NAN, f64::NAN); shown];
        range.extend(o.prediction.lower.iter().zip(&o.prediction.upper).map(|(l, u)| (*l, *u)));
        let _ = write!(page, "<section><h2>{}</h2>", escape(&o.series.name));
        page.push_str(&svg::band_chart(
            &format!(
                "Arrivals per interval: the past, then the forecast with its {:.0} % interval",
                o.prediction.level * 100.0
            ),
            &labels,
            &[
                Band { name: "arrived", class: "s0", values: past, range: Vec::new() },
                Band { name: "forecast", class: "s1", values: ahead, range },
            ],
            None,
        ));
        let _ = write!(page, "<p>{}</p>", escape(&method_line(o)));
        if let Some(b) = &o.backtest {
            let _ = write!(
                page,
                "<p>Backtest on the last {horizon} intervals: MASE {:.3}, sMAPE {:.1} %.</p>",
                b.mase, b.smape
            );
        }
        page.push_str("</section>");
    }
    page.push_str("</main></body></html>\n");
    page
}

pub fn run(args: ForecastArgs) -> anyhow::Result<()> {
    let step = parse_freq(&args.freq)?;
    let method = match args.method.as_str() {
        "auto" => None,
        name => Some(Method::parse(name).with_context(|| {
            format!("--method: \"{name}\" is not a method (auto, seasonal_naive, mstl, profile, ensemble, ensemble_profile, ensemble_mstl)")
        })?),
    };
    if !(args.level > 0.0 && args.level < 1.0) {
        bail!("--level must be a share between 0 and 1, such as 0.95 (found {})", args.level);
    }
    let seasons = Seasons::of_step(step);
    let horizon = args.horizon.unwrap_or(((7 * 86_400) / step).max(1) as usize);
    if horizon > 1_000_000 {
        bail!("--horizon {horizon} is too far: at most 1,000,000 intervals");
    }
    if args.mase_season == Some(0) {
        bail!("--mase-season must be at least 1");
    }
    if horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let series = match (&args.arrivals, &args.from_history) {
        (Some(_), Some(_)) => bail!("give an arrivals series or --from-history, not both"),
        (None, None) => bail!("give an arrivals series (interval_start,count), or --from-history tickets.csv"),
        (Some(path), None) => vec![read_arrivals(path, step)?],
        (None, Some(path)) => read_history(path, step, &args.by, args.groups)?,
    };
    let mut outcomes = Vec::new();
    for s in series {
        let mut seasons = seasons.clone();
        seasons.start_offset = (s.start.as_second().rem_euclid(86_400) / step) as usize;
        if step == 86_400 {
            seasons.start_date = Some(jiff::tz::Offset::UTC.to_datetime(s.start).date());
        }
        let prediction = forecast(&s.values, horizon, &seasons, method, args.level)
            .map_err(|e| anyhow::anyhow!("{}: {e}", s.name))?;
        let backtest = if args.backtest {
            Some(
                backtest(&s.values, horizon, &seasons, method, args.level, args.mase_season)
                    .map_err(|e| anyhow::anyhow!("{}: the backtest: {e}", s.name))?,
            )
        } else {
            None
        };
        outcomes.push(Outcome { series: s, prediction, backtest });
    }
    let text = match args.format {
        Format::Text => to_text(&outcomes, step, horizon, &args.freq),
        Format::Json => to_json(&outcomes, step, horizon),
        Format::Csv => to_csv(&outcomes, step),
        Format::Html => to_html(&outcomes, step, horizon, &args.freq),
        Format::Arrivals => {
            if outcomes.len() > 1 {
                bail!("--format arrivals writes one series: choose one with --by");
            }
            let mut out = String::from("interval_start,count\n");
            for o in &outcomes {
                for (i, point) in o.prediction.point.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{},{}",
                        instant(at(&o.series, step, o.series.values.len() + i)),
                        point.round() as u64
                    );
                }
            }
            out
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot print")?;
        }
    }
    Ok(())
}
