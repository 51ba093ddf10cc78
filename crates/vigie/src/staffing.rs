//! `vigie staffing`: the agents each interval of an arrivals series needs (Erlang C), offline.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use jiff::SignedDuration;
use vigie_planning::ratio::Ratio;
use vigie_planning::staffing::{IntervalStaffing, Staffer, StaffingParams};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Csv,
    Json,
}

#[derive(Args)]
pub struct StaffingArgs {
    /// The arrivals series: `interval_start,count` (shared/FORMATS.md), or `-` for stdin.
    arrivals: PathBuf,
    /// Mean handle time of a contact, in seconds.
    #[arg(long = "aht-seconds", alias = "aht", default_value = "300")]
    aht_seconds: String,
    /// The share of contacts to answer within --target-seconds.
    #[arg(long, default_value = "0.8")]
    target_sl: String,
    #[arg(long, default_value = "20")]
    target_seconds: String,
    /// The length of an interval of the series, in minutes.
    #[arg(long, default_value = "30")]
    interval_minutes: String,
    /// The share of paid time not spent on contacts (breaks, training, meetings).
    #[arg(long, default_value = "0.3")]
    shrinkage: String,
    /// The most agents may be busy on contacts.
    #[arg(long, default_value = "0.85")]
    max_occupancy: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write there instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn ratio(flag: &str, text: &str) -> anyhow::Result<Ratio> {
    Ratio::parse(text).map_err(|error| anyhow::anyhow!("--{flag}: {error}"))
}

pub fn run(args: StaffingArgs) -> anyhow::Result<()> {
    let params = StaffingParams {
        aht_seconds: ratio("aht-seconds", &args.aht_seconds)?,
        interval_minutes: ratio("interval-minutes", &args.interval_minutes)?,
        target_sl: ratio("target-sl", &args.target_sl)?,
        target_seconds: ratio("target-seconds", &args.target_seconds)?,
        shrinkage: ratio("shrinkage", &args.shrinkage)?,
        max_occupancy: ratio("max-occupancy", &args.max_occupancy)?,
    };
    if let Some((flag, reason)) = params.check().into_iter().next() {
        bail!("--{flag} {reason}");
    }
    let minutes = params.interval_minutes;
    if !(minutes.num * 60).is_multiple_of(minutes.den) {
        bail!("--interval-minutes must be a whole number of seconds");
    }
    let interval = SignedDuration::from_secs(i64::try_from(minutes.num * 60 / minutes.den).unwrap_or(i64::MAX));
    let name = args.arrivals.display().to_string();
    let (intervals, gaps) = if name == "-" {
        vigie_planning::arrivals::read("stdin", std::io::stdin().lock(), interval)?
    } else {
        let file = std::fs::File::open(&args.arrivals).with_context(|| format!("cannot read {name}"))?;
        vigie_planning::arrivals::read(&name, std::io::BufReader::new(file), interval)?
    };
    for gap in gaps.iter().take(5) {
        eprintln!("warning: {name}:{}: no interval between {} and {} (staffed as none)", gap.line, gap.after, gap.next);
    }
    if gaps.len() > 5 {
        eprintln!("warning: {name}: {} gaps in all", gaps.len());
    }
    let mut rows = Vec::with_capacity(intervals.len());
    let mut staffer = Staffer::new(params);
    for interval in &intervals {
        let staffing = staffer.staff(interval.count).map_err(|too_many| {
            anyhow::anyhow!(
                "{name}: interval {} ({} arrivals) needs more than {} agents: check --aht-seconds and --interval-minutes",
                interval.start_text,
                interval.count,
                too_many.agents_searched
            )
        })?;
        rows.push((interval.start_text.as_str(), staffing));
    }
    let text = match args.format {
        Format::Csv => csv(&rows),
        Format::Json => json(&rows),
        Format::Text => summary(&rows, &params),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes()).context("cannot print")?,
    }
    Ok(())
}

/// The columns of `shared/bench/erlangc_reference.py`'s output.
fn csv(rows: &[(&str, IntervalStaffing)]) -> String {
    // Sized once: a row is about a hundred bytes.
    let mut out = String::with_capacity(128 * (rows.len() + 1));
    out.push_str(
        "interval_start,count,intensity_erlangs,raw_agents,agents_with_shrinkage,service_level,occupancy,waiting_probability,binding\n",
    );
    // A row after its start depends on the count alone: each is written once.
    let mut written: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    for (start, s) in rows {
        let rest = written.entry(s.count).or_insert_with(|| {
            format!(
                ",{},{:?},{},{},{:?},{:?},{:?},{}\n",
                s.count,
                s.intensity,
                s.raw,
                s.with_shrinkage,
                s.service_level,
                s.occupancy,
                s.waiting_probability,
                s.binding.as_str()
            )
        });
        out.push_str(start);
        out.push_str(rest);
    }
    out
}

fn json(rows: &[(&str, IntervalStaffing)]) -> String {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|(start, s)| {
            serde_json::json!({
                "interval_start": start, "count": s.count, "intensity_erlangs": s.intensity,
                "raw_agents": s.raw, "agents_with_shrinkage": s.with_shrinkage,
                "service_level": s.service_level, "occupancy": s.occupancy,
                "waiting_probability": s.waiting_probability, "binding": s.binding.as_str(),
            })
        })
        .collect();
    format!("{}\n", serde_json::json!({ "intervals": items }))
}

fn summary(rows: &[(&str, IntervalStaffing)], params: &StaffingParams) -> String {
    let n = rows.len();
    let raw_total: u64 = rows.iter().map(|(_, s)| s.raw).sum();
    let scheduled_total: u64 = rows.iter().map(|(_, s)| s.with_shrinkage).sum();
    let hours = params.interval_minutes.to_f64() / 60.0;
    let peak = rows.iter().max_by_key(|(_, s)| s.with_shrinkage);
    let by_occupancy = rows.iter().filter(|(_, s)| s.binding.as_str() == "occupancy").count();
    let mut out = format!(
        "{n} intervals of {} minutes: {:.0} agent-hours on contacts, {:.0} to schedule with shrinkage\n",
        params.interval_minutes.to_f64(),
        raw_total as f64 * hours,
        scheduled_total as f64 * hours
    );
    if let Some((start, s)) = peak {
        out.push_str(&format!(
            "peak: {} agents to schedule at {start} ({} arrivals, {:.1} Erlangs, {} on contacts)\n",
            s.with_shrinkage, s.count, s.intensity, s.raw
        ));
    }
    out.push_str(&format!(
        "decided by the occupancy cap in {by_occupancy} intervals, by the service level in the others with arrivals\n\
         (every interval: --format csv or json)\n"
    ));
    out
}
