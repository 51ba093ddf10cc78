//! `vigie simulate`: what-if simulation of the backlog, offline, from a scenario file or from
//! an exported history.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use vigie_planning::simulate::history::parse_added_shift;
use vigie_planning::simulate::scenario::{Scenario, weekly_staffing};
use vigie_planning::simulate::{Policy, render, simulate};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Html,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// The scenario (TOML, format `vigie-sim-scenario/1`: shared/bench/SIMULATION.md). Not
    /// needed with --from-history.
    scenario: Option<PathBuf>,
    /// How many replications (default: the scenario's `replications`, else 100).
    #[arg(long)]
    replications: Option<u32>,
    /// The seed of replication 0 (default: the scenario's `base_seed`); replication r uses
    /// seed + r.
    #[arg(long)]
    seed: Option<u64>,
    /// Which waiting ticket a free agent takes: fifo, priority, edf or vigie; several
    /// (`priority,vigie`) or `all` compare them on the same tickets.
    #[arg(long, default_value = "priority")]
    policy: String,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Override the scenario's `backlog_threshold`: report when the open tickets are back at or
    /// below it.
    #[arg(long)]
    threshold: Option<u64>,
    /// A shift added on top, the what-if: "DAYS HH:MM-HH:MM AGENTS" in UTC, such as
    /// "Mon 08:00-12:00 2" or "Mon-Fri 14:00-18:00 1". Repeat for several.
    #[arg(long = "add", value_name = "SHIFT")]
    added: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write there instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    history: crate::simulate_history::FromHistoryArgs,
}

fn policies(text: &str) -> anyhow::Result<Vec<Policy>> {
    let mut policies = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name == "all" {
            policies.extend(Policy::ALL.into_iter().filter(|p| !policies.contains(p)).collect::<Vec<_>>());
            continue;
        }
        let Some(policy) = Policy::parse(name) else {
            bail!("--policy: \"{name}\" is not a policy (fifo, priority, edf, vigie, or all)");
        };
        if !policies.contains(&policy) {
            policies.push(policy);
        }
    }
    Ok(policies)
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let policies = policies(&args.policy)?;
    let added = args
        .added
        .iter()
        .map(|text| parse_added_shift(text).map_err(|e| anyhow::anyhow!("--add {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // What was said on standard error, for the page too.
    let mut notes: Vec<String> = Vec::new();
    let mut scenario = match (&args.scenario, &args.history.from_history) {
        (Some(_), Some(_)) => bail!("give a scenario file or --from-history, not both"),
        (None, None) => bail!("give a scenario file, or --from-history tickets.csv to build one from a history"),
        (Some(path), None) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
            let (scenario, warnings) = Scenario::parse(&text).map_err(|error| {
                let lines = error.to_string().lines().map(|line| format!("{name}: {line}")).collect::<Vec<_>>();
                anyhow::anyhow!("{}", lines.join("\n"))
            })?;
            for warning in &warnings {
                say!("warning: {name}: {warning}");
            }
            notes.extend(warnings.iter().map(ToString::to_string));
            let mut scenario = scenario;
            if !added.is_empty() {
                scenario.shifts.extend(added.iter().cloned());
                scenario.staffing = weekly_staffing(&scenario.shifts);
            }
            scenario
        }
        (None, Some(_)) => {
            // Checked here, so that the flag is named rather than the scenario built from it.
            if let Some(r) = args.replications
                && !(1..=vigie_planning::simulate::scenario::MAX_REPLICATIONS).contains(&r)
            {
                bail!(
                    "--replications must be from 1 to {} (found {r})",
                    vigie_planning::simulate::scenario::MAX_REPLICATIONS
                );
            }
            let (scenario, said) =
                crate::simulate_history::build_scenario(&args.history, args.threshold, args.replications, added)?;
            notes.extend(said);
            scenario
        }
    };
    if let Some(threshold) = args.threshold {
        scenario.backlog_threshold = Some(threshold);
    }
    if let Some(seed) = args.seed {
        scenario.base_seed = seed;
    }
    let replications = args.replications.unwrap_or(scenario.replications);
    let most = vigie_planning::simulate::scenario::MAX_REPLICATIONS;
    if replications == 0 || replications > most {
        bail!("--replications must be from 1 to {most} (found {replications})");
    }
    if policies.len() > 1 && scenario.classes.len() == 1 {
        say!("note: the scenario has one class: every policy serves it oldest first, so the policies cannot differ");
    }
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let started = std::time::Instant::now();
    let runs = simulate(&scenario, &policies, replications, threads);
    let elapsed = started.elapsed();
    let text = match args.format {
        Format::Text => render::to_text(&scenario, &runs, replications),
        Format::Json => render::to_json(&scenario, &runs, replications),
        Format::Html => render::to_html(&scenario, &runs, replications, &notes),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes()).context("cannot print")?;
            stdout.flush().context("cannot print")?;
        }
    }
    if args.out.is_some() || args.format == Format::Text {
        say!(
            "{} replications × {} {} in {:.2} s on {threads} threads",
            replications,
            policies.len(),
            if policies.len() == 1 { "policy" } else { "policies" },
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}
