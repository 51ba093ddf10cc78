//! `vigie staffing --model workload`: agents for e-mail and back office, from the hours of work
//! and their SLA deadlines (vigie_planning::workload).

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use vigie_planning::simulate::history::parse_days_hours;
use vigie_planning::workload::{OpenHours, WorkloadParams, WorkloadPlan, plan};

use crate::staffing::{Format, StaffingArgs};

fn number(flag: &str, text: &str) -> anyhow::Result<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite()).with_context(|| format!("--{flag}: \"{text}\" is not a number"))
}

fn instant(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map_or_else(|_| seconds.to_string(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub fn run(args: &StaffingArgs) -> anyhow::Result<()> {
    let aht_minutes = number("aht-seconds", &args.aht_seconds)? / 60.0;
    let interval_minutes = number("interval-minutes", &args.interval_minutes)?;
    let shrinkage = number("shrinkage", &args.shrinkage)?;
    if aht_minutes <= 0.0 {
        bail!("--aht-seconds must be above 0");
    }
    if !(interval_minutes >= 1.0 && (interval_minutes * 60.0).fract() == 0.0) {
        bail!("--interval-minutes must be a whole number of seconds, a minute at least");
    }
    if !(0.0..1.0).contains(&shrinkage) {
        bail!("--shrinkage must be a share from 0 to below 1 (such as 0.3)");
    }
    if !(args.sla_hours.is_finite() && args.sla_hours > 0.0 && args.sla_hours <= 87_600.0) {
        bail!("--sla-hours must be above 0 and at most 87600 (ten years)");
    }
    if !(args.backlog_hours.is_finite() && args.backlog_hours >= 0.0) {
        bail!("--backlog-hours must be 0 or more");
    }
    let open = if args.open.is_empty() {
        OpenHours::always()
    } else {
        let spans = args
            .open
            .iter()
            .map(|text| {
                parse_days_hours(text)
                    .map_err(|why| anyhow::anyhow!("--open \"{text}\": {why} (such as \"Mon-Fri 09:00-17:00\")"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        OpenHours::from_days(&spans)
    };
    if open.minutes_a_week() == 0 {
        bail!("--open: the team is never open");
    }
    let interval_seconds = (interval_minutes * 60.0) as i64;
    let name = args.arrivals.display().to_string();
    let (intervals, gaps) = if name == "-" {
        vigie_planning::arrivals::read("stdin", std::io::stdin().lock(), SignedDuration::from_secs(interval_seconds))?
    } else {
        let file = std::fs::File::open(&args.arrivals).with_context(|| format!("cannot read {name}"))?;
        vigie_planning::arrivals::read(
            &name,
            std::io::BufReader::new(file),
            SignedDuration::from_secs(interval_seconds),
        )?
    };
    if !gaps.is_empty() {
        say!("warning: {name}: {} gaps (the first at line {}): no work counted there", gaps.len(), gaps[0].line);
    }
    let series: Vec<(i64, u64)> = intervals.iter().map(|i| (i.start.as_second(), i.count)).collect();
    // Every window of intervals counts (an O(n log n) search over them); a bound all the same.
    const MOST_ROWS: usize = 5_000_000;
    if series.len() > MOST_ROWS {
        bail!(
            "{name}: {} intervals; the workload model checks every window of them and takes at most {MOST_ROWS} \
             (a longer --interval-minutes, or a shorter series)",
            series.len()
        );
    }
    if series.is_empty() {
        bail!("{name}: no interval");
    }
    if args.sla_hours * 60.0 < 2.0 * interval_minutes {
        say!(
            "warning: --sla-hours {} is under two intervals of {interval_minutes} minutes: each interval's work is taken \
             as released at its start and due after its middle, which is coarse at this scale (use shorter intervals)",
            args.sla_hours
        );
    }
    let params = WorkloadParams {
        aht_minutes,
        sla_minutes: args.sla_hours * 60.0,
        shrinkage,
        backlog_hours: args.backlog_hours,
        // Business time when the team has opening hours, as vigie's SLAs are.
        sla_in_open_hours: !args.sla_calendar && !args.open.is_empty(),
        interval_seconds,
        open,
    };
    let result = plan(&series, &params);
    if let Some(i) = result.impossible {
        say!(
            "warning: {name}: the tickets of {} are due {} with no open hour before: no number of agents meets that deadline \
             (widen --open or --sla-hours)",
            instant(result.rows[i].start),
            instant(result.rows[i].due)
        );
    }
    let text = match args.format {
        Format::Text => text(&result, &params, &name),
        Format::Csv => {
            let mut out = String::from("interval_start,count,work_hours,due,agents_needed\n");
            for r in &result.rows {
                let _ = writeln!(
                    out,
                    "{},{},{:.3},{},{:.3}",
                    instant(r.start),
                    r.count,
                    r.work_hours,
                    instant(r.due),
                    r.agents
                );
            }
            out
        }
        Format::Json => {
            let rows: Vec<serde_json::Value> = result
                .rows
                .iter()
                .map(|r| {
                    serde_json::json!({ "interval_start": instant(r.start), "count": r.count, "work_hours": r.work_hours,
                    "due": instant(r.due), "agents_needed": r.agents,
                    "window_start": instant(result.rows[r.window_start].start) })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::json!({
                    "model": "workload", "agents": result.agents,
                    "binding": result.binding.map(|i| instant(result.rows[i].start)),
                    "backlog_agents_needed": result.backlog_agents,
                    "backlog_due": result.backlog_due.map(instant),
                    "sla_in_open_hours": params.sla_in_open_hours,
                    "binding_window_start": result.binding.map(|i| instant(result.rows[result.rows[i].window_start].start)),
                    "work_hours": result.rows.iter().map(|r| r.work_hours).sum::<f64>(),
                    "backlog_hours": params.backlog_hours, "intervals": rows,
                })
            )
        }
    };
    let mut output: Box<dyn Write> = match &args.out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    output.write_all(text.as_bytes()).and_then(|()| output.flush()).context("cannot write")?;
    Ok(())
}

fn text(result: &WorkloadPlan, params: &WorkloadParams, name: &str) -> String {
    let work: f64 = result.rows.iter().map(|r| r.work_hours).sum();
    let open_hours = f64::from(params.open.minutes_a_week()) / 60.0;
    let mut out = format!(
        "{name}: {} intervals, {work:.0} hours of work arriving, {:.0} waiting at the start; each ticket due {} {} hours after it arrives\n",
        result.rows.len(),
        params.backlog_hours,
        params.sla_minutes / 60.0,
        if params.sla_in_open_hours { "open" } else { "calendar" }
    );
    let backlog_binds =
        result.backlog_agents > 0.0 && result.binding.is_none_or(|i| result.backlog_agents >= result.rows[i].agents);
    match result.binding {
        _ if backlog_binds => {
            let _ = writeln!(
                out,
                "{} agents on duty whenever the team is open ({open_hours:.0} hours a week, {:.0} % of it on tickets) meet every deadline;\n\
                 the tightest: the backlog, all done by {}",
                result.agents,
                (1.0 - params.shrinkage) * 100.0,
                result.backlog_due.map_or_else(String::new, instant)
            );
        }
        None => out.push_str("no work: no agent needed\n"),
        Some(i) => {
            let r = &result.rows[i];
            let window = &result.rows[r.window_start..=i];
            let _ = writeln!(
                out,
                "{} agents on duty whenever the team is open ({open_hours:.0} hours a week, {:.0} % of it on tickets) meet every deadline;\n\
                 the tightest: the {} tickets ({:.0} hours{}) arriving from {} to the interval of {}, all done by {}",
                result.agents,
                (1.0 - params.shrinkage) * 100.0,
                window.iter().fold(0u64, |n, w| n.saturating_add(w.count)),
                window.iter().map(|w| w.work_hours).sum::<f64>(),
                if r.window_start == 0 && params.backlog_hours > 0.0 { ", with the backlog" } else { "" },
                instant(result.rows[r.window_start].start),
                instant(r.start),
                instant(r.due)
            );
        }
    }
    out.push_str("(every interval's need: --format csv or json)\n");
    out
}
