//! `vigie staffing`: the agents each interval of an arrivals series needs (Erlang C), offline.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use jiff::SignedDuration;
use std::collections::HashMap;
use vigie_planning::ratio::Ratio;

use vigie_planning::staffing::{Binding, IntervalStaffing, Staffer, StaffingParams};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Csv,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Model {
    /// Live channels (phone, chat): Erlang C per interval.
    ErlangC,
    /// E-mail and back office: the hours of work against the agents' productive hours, with
    /// the SLA deadline as the horizon.
    Workload,
}

#[derive(Args)]
pub struct StaffingArgs {
    /// The arrivals series: `interval_start,count` (shared/FORMATS.md), or `-` for stdin.
    pub(crate) arrivals: PathBuf,
    /// erlang-c for live channels; workload for e-mail and back office (--sla-hours,
    /// --backlog-hours, --open).
    #[arg(long, value_enum, default_value = "erlang-c")]
    pub(crate) model: Model,
    /// Workload: each ticket is due this many hours after it arrives.
    #[arg(long, default_value = "24")]
    pub(crate) sla_hours: f64,
    /// Workload: hours of work already waiting at the start of the series.
    #[arg(long, default_value = "0")]
    pub(crate) backlog_hours: f64,
    /// Workload: count --sla-hours in calendar hours rather than in the open hours of --open.
    #[arg(long)]
    pub(crate) sla_calendar: bool,
    /// Workload: when the team works, "DAYS HH:MM-HH:MM" in UTC (such as "Mon-Fri 09:00-17:00");
    /// repeat for several. Default: always. --sla-hours counts these hours (business time).
    #[arg(long = "open", value_name = "HOURS")]
    pub(crate) open: Vec<String>,
    /// Mean handle time of a contact, in seconds.
    #[arg(long = "aht-seconds", alias = "aht", default_value = "300")]
    pub(crate) aht_seconds: String,
    /// The share of contacts to answer within --target-seconds.
    #[arg(long, default_value = "0.8")]
    target_sl: String,
    #[arg(long, default_value = "20")]
    target_seconds: String,
    /// The length of an interval of the series, in minutes.
    #[arg(long, default_value = "30")]
    pub(crate) interval_minutes: String,
    /// The share of paid time not spent on contacts (breaks, training, meetings).
    #[arg(long, default_value = "0.3")]
    pub(crate) shrinkage: String,
    /// The most agents may be busy on contacts.
    #[arg(long, default_value = "0.85")]
    max_occupancy: String,
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: Format,
    /// Write there instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

fn ratio(flag: &str, text: &str) -> anyhow::Result<Ratio> {
    Ratio::parse(text).map_err(|error| anyhow::anyhow!("--{flag}: {error}"))
}

pub fn run(args: StaffingArgs) -> anyhow::Result<()> {
    if args.model == Model::Workload {
        return crate::workload::run(&args);
    }
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
    let mut output: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::with_capacity(
            64 << 10,
            std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // Streamed: each interval is staffed and written as it is read; only the text summary and
    // the JSON list are gathered.
    let mut staffer = Staffer::new(params);
    // Each distinct count's row is formatted once: by index for the usual counts, hashed above.
    let mut written_small: Vec<Option<String>> = Vec::new();
    let mut written: HashMap<u64, String> = HashMap::new();
    let mut summary = Summary::default();
    let mut items = Vec::new();
    if args.format == Format::Csv {
        output.write_all(CSV_HEADER.as_bytes()).context("cannot write")?;
    }
    let mut each = |start_text: &str, _start: jiff::Timestamp, count: u64| -> anyhow::Result<()> {
        let staffing = staffer.staff(count).map_err(|too_many| {
            anyhow::anyhow!(
                "{name}: interval {start_text} ({count} arrivals) needs more than {} agents: check --aht-seconds and --interval-minutes",
                too_many.agents_searched
            )
        })?;
        match args.format {
            Format::Csv => {
                let rest = match usize::try_from(count).ok().filter(|c| *c < 1 << 16) {
                    Some(index) => {
                        if written_small.len() <= index {
                            written_small.resize(index + 1, None);
                        }
                        written_small[index].get_or_insert_with(|| csv_rest(&staffing))
                    }
                    None => written.entry(count).or_insert_with(|| csv_rest(&staffing)),
                };
                output.write_all(start_text.as_bytes()).context("cannot write")?;
                output.write_all(rest.as_bytes()).context("cannot write")?;
            }
            Format::Json => items.push(json_item(start_text, &staffing)),
            Format::Text => summary.add(start_text, &staffing),
        }
        Ok(())
    };
    let gaps = if name == "-" {
        vigie_planning::arrivals::read_each("stdin", std::io::stdin().lock(), interval, &mut each)?
    } else {
        let file = std::fs::File::open(&args.arrivals).with_context(|| format!("cannot read {name}"))?;
        vigie_planning::arrivals::read_each(&name, std::io::BufReader::new(file), interval, &mut each)?
    };
    for gap in gaps.iter().take(5) {
        say!("warning: {name}:{}: no interval between {} and {} (staffed as none)", gap.line, gap.after, gap.next);
    }
    if gaps.len() > 5 {
        say!("warning: {name}: {} gaps in all", gaps.len());
    }
    match args.format {
        Format::Csv => {}
        Format::Json => {
            let text = format!("{}\n", serde_json::json!({ "intervals": items }));
            output.write_all(text.as_bytes()).context("cannot write")?;
        }
        Format::Text => output.write_all(summary.text(&params).as_bytes()).context("cannot write")?,
    }
    output.flush().context("cannot write")?;
    Ok(())
}

const CSV_HEADER: &str = "interval_start,count,intensity_erlangs,raw_agents,agents_with_shrinkage,service_level,occupancy,waiting_probability,binding\n";

/// A CSV row after its start (the columns of `shared/bench/erlangc_reference.py`): it depends on
/// the count alone, so each is formatted once.
fn csv_rest(s: &IntervalStaffing) -> String {
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
}

fn json_item(start: &str, s: &IntervalStaffing) -> serde_json::Value {
    serde_json::json!({
        "interval_start": start, "count": s.count, "intensity_erlangs": s.intensity,
        "raw_agents": s.raw, "agents_with_shrinkage": s.with_shrinkage,
        "service_level": s.service_level, "occupancy": s.occupancy,
        "waiting_probability": s.waiting_probability, "binding": s.binding.as_str(),
    })
}

/// The text format: totals and the peak.
#[derive(Default)]
struct Summary {
    n: usize,
    raw_total: u64,
    scheduled_total: u64,
    by_occupancy: usize,
    peak: Option<(String, IntervalStaffing)>,
}

impl Summary {
    fn add(&mut self, start: &str, s: &IntervalStaffing) {
        self.n += 1;
        self.raw_total += s.raw;
        self.scheduled_total += s.with_shrinkage;
        self.by_occupancy += usize::from(s.binding == Binding::Occupancy);
        if self.peak.as_ref().is_none_or(|(_, peak)| s.with_shrinkage > peak.with_shrinkage) {
            self.peak = Some((start.to_owned(), *s));
        }
    }

    fn text(&self, params: &StaffingParams) -> String {
        let hours = params.interval_minutes.to_f64() / 60.0;
        let mut out = format!(
            "{} intervals of {} minutes: {:.0} agent-hours on contacts, {:.0} to schedule with shrinkage\n",
            self.n,
            params.interval_minutes.to_f64(),
            self.raw_total as f64 * hours,
            self.scheduled_total as f64 * hours
        );
        if let Some((start, s)) = &self.peak {
            out.push_str(&format!(
                "peak: {} agents to schedule at {start} ({} arrivals, {:.1} Erlangs, {} on contacts)\n",
                s.with_shrinkage, s.count, s.intensity, s.raw
            ));
        }
        out.push_str(&format!(
            "decided by the occupancy cap in {} intervals, by the service level in the others with arrivals\n\
             (every interval: --format csv or json)\n",
            self.by_occupancy
        ));
        out
    }
}
