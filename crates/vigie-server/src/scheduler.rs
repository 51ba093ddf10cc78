//! The SLA scheduler: at each ticket's next SLA instant (a warning lead, a deadline), it sends
//! the ticket a `CheckSla` command through the ordinary write path, which records what is due
//! (`SlaAtRisk`, `SlaBreached`) and nothing else.
//!
//! Protocol. The live state keeps every open ticket's next SLA instant, computed from its
//! clock and from what was already recorded for it (its SLA marks). A run ([`run_due`]) takes
//! every ticket whose instant is at or before "now" — however many — and checks them, a
//! group-committed batch at a time. The core decides from the ticket as stored, in the
//! transaction: a warning or a breach already recorded is never recorded again, so a check
//! sent twice (two instances, a retry) records once, and one sent late (the server was down
//! when the instant passed) records what is due then: this is the catch-up. Recording updates
//! the ticket's marks, which moves its next instant on. Between runs the loop ([`run`]) sleeps
//! until the earliest next instant, at most a minute (so that clock jumps and changes made by
//! other instances are picked up), or until a commit brings an earlier one.
//!
//! Tests drive [`run_due`] with the instants they choose: the clock is never read here but
//! through [`AppState::now`].

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use vigie_core::{Actor, CommandError, TicketId};
use vigie_store::{StoredTicket, SubmitError, TicketCommand};

use crate::AppState;

/// The longest sleep between two runs.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How often the rules and the directory are read again (changes by other instances).
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How often the scheduler's lease is checked, or asked for by an instance without it.
const LEASE_CHECK_EVERY: Duration = Duration::from_secs(10);
/// Checks in flight at once: a few group-commit batches' worth.
const IN_FLIGHT: usize = 2_048;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerRun {
    /// Tickets checked.
    pub n_checked: usize,
    /// SLA events recorded (warnings and breaches).
    pub n_recorded: usize,
    /// Checks that failed (the store was unavailable); they are tried again next run.
    pub n_failed: usize,
}

/// Checks every ticket whose SLA instant is at or before `now`.
pub async fn run_due(state: &AppState, now: Timestamp) -> SchedulerRun {
    let due = state.live.due_checks(now);
    let mut run = SchedulerRun { n_checked: due.len(), ..SchedulerRun::default() };
    for (idx, chunk) in due.chunks(IN_FLIGHT).enumerate() {
        // A long catch-up records its later chunks at their own time, not at the run's start:
        // a ticket's history never goes back in time.
        let now = if idx == 0 { now } else { now.max(state.now()) };
        let mut checks = tokio::task::JoinSet::new();
        for ticket_id in chunk {
            let state = state.clone();
            let ticket_id = ticket_id.clone();
            checks.spawn(async move {
                let command = TicketCommand::CheckSla { ticket_id: ticket_id.clone() };
                let result = state.submit_at(command, Actor::system(), now).await;
                (ticket_id, result)
            });
        }
        while let Some(joined) = checks.join_next().await {
            let Ok((ticket_id, result)) = joined else {
                run.n_failed += 1;
                continue;
            };
            match result {
                Ok(committed) if committed.events.is_empty() => {
                    // Nothing was due after all: the live copy was stale (changed by another
                    // instance). Take the stored state, then make sure not to spin on it.
                    let stored = StoredTicket { ticket: committed.ticket, last_seq: committed.last_seq };
                    state.live.reload(std::slice::from_ref(&stored), &[], now);
                    state.live.postpone_check(&ticket_id, now);
                }
                Ok(committed) => run.n_recorded += committed.events.len(),
                Err(SubmitError::Rejected(CommandError::NotFound)) => {
                    state.live.reload(&[], std::slice::from_ref::<TicketId>(&ticket_id), now);
                }
                Err(error) => {
                    tracing::warn!(%error, ticket = %ticket_id, "SLA check failed; retrying next run");
                    run.n_failed += 1;
                    state.live.postpone_check(&ticket_id, now);
                }
            }
        }
    }
    run
}

/// Runs the scheduler until `stop` turns true. With several instances on one database, only
/// the one holding the scheduler's lease records (the others wait for it, and take over if its
/// connection goes); recording stays exactly once either way, decided by the database.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut last_refresh = std::time::Instant::now();
    let mut lease: Option<vigie_store::SchedulerLease> = None;
    let mut last_lease_check = None::<std::time::Instant>;
    loop {
        if last_lease_check.is_none_or(|at| at.elapsed() >= LEASE_CHECK_EVERY) {
            last_lease_check = Some(std::time::Instant::now());
            lease = match lease.take() {
                Some(mut held) => {
                    if held.is_held().await {
                        Some(held)
                    } else {
                        tracing::warn!("lost the scheduler's lease (its connection failed)");
                        None
                    }
                }
                None => match state.store.scheduler_lease().await {
                    Ok(Some(acquired)) => {
                        tracing::info!("this instance runs the SLA scheduler");
                        Some(acquired)
                    }
                    Ok(None) => None,
                    Err(error) => {
                        tracing::warn!(%error, "cannot ask for the scheduler's lease");
                        None
                    }
                },
            };
        }
        let now = state.now();
        let run = if lease.is_some() { run_due(&state, now).await } else { SchedulerRun::default() };
        if run.n_recorded > 0 || run.n_failed > 0 {
            tracing::info!(
                n_checked = run.n_checked,
                n_recorded = run.n_recorded,
                n_failed = run.n_failed,
                "SLA warnings and breaches recorded"
            );
        }
        if last_refresh.elapsed() >= REFRESH_EVERY {
            last_refresh = std::time::Instant::now();
            refresh(&state).await;
        }
        let wait = match state.live.next_check() {
            Some(at) => {
                let micros = at.as_microsecond().saturating_sub(state.now().as_microsecond()).max(0);
                Duration::from_micros(u64::try_from(micros).unwrap_or(0)).min(MAX_SLEEP)
            }
            None => MAX_SLEEP,
        };
        let mut stopping = false;
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.live.checks_changed.notified() => {}
            // An error: the sender is gone, nobody can ask any more; stop as well.
            changed = stop.changed() => stopping = changed.is_err(),
        }
        if stopping || *stop.borrow() {
            if let Some(lease) = lease {
                lease.release().await;
            }
            return;
        }
    }
}

/// Picks up rules saved and directory changes made by other instances.
async fn refresh(state: &AppState) {
    match state.rules.refresh(&state.store).await {
        Ok(Some((rules, revision))) => state.live.set_rules(rules, revision, state.now()),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "cannot read the rules in force"),
    }
    if let Err(error) = state.live.reload_directory(&state.store).await {
        tracing::warn!(%error, "cannot read the directory");
    }
}
