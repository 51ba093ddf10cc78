//! A simulation's results written out: JSON (with the `summary` structure of
//! `shared/bench/sim_common.py`, so `compare_sim.py` reads it beside the peers' runs), text for
//! a terminal, and one self-contained HTML page with SVG charts.

use std::fmt::Write;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use vigie_analytics::render::svg::{self, Band, escape};

use super::PolicyRun;
use super::scenario::Scenario;
use super::summary::{ClassSummary, METRICS, PolicySummary, Stat, ThresholdSummary};

/// The format of the JSON output.
pub const RESULT_FORMAT: &str = "vigie-sim-result/1";

fn stat_json(stat: &Stat) -> Value {
    json!({ "mean": stat.mean, "sd": stat.sd, "n": stat.n, "lo": stat.lo, "hi": stat.hi })
}

/// The instant `minutes` after the scenario's start.
fn at(scenario: &Scenario, minutes: f64) -> Timestamp {
    let offset = SignedDuration::from_secs_f64((minutes * 60.0).clamp(-1e15, 1e15));
    scenario.start.checked_add(offset).unwrap_or(scenario.start)
}

fn instant(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn summary_json(scenario: &Scenario, summary: &PolicySummary) -> Map<String, Value> {
    let mut classes = Map::new();
    for class in &summary.classes {
        let metrics: Map<String, Value> =
            METRICS.iter().zip(&class.metrics).map(|(name, stat)| ((*name).to_owned(), stat_json(stat))).collect();
        classes.insert(class.name.clone(), Value::Object(metrics));
    }
    let daily: Vec<Value> = summary
        .daily
        .iter()
        .map(|d| json!({ "day": d.day, "at": instant(at(scenario, d.minute)), "mean": d.mean, "p10": d.p10, "p90": d.p90, "peak_mean": d.peak_mean }))
        .collect();
    let threshold = summary.threshold.as_ref().map_or(Value::Null, |t| {
        let when =
            |minutes: f64| if minutes.is_nan() { Value::Null } else { Value::from(instant(at(scenario, minutes))) };
        json!({
            "threshold": t.threshold,
            "reached": t.reached,
            "replications": t.replications,
            "median_minutes": t.median_minutes,
            "p10_minutes": t.p10_minutes,
            "p90_minutes": t.p90_minutes,
            "median_at": when(t.median_minutes),
            "p10_at": when(t.p10_minutes),
            "p90_at": when(t.p90_minutes),
            "first_back": t.first_back,
            "first_back_median_at": when(t.first_back_median_minutes),
            "ever_above": t.ever_above,
        })
    });
    let outsourcing: Vec<Value> = summary
        .outsourcing
        .iter()
        .map(|c| json!({ "name": c.name, "agent_hours": stat_json(&c.agent_hours) }))
        .collect();
    let mut out = Map::new();
    out.insert("summary".into(), Value::Object(classes));
    out.insert("utilisation".into(), stat_json(&summary.utilisation));
    out.insert("overtime_hours".into(), stat_json(&summary.overtime_hours));
    out.insert("daily_backlog".into(), Value::Array(daily));
    out.insert("threshold".into(), threshold);
    out.insert("outsourcing".into(), Value::Array(outsourcing));
    out
}

/// The JSON document: the first policy's results at the top level (`summary` as the peers
/// write it), and every policy's under `comparison` when there are several.
pub fn to_json(scenario: &Scenario, runs: &[PolicyRun], replications: u32) -> String {
    let mut top = Map::new();
    top.insert("format".into(), RESULT_FORMAT.into());
    top.insert("peer".into(), "vigie".into());
    top.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    top.insert("scenario".into(), scenario.name.clone().into());
    top.insert("start".into(), instant(scenario.start).into());
    top.insert("horizon_days".into(), scenario.horizon_days.into());
    top.insert("reps".into(), replications.into());
    let seeds: Vec<Value> = (0..u64::from(replications)).map(|r| scenario.base_seed.wrapping_add(r).into()).collect();
    top.insert("seeds".into(), Value::Array(seeds));
    if let Some(first) = runs.first() {
        top.insert("policy".into(), first.policy.name().into());
        top.extend(summary_json(scenario, &first.summary));
    }
    if runs.len() > 1 {
        let comparison: Vec<Value> = runs
            .iter()
            .map(|run| {
                let mut one = Map::new();
                one.insert("policy".into(), run.policy.name().into());
                one.extend(summary_json(scenario, &run.summary));
                if let Some([wait, sla, backlog]) = &run.versus_first {
                    one.insert(
                        "versus_first".into(),
                        json!({ "mean_wait": stat_json(wait), "sla_share": stat_json(sla), "backlog_end": stat_json(backlog) }),
                    );
                }
                Value::Object(one)
            })
            .collect();
        top.insert("comparison".into(), Value::Array(comparison));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
    text.push('\n');
    text
}

/// The unit minutes read best in: (divisor, suffix).
fn unit_of(minutes: f64) -> (f64, &'static str) {
    if minutes < 120.0 {
        (1.0, "min")
    } else if minutes < 2880.0 {
        (60.0, "h")
    } else {
        (1440.0, "d")
    }
}

/// Minutes, readably: "42.0 min", "3.5 h", "2.1 d".
fn duration(minutes: f64) -> String {
    if minutes.is_nan() {
        return "-".to_owned();
    }
    let (divisor, suffix) = unit_of(minutes);
    format!("{:.1} {suffix}", minutes / divisor)
}

/// A mean duration with its 95 % interval, all three in the mean's unit.
fn duration_ci(stat: &Stat) -> String {
    if stat.mean.is_nan() {
        return "no new ticket started".to_owned();
    }
    let (divisor, suffix) = unit_of(stat.mean);
    if stat.lo.is_nan() {
        return duration(stat.mean);
    }
    format!("{:.1} [{:.1} – {:.1}] {suffix}", stat.mean / divisor, stat.lo.max(0.0) / divisor, stat.hi / divisor)
}

fn share(value: f64) -> String {
    if value.is_nan() { "-".to_owned() } else { format!("{:.1} %", value * 100.0) }
}

fn count(value: f64) -> String {
    if value.is_nan() { "-".to_owned() } else { format!("{value:.0}") }
}

/// A mean with its 95 % interval, formatted by `f`.
/// A mean with its 95 % interval, formatted by `f`, the bounds kept within `range` (the
/// interval of a share near 100 % would pass it).
fn with_ci(stat: &Stat, f: fn(f64) -> String, range: (f64, f64)) -> String {
    if stat.mean.is_nan() {
        "-".to_owned()
    } else if stat.lo.is_nan() {
        f(stat.mean)
    } else {
        format!("{} [{} – {}]", f(stat.mean), f(stat.lo.clamp(range.0, range.1)), f(stat.hi.clamp(range.0, range.1)))
    }
}

const SHARE: (f64, f64) = (0.0, 1.0);

fn hours(h: f64) -> String {
    format!("{h:.0}")
}

/// A class's (or ALL's) row: arrived, mean wait, p90 wait, within SLA, open at the end.
fn class_cells(class: &ClassSummary) -> [String; 5] {
    let [mean_wait, p90_wait, sla_share, backlog_end, arrived] = &class.metrics;
    [
        count(arrived.mean),
        duration_ci(mean_wait),
        duration_ci(p90_wait),
        with_ci(sla_share, share, SHARE),
        with_ci(backlog_end, count, COUNT),
    ]
}

/// What the crew and the outsourced teams did, a sentence each (text and page alike).
fn crew_sentences(summary: &PolicySummary) -> Vec<String> {
    let mut sentences = vec![format!(
        "The crew is on tickets {} of its time on duty; {} agent hours of overtime finishing tickets after a shift's end.",
        with_ci(&summary.utilisation, share, SHARE),
        with_ci(&summary.overtime_hours, hours, COUNT)
    )];
    for contract in &summary.outsourcing {
        sentences.push(format!(
            "Outsourcing {}: {} agent hours on duty.",
            contract.name,
            with_ci(&contract.agent_hours, hours, COUNT)
        ));
    }
    sentences
}
const COUNT: (f64, f64) = (0.0, f64::INFINITY);

fn threshold_sentence(scenario: &Scenario, t: &ThresholdSummary) -> String {
    let day = |minutes: f64| instant(at(scenario, minutes));
    if t.ever_above == 0 {
        return format!("The open tickets stayed at or below {} the whole time in every replication.", t.threshold);
    }
    let mut sentence = if t.first_back == 0 {
        format!("The open tickets never came back to {} or fewer once above it.", t.threshold)
    } else {
        format!(
            "Back to {} open tickets or fewer in {} of {} replications, first at {} (median of those, {} after the start).",
            t.threshold,
            t.first_back,
            t.replications,
            day(t.first_back_median_minutes),
            duration(t.first_back_median_minutes)
        )
    };
    if t.reached == 0 {
        sentence.push_str(&format!(
            " Above it again at the end of the {} days in every replication.",
            scenario.horizon_days
        ));
    } else {
        sentence.push_str(&format!(
            " Under it for good (to the end of the run) in {} of {}: from {} (median of those; 8 in 10 between {} and {}).",
            t.reached,
            t.replications,
            day(t.median_minutes),
            day(t.p10_minutes),
            day(t.p90_minutes)
        ));
    }
    sentence
}

/// The text for a terminal: per policy, per class, each metric with its 95 % interval; then
/// the open tickets week by week, the threshold and the outsourced hours.
pub fn to_text(scenario: &Scenario, runs: &[PolicyRun], replications: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} replications of {} days from {}",
        scenario.name,
        replications,
        scenario.horizon_days,
        instant(scenario.start)
    );
    // The class column as wide as the longest name (categories can be long).
    let width = scenario.classes.iter().map(|c| c.name.chars().count()).max().unwrap_or(0).max(8);
    for run in runs {
        let _ = writeln!(out, "\npolicy {} (means, 95 % intervals)", run.policy.name());
        let _ = writeln!(
            out,
            "{:<width$} {:>9} {:>30} {:>30} {:>26} {:>22}",
            "class", "arrived", "mean wait", "p90 wait", "within SLA", "open at end"
        );
        for class in &run.summary.classes {
            let [arrived, mean_wait, p90_wait, sla_share, backlog_end] = class_cells(class);
            let _ = writeln!(
                out,
                "{:<width$} {arrived:>9} {mean_wait:>30} {p90_wait:>30} {sla_share:>26} {backlog_end:>22}",
                class.name
            );
        }
        if let Some(t) = &run.summary.threshold {
            let _ = writeln!(out, "{}", threshold_sentence(scenario, t));
        }
        for sentence in crew_sentences(&run.summary) {
            let _ = writeln!(out, "{sentence}");
        }
    }
    if let Some(first) = runs.first().filter(|_| runs.len() > 1) {
        let _ = writeln!(
            out,
            "\nagainst {} on the same tickets (differences replication by replication, 95 % intervals)",
            first.policy.name()
        );
        let _ =
            writeln!(out, "{:<10} {:>32} {:>34} {:>26}", "policy", "mean wait", "within SLA (points)", "open at end");
        for run in &runs[1..] {
            if let Some([wait, sla, backlog]) = &run.versus_first {
                let signed = |s: &Stat, f: &dyn Fn(f64) -> String| {
                    if s.mean.is_nan() {
                        "-".to_owned()
                    } else if s.lo.is_nan() {
                        f(s.mean)
                    } else {
                        format!("{} [{} – {}]", f(s.mean), f(s.lo), f(s.hi))
                    }
                };
                let _ = writeln!(
                    out,
                    "{:<10} {:>32} {:>34} {:>26}",
                    run.policy.name(),
                    signed(wait, &|m| format!("{m:+.1} min")),
                    signed(sla, &|x| format!("{:+.2}", x * 100.0)),
                    signed(backlog, &|x| format!("{x:+.0}"))
                );
            }
        }
        if scenario.classes.len() == 1 {
            let _ = writeln!(out, "(one class: every policy serves it oldest first, so they cannot differ)");
        }
    }
    let band = if replications >= 10 { "8 in 10 between the brackets" } else { "the range between the brackets" };
    let _ = writeln!(
        out,
        "\nopen tickets at the start of each day (mean over the replications; {band}), and the day's peak (mean)"
    );
    let _ = write!(out, "{:<22}", "at");
    for run in runs {
        let _ = write!(out, " {:>22} {:>7}", run.policy.name(), "peak");
    }
    out.push('\n');
    let days = runs.first().map_or(0, |r| r.summary.daily.len());
    // Every day for two months; beyond, every week.
    let step = if days > 62 { 7 } else { 1 };
    for day in (0..days).filter(|d| d % step == 0 || d + 1 == days) {
        let minute = runs[0].summary.daily[day].minute;
        let _ = write!(out, "{:<22}", instant(at(scenario, minute)));
        for run in runs {
            let d = &run.summary.daily[day];
            let peak = if d.peak_mean.is_nan() { "-".to_owned() } else { format!("{:.0}", d.peak_mean) };
            let _ = write!(out, " {:>22} {:>7}", format!("{:.0} [{:.0} – {:.0}]", d.mean, d.p10, d.p90), peak);
        }
        out.push('\n');
    }
    out
}

