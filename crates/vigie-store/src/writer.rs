//! Group commit: concurrent ticket commands share one transaction and one durable commit.
//!
//! Protocol. Callers put a [`Submission`] and a reply channel on a queue. A writer task takes
//! the first waiting command, then every other command already waiting (up to
//! [`MAX_BATCH`]), runs them in one transaction ([`Queries::execute_batch`]), commits, and only
//! then answers each caller. While one batch commits, new commands queue up and form the next
//! batch, so under load the cost of an fsync is shared by everyone who arrived during the
//! previous one, and with one caller the latency is one commit.
//!
//! SQLite has one writer task (it has one writer anyway). PostgreSQL has a few, each on its
//! own connection, since the server can commit several transactions at once; row locks and
//! the version check keep them consistent.
//!
//! Failure: a transient error (deadlock, idempotency race) reruns the batch. A statement the
//! database refuses fails the batch, whose commands are then run one by one so that one bad
//! command cannot take its neighbours down with it. Any other error (connection lost, database
//! down) is reported to every caller and retried for none; an error *during* COMMIT is reported
//! as an unknown outcome, never retried, since the batch may have been recorded. Nothing is
//! answered before its commit.
//!
//! Shutdown: [`Writer::shutdown`] closes the queue; the tasks finish the commands already
//! queued, then stop.

use std::sync::Arc;

use sqlx::{Pool, Postgres, Sqlite};
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::warn;

use crate::dialect::Dialect;
use crate::queries::{BatchError, CommandResult, Queries};
use crate::{Backend, Committed, StoreError, Submission, SubmitError};

/// Most commands in one transaction: bounds a transaction's size and the wait of its last
/// caller, while being far above the 32 concurrent clients of the W6 workload.
pub(crate) const MAX_BATCH: usize = 512;
/// Queue length before callers wait to enqueue (back-pressure).
const QUEUE_DEPTH: usize = 8_192;
/// PostgreSQL writer tasks per instance.
const POSTGRES_WRITERS: usize = 4;
/// Reruns of a batch after a transient error.
const MAX_RETRIES: usize = 5;

type Request = (Submission, oneshot::Sender<CommandResult>);

/// Told of every committed command that recorded events, after its commit and before its
/// caller is answered (see [`crate::Store::on_commit`]).
pub type CommitListener = Arc<dyn Fn(&[&Committed]) + Send + Sync>;

type ListenerSlot = Arc<std::sync::RwLock<Option<CommitListener>>>;

#[derive(Clone)]
pub(crate) struct Writer {
    queue: Arc<std::sync::Mutex<Option<mpsc::Sender<Request>>>>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    listener: ListenerSlot,
}

impl Writer {
    pub(crate) fn start(backend: &Backend) -> Writer {
        let (sender, receiver) = mpsc::channel::<Request>(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        let listener: ListenerSlot = Arc::default();
        let tasks = match backend {
            Backend::Sqlite { writer, .. } => {
                vec![tokio::spawn(run(SqliteTx(writer.clone()), receiver, listener.clone()))]
            }
            Backend::Postgres(pool) => (0..POSTGRES_WRITERS)
                .map(|_| tokio::spawn(run(PgTx(pool.clone()), receiver.clone(), listener.clone())))
                .collect(),
        };
        Writer { queue: Arc::new(std::sync::Mutex::new(Some(sender))), tasks: Arc::new(Mutex::new(tasks)), listener }
    }

    pub(crate) fn set_listener(&self, listener: CommitListener) {
        if let Ok(mut slot) = self.listener.write() {
            *slot = Some(listener);
        }
    }

    pub(crate) async fn submit(&self, submission: Submission) -> CommandResult {
        let sender = self.queue.lock().map_err(|_| StoreError::Closed)?.clone().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender.send((submission, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| SubmitError::Store(StoreError::Closed))?
    }

    pub(crate) async fn shutdown(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// How a writer task opens a transaction on its backend.
trait Transactional: Send + 'static {
    type Db: Dialect;
    fn run_batch(&self, batch: &[Submission]) -> impl Future<Output = Result<Vec<CommandResult>, BatchError>> + Send;
}

struct SqliteTx(Pool<Sqlite>);
struct PgTx(Pool<Postgres>);

impl Transactional for SqliteTx {
    type Db = Sqlite;
    async fn run_batch(&self, batch: &[Submission]) -> Result<Vec<CommandResult>, BatchError> {
        // IMMEDIATE takes the write lock at BEGIN, so the reads of the batch see the state its
        // writes will be applied to.
        let mut tx = self.0.begin_with("BEGIN IMMEDIATE").await?;
        let results = Queries::<Sqlite>::execute_batch(&mut tx, batch).await?;
        tx.commit().await.map_err(BatchError::CommitFailed)?;
        Ok(results)
    }
}

impl Transactional for PgTx {
    type Db = Postgres;
    async fn run_batch(&self, batch: &[Submission]) -> Result<Vec<CommandResult>, BatchError> {
        let mut tx = self.0.begin().await?;
        let results = Queries::<Postgres>::execute_batch(&mut tx, batch).await?;
        tx.commit().await.map_err(BatchError::CommitFailed)?;
        Ok(results)
    }
}

async fn run<T: Transactional>(backend: T, receiver: Arc<Mutex<mpsc::Receiver<Request>>>, listener: ListenerSlot) {
    loop {
        let mut requests = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else { return };
            requests.push(first);
            while requests.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(request) => requests.push(request),
                    Err(_) => break,
                }
            }
        }
        commit_and_reply(&backend, requests, &listener).await;
    }
}

