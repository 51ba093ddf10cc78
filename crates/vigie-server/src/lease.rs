//! Background work that one instance at a time does (the alerts, the automation): held by an
//! advisory lease on PostgreSQL (always granted on SQLite), asked for again when lost.

use std::time::Duration;

use tokio::sync::watch;
use vigie_store::{SchedulerLease, StoreError};

/// How long an instance without the lease waits before asking again.
const ASK_AGAIN: Duration = Duration::from_secs(15);

/// Runs `work` every `tick` while this instance holds the lease `acquire` asks for, until
/// `stop` changes; then releases the lease. `what` names the work in the log.
pub(crate) async fn while_leased<A, AF, W, WF>(
    what: &str,
    mut stop: watch::Receiver<bool>,
    tick: Duration,
    acquire: A,
    mut work: W,
) where
    A: Fn() -> AF,
    AF: Future<Output = Result<Option<SchedulerLease>, StoreError>>,
    W: FnMut() -> WF,
    WF: Future<Output = ()>,
{
    let mut lease: Option<SchedulerLease> = None;
    loop {
        if lease.is_none() {
            lease = acquire().await.unwrap_or_else(|error| {
                tracing::warn!(%error, what, "cannot ask for the lease");
                None
            });
        } else if let Some(held) = lease.as_mut()
            && !held.is_held().await
        {
            tracing::warn!(what, "lost the lease");
            lease = None;
        }
        if lease.is_some() {
            work().await;
        }
        let wait = if lease.is_some() { tick } else { ASK_AGAIN };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {
                if let Some(held) = lease.take() {
                    held.release().await;
                }
                return;
            }
        }
    }
}
