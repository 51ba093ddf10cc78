//! `vigie import`: loads an exported history into the store as events with their original
//! instants.
//!
//! The file is checked whole first (in parallel, as the report reads it), so a bad row stops
//! the import before anything is written. Then it is read in order and loaded in batches; each
//! batch is one transaction, and the tickets already in the store are left alone. So importing
//! the same file twice adds nothing, and an import interrupted anywhere (a crash, Ctrl-C, a
//! lost connection) is finished by running it again.

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use jiff::Timestamp;
use tokio::sync::mpsc;
use vigie_analytics::history::{self, ReadOptions, ReadSummary};
use vigie_analytics::import::HistoryTicket;
use vigie_core::directory::{Agent, Team};
use vigie_core::{AgentId, TeamId, TicketId};
use vigie_store::{Store, StoreError};

use crate::report::{progress_bar, tell_skipped};
use crate::{ConfigArg, DbArg, RulesDefault, load_rules, open};

/// Tickets loaded per transaction.
const BATCH: usize = 1_000;

#[derive(Args)]
pub struct ImportArgs {
    /// The ticket history (tickets.csv, shared/FORMATS.md).
    tickets: PathBuf,
    #[command(flatten)]
    db: DbArg,
    /// The rules whose SLA policies the imported tickets get (default: those saved in the
    /// database).
    #[command(flatten)]
    config: ConfigArg,
    /// Skip bad rows (counted; the first few are described) instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let name = args.tickets.display().to_string();
    let options = ReadOptions { skip_invalid: args.skip_invalid, ..ReadOptions::default() };

    // 1. Check the whole file before writing anything.
    let path = args.tickets.clone();
    let checked_name = name.clone();
    let checked = tokio::task::spawn_blocking(move || -> anyhow::Result<ReadSummary> {
        let file = File::open(&path).with_context(|| format!("cannot open {checked_name}"))?;
        let (_, summary) = history::fold_rows(
            file,
            &checked_name,
            options,
            &|_| {},
            || (),
            |(), row| HistoryTicket::from_row(row).map(|_| ()),
        )?;
        Ok(summary)
    })
    .await??;
    tell_skipped(&checked);

    // 2. Load it in order, in batches.
    let store = open(&args.db.db).await?;
    let outcome = load(&store, &args, &name, options).await;
    store.close().await;
    let loaded = outcome?;
    say!(
        "imported {name}: {} new tickets ({} events), {} already in the store, {} skipped as invalid",
        loaded.tickets,
        loaded.events,
        loaded.present,
        checked.skipped
    );
    if loaded.repeated > 0 {
        say!(
            "warning: {} row(s) repeat the id of an earlier row of the file; the first of each was kept",
            loaded.repeated
        );
    }
    Ok(())
}

#[derive(Default)]
struct Loaded {
    tickets: u64,
    events: u64,
    /// Rows whose ticket was already stored (a previous or interrupted import).
    present: u64,
    /// Rows that repeat the id of an earlier row of the file: the first is kept.
    repeated: u64,
}

fn id_digest(id: &TicketId) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

async fn load(store: &Store, args: &ImportArgs, name: &str, options: ReadOptions) -> anyhow::Result<Loaded> {
    let rules = load_rules(store, &args.config, RulesDefault::Saved).await?.rules();
    let file = File::open(&args.tickets).with_context(|| format!("cannot open {name}"))?;
    let size = file.metadata().ok().map(|m| m.len());
    let bar = progress_bar(size);

    // The reader runs on a blocking thread and hands over batches; at most two wait.
    let (batches, mut received) = mpsc::channel::<(Vec<HistoryTicket>, u64)>(2);
    let reader_name = name.to_owned();
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut batch = Vec::with_capacity(BATCH);
        let outcome = history::for_each_row(file, &reader_name, options, |row, bytes_read| {
            batch.push(HistoryTicket::from_row(row)?);
            if batch.len() < BATCH {
                return Ok(Ok(()));
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            // The loader is gone only when it failed; its error is the one to tell.
            Ok(batches.blocking_send((full, bytes_read)).map_err(|_| ()))
        })?;
        if outcome.is_ok() && !batch.is_empty() {
            let _ = batches.blocking_send((batch, size.unwrap_or(0)));
        }
        Ok(())
    });

    let mut loaded = Loaded::default();
    let mut directory = Directory::default();
    // The ids met so far in this file (8-byte digests: a 10-million-row file needs 80 MB), to
    // tell a row that repeats an earlier row's id from a ticket a previous run stored.
    let mut seen_in_file: HashSet<u64> = HashSet::new();
    let outcome = async {
        while let Some((batch, bytes_read)) = received.recv().await {
            let ids: Vec<TicketId> = batch.iter().map(|t| t.id.clone()).collect();
            let present = store.existing_ticket_ids(&ids).await?;
            let mut new: Vec<&HistoryTicket> = Vec::with_capacity(batch.len());
            for ticket in &batch {
                if !seen_in_file.insert(id_digest(&ticket.id)) {
                    loaded.repeated += 1;
                } else if present.contains(&ticket.id) {
                    loaded.present += 1;
                } else {
                    new.push(ticket);
                }
            }
            directory.ensure(store, &new).await?;
            let histories: Vec<_> = new
                .iter()
                .map(|t| {
                    let history = vigie_core::decide::assign_sla_targets(t.events(), &rules);
                    vigie_core::workflow::assign_steps(history, &rules)
                })
                .collect();
            if !histories.is_empty() {
                let summary = store.load_histories(histories).await.context("cannot load a batch of tickets")?;
                loaded.tickets += summary.n_tickets as u64;
                loaded.events += summary.n_events as u64;
            }
            bar.set_position(bytes_read);
        }
        anyhow::Ok(())
    }
    .await;
    drop(received);
    bar.finish_and_clear();
    let read = reader.await.context("the reading thread failed")?;
    outcome?;
    read?;
    Ok(loaded)
}

/// The teams and agents the imported tickets name, created in the directory when missing
/// (named after their ids; an admin can rename them). Customers are created with the tickets
/// by the store, as on the live write path.
#[derive(Default)]
struct Directory {
    teams: HashSet<TeamId>,
    agents: HashSet<AgentId>,
}

impl Directory {
    async fn ensure(&mut self, store: &Store, tickets: &[&HistoryTicket]) -> anyhow::Result<()> {
        let now = Timestamp::now();
        for ticket in tickets {
            if self.teams.insert(ticket.team.clone()) {
                let team = Team { id: ticket.team.clone(), name: ticket.team.to_string(), calendar: None };
                exists_ok(store.create_team(&team, now).await)?;
            }
            if let Some(assignee) = &ticket.assignee
                && self.agents.insert(assignee.clone())
            {
                let agent = Agent {
                    id: assignee.clone(),
                    name: assignee.to_string(),
                    teams: vec![ticket.team.clone()],
                    skill_categories: Vec::new(),
                    skill_languages: Vec::new(),
                };
                exists_ok(store.create_agent(&agent, now).await)?;
            }
        }
        Ok(())
    }
}

fn exists_ok(result: Result<(), StoreError>) -> anyhow::Result<()> {
    match result {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(error) => bail!("cannot update the directory: {error}"),
    }
}