/// The CSS class of the n-th policy's line.
fn series_class(i: usize) -> &'static str {
    ["s0", "s1", "s2", "s3"][i % 4]
}

/// One self-contained page: the backlog curve of each policy with its 10–90 % band, the
/// comparison of the policies, and each policy's table per class.
pub fn to_html(scenario: &Scenario, runs: &[PolicyRun], replications: u32, notes: &[String]) -> String {
    let title = format!("Simulation: {}", scenario.name);
    let mut page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><style>{style}{chart}</style></head><body><header><h1>{t}</h1><p>{reps} replications of {days} days from {start} · {policies} · generated by vigie</p></header><main>"#,
        t = escape(&title),
        style = vigie_analytics::render::html::STYLE,
        chart = svg::STYLE,
        reps = replications,
        days = scenario.horizon_days,
        start = instant(scenario.start),
        policies = escape(&runs.iter().map(|r| r.policy.name()).collect::<Vec<_>>().join(", ")),
    );
    let labels: Vec<String> = runs
        .first()
        .map(|r| r.summary.daily.iter().map(|d| at(scenario, d.minute).strftime("%m-%d %H:%M").to_string()).collect())
        .unwrap_or_default();
    let bands: Vec<Band<'_>> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| Band {
            name: run.policy.name(),
            class: series_class(i),
            values: run.summary.daily.iter().map(|d| d.mean).collect(),
            range: run.summary.daily.iter().map(|d| (d.p10, d.p90)).collect(),
        })
        .collect();
    if !notes.is_empty() {
        page.push_str(r#"<section><h2>Notes on the scenario</h2><ul>"#);
        for note in notes {
            let _ = write!(page, "<li>{}</li>", escape(note));
        }
        page.push_str("</ul></section>");
    }
    let reference = scenario.backlog_threshold.map(|t| ("threshold", t as f64));
    page.push_str("<section><h2>Open tickets, day by day</h2>");
    page.push_str(&svg::band_chart(
        "Open tickets at the start of each day: mean over the replications, shaded where 8 in 10 fall",
        &labels,
        &bands,
        reference,
    ));
    for run in runs {
        if let Some(t) = &run.summary.threshold {
            let _ = write!(page, "<p><b>{}</b>: {}</p>", run.policy.name(), escape(&threshold_sentence(scenario, t)));
        }
    }
    page.push_str("</section>");

    if runs.len() > 1 {
        page.push_str(
            r#"<section><h2>Policies compared (all classes)</h2><table><tr><th>policy</th><th class="n">mean wait</th><th class="n">p90 wait</th><th class="n">within SLA</th><th class="n">open at end</th>"#,
        );
        for class in &scenario.classes {
            let _ = write!(page, r#"<th class="n">{} within SLA</th>"#, escape(&class.name));
        }
        let _ = write!(
            page,
            r#"<th class="n">within SLA vs {} (points, paired 95 % interval)</th></tr>"#,
            runs[0].policy.name()
        );
        for run in runs {
            let all = run.summary.classes.last();
            let metric = |i: usize| all.map_or(f64::NAN, |a| a.metrics[i].mean);
            let _ = write!(
                page,
                r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td>"#,
                run.policy.name(),
                duration(metric(0)),
                duration(metric(1)),
                share(metric(2)),
                count(metric(3))
            );
            for class in &run.summary.classes[..run.summary.classes.len().saturating_sub(1)] {
                let _ = write!(page, r#"<td class="n">{}</td>"#, share(class.metrics[2].mean));
            }
            let versus = run.versus_first.as_ref().map_or("-".to_owned(), |[_, sla, _]| {
                format!("{:+.2} [{:+.2} – {:+.2}]", sla.mean * 100.0, sla.lo * 100.0, sla.hi * 100.0)
            });
            let _ = write!(page, r#"<td class="n">{versus}</td></tr>"#);
        }
        page.push_str("</table></section>");
    }

    for run in runs {
        let _ = write!(
            page,
            r#"<section><h2>Policy {}: per class (mean, 95 % interval)</h2><table><tr><th>class</th><th class="n">arrived</th><th class="n">mean wait</th><th class="n">p90 wait</th><th class="n">within SLA</th><th class="n">open at end</th></tr>"#,
            run.policy.name()
        );
        for class in &run.summary.classes {
            let _ = write!(page, "<tr><td>{}</td>", escape(&class.name));
            for cell in class_cells(class) {
                let _ = write!(page, r#"<td class="n">{cell}</td>"#);
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
        for sentence in crew_sentences(&run.summary) {
            let _ = write!(page, "<p>{}</p>", escape(&sentence));
        }
        page.push_str("</section>");
    }

    page.push_str(r#"<section><h2>Staffing of a week (agents on duty, UTC)</h2>"#);
    let hours: Vec<String> = (0..168).map(|h| format!("{} {:02}h", super::scenario::DAYS[h / 24], h % 24)).collect();
    let agents: Vec<f64> = (0..168)
        .map(|h| {
            let minute = h as f64 * 60.0;
            scenario.staffing.iter().find(|s| s.start <= minute && minute < s.end).map_or(0.0, |s| f64::from(s.agents))
        })
        .collect();
    // The work arriving in agents: tickets an hour × their mean hours of service.
    let work: Vec<f64> = (0..168)
        .map(|h| scenario.classes.iter().map(|c| c.arrivals_per_hour[h] * c.service_mean_minutes / 60.0).sum())
        .collect();
    page.push_str(&svg::line_chart(
        "Agents on duty and the work arriving, in agents (tickets an hour × mean hours of service), Monday to Sunday, UTC",
        &hours,
        &[
            svg::Series { name: "agents on duty", class: "outflow", values: agents },
            svg::Series { name: "work arriving, in agents", class: "inflow", values: work },
        ],
    ));
    page.push_str("</section></main></body></html>\n");
    page
}
