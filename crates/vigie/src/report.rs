//! `vigie report`: the backlog and KPI report of an exported history, offline.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use vigie_analytics::history::{ReadOptions, ReadSummary};
use vigie_analytics::{render, report, tables};
use vigie_core::metrics::{AsOf, HandleTimes, SlaTable};

#[derive(Args)]
pub struct ReportArgs {
    /// The ticket history (tickets.csv, shared/FORMATS.md); `-` reads standard input.
    tickets: PathBuf,
    /// The SLA table (category,priority,first_response_minutes,resolution_minutes). Default:
    /// sla.csv beside the history, if there is one.
    #[arg(long)]
    sla: Option<PathBuf>,
    /// The handle-time table (category,minutes). Default: handle_time.csv beside the history,
    /// if there is one.
    #[arg(long)]
    handle_time: Option<PathBuf>,
    /// The instant of the report (RFC 3339, e.g. 2026-03-02T08:00:00Z). Default: the latest
    /// timestamp of the history, its export instant.
    #[arg(long)]
    as_of: Option<String>,
    /// text: the morning view for a terminal; json: REPORT_SCHEMA.md; html: a page with charts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Skip bad rows (counted; the first few are described on standard error) instead of
    /// stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
    /// Parsing threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Html,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let as_of = match &args.as_of {
        None => AsOf::Latest,
        Some(text) => {
            let at = vigie_analytics::history::parse_timestamp(text.as_bytes())
                .with_context(|| format!("--as-of: {text:?} is not an RFC 3339 timestamp (2026-03-02T08:00:00Z)"))?;
            if !vigie_analytics::history::INSTANTS.contains(&at) {
                anyhow::bail!("--as-of: {text:?} is outside the years 1970 to 2199");
            }
            AsOf::At(at)
        }
    };
    let stdin = args.tickets.as_os_str() == "-";
    let beside = |name: &str| {
        (!stdin).then(|| args.tickets.parent().unwrap_or(Path::new(".")).join(name)).filter(|p| p.is_file())
    };
    let sla = match args.sla.clone().or_else(|| beside("sla.csv")) {
        Some(path) => tables::read_sla(&path)?,
        None => SlaTable::default(),
    };
    let handle_times = match args.handle_time.clone().or_else(|| beside("handle_time.csv")) {
        Some(path) => tables::read_handle_times(&path)?,
        None => HandleTimes::default(),
    };

    let name = args.tickets.display().to_string();
    let (source, size): (Box<dyn Read>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = File::open(&args.tickets).with_context(|| format!("cannot open {name}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let bar = progress_bar(size);
    let options = ReadOptions { skip_invalid: args.skip_invalid, threads: args.threads, ..ReadOptions::default() };
    let run = report::run(source, &name, as_of, &sla, &handle_times, options, &|bytes| bar.set_position(bytes));
    bar.finish_and_clear();
    let run = run?;
    tell_skipped(&run.summary);

    let file_name = args.tickets.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned());
    let text = match args.format {
        Format::Json => render::json::to_json(&run.report),
        Format::Text => render::text::to_text(&run.report, &file_name),
        Format::Html => render::html::to_html(&run.report, &file_name),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot write the report")?;
        }
    }
    Ok(())
}

/// A bar on a terminal, nothing when standard error is piped.
pub fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match size {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    }
}

/// Says on standard error how many rows were skipped, and the first few.
pub fn tell_skipped(summary: &ReadSummary) {
    if summary.skipped == 0 {
        return;
    }
    say!("warning: skipped {} invalid row(s) of {}; the first:", summary.skipped, summary.records);
    for error in &summary.first_skipped {
        say!("  {error}");
    }
}
