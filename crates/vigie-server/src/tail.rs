//! Following the commits of the other instances (PostgreSQL, several instances on one
//! database): what keeps every instance's live state current, not only the one that wrote.
//!
//! Protocol. Every second, read the events after the highest sequence number seen, and for
//! each ticket whose event is newer than what the live state applied, read the ticket from the
//! store and apply it (ordered by its last sequence number, like a commit). An instance's own
//! commits are already applied by the commit listener, so they cost nothing more.
//!
//! Sequence numbers are handed out before the commits, by several writers: an event may become
//! visible after higher numbers did. The numbers skipped over are remembered as missing, and
//! every read starts below the lowest one still missing, until it shows up or [`GAP_PATIENCE`]
//! has passed (a number whose transaction rolled back never shows up). A transaction that held
//! a number longer than that would be missed until the next restart; a batch commits within
//! milliseconds.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use vigie_core::TicketId;
use vigie_store::StoreError;

use crate::AppState;

/// How often the log is read.
const EVERY: Duration = Duration::from_secs(1);
/// How long a skipped sequence number is waited for.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Events read per query.
const BATCH: u32 = 10_000;

/// Where the tail is in the log.
#[derive(Debug)]
pub struct Tail {
    high: i64,
    /// Sequence numbers below `high` not seen yet, with when they were first missed.
    missing: BTreeMap<i64, Instant>,
}

impl Tail {
    /// A tail from the end of the log as it is now (the live state was just built from the
    /// store: everything before is in it).
    pub async fn from_end(state: &AppState) -> Result<Tail, StoreError> {
        Ok(Tail { high: state.store.last_event_seq().await?, missing: BTreeMap::new() })
    }

    /// Reads what was committed since the last call and applies it; how many tickets were read
    /// again.
    pub async fn follow(&mut self, state: &AppState) -> Result<usize, StoreError> {
        let now = Instant::now();
        self.missing.retain(|_, since| now.duration_since(*since) < GAP_PATIENCE);
        let mut after = self.missing.keys().next().map_or(self.high, |lowest| lowest - 1);
        let mut stale: HashMap<TicketId, i64> = HashMap::new();
        loop {
            let events = state.store.events_since(after, BATCH).await?;
            for (seq, ticket_id) in &events {
                if *seq > self.high {
                    for skipped in self.high + 1..*seq {
                        self.missing.insert(skipped, now);
                    }
                    self.high = *seq;
                } else {
                    self.missing.remove(seq);
                }
                if state.live.known_seq(ticket_id.as_str()).is_none_or(|known| known < *seq) {
                    let newest = stale.entry(ticket_id.clone()).or_insert(*seq);
                    *newest = (*newest).max(*seq);
                }
            }
            match events.last() {
                Some((last, _)) if events.len() == BATCH as usize => after = *last,
                _ => break,
            }
        }
        let ids: Vec<TicketId> = stale.into_keys().collect();
        for chunk in ids.chunks(1_000) {
            let stored = state.store.stored_tickets(chunk).await?;
            state.live.reload(&stored, &[], state.now());
            for stored in &stored {
                state.similar.follow(&stored.ticket, state.live.holds(stored.ticket.id.as_str()));
            }
        }
        Ok(ids.len())
    }
}

/// Follows the log until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tail = match Tail::from_end(&state).await {
        Ok(tail) => tail,
        Err(error) => {
            tracing::error!(%error, "cannot read the event log: other instances' changes will not be followed");
            return;
        }
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
        if let Err(error) = tail.follow(&state).await {
            tracing::warn!(%error, "cannot read the event log; retrying");
        }
    }
}