/// Commits a batch and answers its callers. Every answer is sent after the commit it reports.
async fn commit_and_reply<T: Transactional>(backend: &T, requests: Vec<Request>, listener: &ListenerSlot) {
    let (submissions, replies): (Vec<Submission>, Vec<_>) = requests.into_iter().unzip();
    let mut attempt = 0;
    let failure = loop {
        match backend.run_batch(&submissions).await {
            Ok(results) => {
                let listener = listener.read().ok().and_then(|slot| slot.clone());
                if let Some(listener) = listener {
                    let committed: Vec<&Committed> =
                        results.iter().filter_map(|r| r.as_ref().ok()).filter(|c| !c.events.is_empty()).collect();
                    // The batch is durable and its callers must hear so: a listener that panics
                    // must not take the answers (nor this task) with it.
                    let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        if !committed.is_empty() {
                            listener(&committed);
                        }
                    }));
                    if told.is_err() {
                        tracing::error!(
                            n_commands = committed.len(),
                            "the commit listener panicked; the batch is committed"
                        );
                    }
                }
                for (reply, result) in replies.into_iter().zip(results) {
                    // A caller that went away (client disconnected) is fine: its write is durable.
                    let _ = reply.send(result);
                }
                return;
            }
            Err(BatchError::IdempotencyRace) if attempt < MAX_RETRIES => {}
            Err(BatchError::Database(error)) if <T::Db as Dialect>::is_transient(&error) && attempt < MAX_RETRIES => {}
            Err(error) => break error,
        }
        attempt += 1;
    };
    match failure {
        // The database refused a statement of the batch (a constraint, a value it cannot take):
        // one command is probably to blame, so run them one by one and answer each as soon as
        // its own commit is done, so that the others still succeed.
        BatchError::Database(sqlx::Error::Database(error)) if submissions.len() > 1 => {
            warn!(%error, n_commands = submissions.len(), "batch refused; running its commands one by one");
            for request in submissions.into_iter().zip(replies) {
                Box::pin(commit_and_reply(backend, vec![request], listener)).await;
            }
        }
        // Anything else (connection lost, pool exhausted, the database down, an unknown commit
        // outcome) would fail every command alike: report it to all, retry none.
        failure => {
            let message = match &failure {
                BatchError::Database(error) => error.to_string(),
                BatchError::Store(error) => error.to_string(),
                BatchError::IdempotencyRace => "idempotency key in concurrent use".to_owned(),
                BatchError::CommitFailed(error) => error.to_string(),
            };
            warn!(error = %message, n_commands = submissions.len(), "batch failed");
            for reply in replies {
                let error = match &failure {
                    BatchError::CommitFailed(_) => StoreError::OutcomeUnknown(message.clone()),
                    BatchError::IdempotencyRace => StoreError::Conflict("idempotency key (concurrent use)".into()),
                    BatchError::Store(StoreError::Corrupt(what)) => StoreError::Corrupt(what.clone()),
                    BatchError::Database(sqlx::Error::Database(_)) => StoreError::Refused(message.clone()),
                    _ => StoreError::Unavailable(message.clone()),
                };
                let _ = reply.send(Err(SubmitError::Store(error)));
            }
        }
    }
}
