//! `vigie simulate --from-history`: a scenario from an exported history (its arrival rates,
//! handle times, mix, open tickets and, unless shifts are given, the capacity it shows).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use vigie_analytics::history::{self, ReadOptions};
use vigie_analytics::tables;
use vigie_core::metrics::{HandleTimes, SlaTable};
use vigie_planning::simulate::history::{FromHistory, HistoryTicket, build};
use vigie_planning::simulate::scenario::{Scenario, Shift};

#[derive(Args)]
pub struct FromHistoryArgs {
    /// Build the scenario from this ticket history (tickets.csv, shared/FORMATS.md) instead of
    /// reading one: the last --weeks of arrivals, the open tickets at the export.
    #[arg(long, value_name = "TICKETS_CSV")]
    pub from_history: Option<PathBuf>,
    /// The SLA table (default: sla.csv beside the history): the class's wait target.
    #[arg(long, requires = "from_history")]
    sla: Option<PathBuf>,
    /// The handle-time table (default: handle_time.csv beside the history): service times and
    /// the capacity the history shows.
    #[arg(long, requires = "from_history")]
    handle_time: Option<PathBuf>,
    /// The weeks before the export the arrival rates are taken from.
    #[arg(long, default_value_t = 8, requires = "from_history")]
    weeks: u32,
    /// How many days to simulate from the export.
    #[arg(long, default_value_t = 28.0, requires = "from_history")]
    horizon_days: f64,
    /// The team's shifts: a TOML file with [[shift]] tables (a scenario's do; times in UTC).
    /// Default: the capacity the history shows, in three shifts a day.
    #[arg(long, requires = "from_history")]
    shifts: Option<PathBuf>,
    /// Also write the scenario built, to read, edit and run again.
    #[arg(long, requires = "from_history")]
    write_scenario: Option<PathBuf>,
    /// What the classes are: the priorities (P1 … P4), or the largest categories (the rest
    /// together as "other categories"), served tightest target first under --policy priority.
    #[arg(long, value_enum, default_value = "priority", requires = "from_history")]
    classes: ClassesBy,
    /// With --classes category: how many categories get a class of their own.
    #[arg(long, default_value_t = 6, requires = "from_history")]
    groups: usize,
    /// Which target of sla.csv is the target on the wait: first-response (live work) or
    /// resolution (back office, where the wait is most of the resolution time).
    #[arg(long, value_enum, default_value = "first-response", requires = "from_history")]
    sla_target: SlaTarget,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassesBy {
    Priority,
    Category,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SlaTarget {
    FirstResponse,
    Resolution,
}

/// Reads the [[shift]] tables of a file (a scenario or shifts alone), checked as a scenario
/// checks them.
fn read_shifts(path: &Path) -> anyhow::Result<Vec<Shift>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    vigie_planning::simulate::scenario::parse_shifts(&text).map_err(|error| {
        anyhow::anyhow!("{}", error.to_string().lines().map(|l| format!("{name}: {l}")).collect::<Vec<_>>().join("\n"))
    })
}

/// Reads the history and builds the scenario; says on standard error what was estimated.
pub fn build_scenario(
    args: &FromHistoryArgs,
    threshold: Option<u64>,
    replications: Option<u32>,
    added: Vec<Shift>,
) -> anyhow::Result<(Scenario, Vec<String>)> {
    let Some(path) = &args.from_history else { bail!("--from-history is needed") };
    if args.weeks == 0 {
        bail!("--weeks must be at least 1");
    }
    if !(args.horizon_days.is_finite() && args.horizon_days > 0.0) {
        bail!("--horizon-days must be above 0");
    }
    let beside = |file: &str| path.parent().unwrap_or(Path::new(".")).join(file);
    let sla_path = args.sla.clone().unwrap_or_else(|| beside("sla.csv"));
    let sla = if sla_path.is_file() { tables::read_sla(&sla_path)? } else { SlaTable::default() };
    let handle_path = args.handle_time.clone().unwrap_or_else(|| beside("handle_time.csv"));
    if !handle_path.is_file() {
        bail!(
            "{}: no handle-time table; the service times come from it (give --handle-time, a category,minutes file)",
            handle_path.display()
        );
    }
    let handle_times: HandleTimes = tables::read_handle_times(&handle_path)?;
    let shifts = args.shifts.as_deref().map(read_shifts).transpose()?;

    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let bar = crate::report::progress_bar(file.metadata().ok().map(|m| m.len()));
    let read = history::fold_rows(
        file,
        &name,
        ReadOptions::default(),
        &|bytes| bar.set_position(bytes),
        || Ok::<Vec<(HistoryTicket, Option<String>)>, String>(Vec::new()),
        |state, row| {
            let facts = row.facts()?;
            let Ok(tickets) = state else { return Ok(()) };
            let Some(handle_minutes) = handle_times.minutes(&facts.category) else {
                *state = Err(format!(
                    "{}: no handle time for category \"{}\" and no `*` row",
                    handle_path.display(),
                    facts.category
                ));
                return Ok(());
            };
            let latest = facts.latest();
            let target = sla.lookup(&facts.category, facts.priority).map(|m| match args.sla_target {
                SlaTarget::FirstResponse => m.first_response,
                SlaTarget::Resolution => m.resolution,
            });
            let category = (args.classes == ClassesBy::Category).then(|| facts.category.to_string());
            tickets.push((
                HistoryTicket {
                    created: facts.created_at,
                    resolved: facts.resolved_at,
                    latest,
                    class: (facts.priority.rank() - 1) as usize,
                    handle_minutes,
                    sla_minutes: target,
                },
                category,
            ));
            Ok(())
        },
    );
    bar.finish_and_clear();
    let (states, _) = read?;
    let mut read_tickets = Vec::new();
    for state in states {
        read_tickets.extend(state.map_err(|e| anyhow::anyhow!(e))?);
    }
    let (tickets, class_names) = classify(read_tickets, args.classes, args.groups);
    let options = FromHistory {
        name: format!("from {}", path.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned())),
        weeks: args.weeks,
        horizon_days: args.horizon_days,
        replications: replications.unwrap_or(100),
        shifts,
        added,
        backlog_threshold: threshold,
        classes: class_names,
        by_target: args.classes == ClassesBy::Category,
    };
    let (text, notes) = build(&tickets, &options).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut said = Vec::new();
    for note in notes {
        say!("note: {name}: {note}");
        said.push(note);
    }
    if let Some(out) = &args.write_scenario {
        std::fs::write(out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let (scenario, warnings) =
        Scenario::parse(&text).map_err(|e| anyhow::anyhow!("the scenario built from {name} is refused: {e}"))?;
    for warning in warnings {
        say!("warning: the scenario built from {name}: {warning}");
        said.push(warning.to_string());
    }
    Ok((scenario, said))
}

/// The class of each ticket: its priority, or its category among the `groups` largest (the
/// rest as "other categories").
fn classify(
    read: Vec<(HistoryTicket, Option<String>)>,
    by: ClassesBy,
    groups: usize,
) -> (Vec<HistoryTicket>, Vec<String>) {
    if by == ClassesBy::Priority {
        let names = ["P1", "P2", "P3", "P4"].map(String::from).to_vec();
        return (read.into_iter().map(|(t, _)| t).collect(), names);
    }
    let mut volume: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (_, category) in &read {
        *volume.entry(category.as_deref().unwrap_or("")).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = volume.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut names: Vec<String> = ranked.iter().take(groups.max(1)).map(|(c, _)| (*c).to_owned()).collect();
    let index: std::collections::HashMap<String, usize> =
        names.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect();
    let other = names.len();
    if ranked.len() > names.len() {
        names.push("other categories".to_owned());
    }
    let tickets = read
        .into_iter()
        .map(|(mut t, category)| {
            t.class = category.and_then(|c| index.get(&c).copied()).unwrap_or(other);
            t
        })
        .collect();
    (tickets, names)
}
