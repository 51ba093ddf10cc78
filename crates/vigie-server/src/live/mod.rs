//! The live state: every open ticket in memory, in queue order per team, with its SLA clock,
//! its next SLA check and what "next ticket" may give.
//!
//! Built from the store at start ([`LiveState::rebuild`]), then kept current by the store's
//! commit listener: every committed command that recorded events is applied here after its
//! commit and before its caller is answered, so a caller never reads an order older than its
//! own write. A change costs a few ordered-set updates (O(log n) plus a chunk shift); a page of
//! the queue, "next ticket" and the next SLA instant are read without touching SQL.
//!
//! What it holds per open ticket: the ticket without its subject and body (the SQL projection
//! has them; the tags and the time rules applied stay, for the automation's conditions), its place in the order ([`vigie_core::queue::place`]), its SLA status
//! as of its last change, and its next SLA check. Per team: the queue of all its open tickets
//! (weights are handle times, for the work ahead of a ticket) and the queue of the ones an
//! agent may claim (unassigned, `new` or `open`). Tickets without a team form their own queue.
//!
//! **Invariant:** a ticket is in `tickets` exactly when it is open, and then in its team's
//! `order` queue with its current key, in its team's `claimable` queue exactly when it is
//! unassigned and `new` or `open`, and in `checks` exactly when it has a next SLA check.
//!
//! **Invariant:** events are applied in sequence order per ticket: a commit older than the
//! one already applied (possible with several PostgreSQL writers answering out of order) is
//! ignored.
//!
//! It also keeps the live backlog's aggregates (`backlog.rs`): counts and ordered indexes of the
//! open tickets, and the tickets created or resolved in the last weeks, so that the dashboard's
//! snapshot is a few rank lookups.
//!
//! With several instances on PostgreSQL, an instance does not see the others' commits here
//! until it reloads a ticket; "next ticket" stays correct because the claim is decided by the
//! database, and a failed claim reloads the candidates it tried.

mod backlog;
mod ordered;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jiff::Timestamp;
use vigie_core::directory::{Agent, Skills, Team};
use vigie_core::metrics::{AtRisk, Backlog, SlaCompliance};
use vigie_core::queue::{self, QueueFacts, QueueKey, QueuePlace};
use vigie_core::sla::{SlaClock, SlaMarks, SlaState, SlaTargets, StatusSince, TargetSummary, TicketSla};
use vigie_core::workflow::StepSince;
use vigie_core::{AgentId, Channel, CustomerId, CustomerTier, Priority, Rules, Status, TeamId, Ticket, TicketId};
use vigie_store::{Since, Store, StoreError, StoredTicket};

pub use backlog::{HOUR_MICROS, RETENTION_DAYS, hour_of};
use backlog::{OpenAggregates, RecentTicket, RecentTickets};

use ordered::{Entry, OrderedQueue};

/// Open tickets evaluated under one read lock by the time rules' pass.
const AUTOMATION_CHUNK: usize = 8_192;
/// Open tickets read per query when the live state is rebuilt.
const REBUILD_PAGE: u32 = 10_000;
/// How many tickets that left the live state keep their last sequence number: far more than
/// can be in flight between a commit and its delivery here.
const GONE_KEPT: usize = 100_000;

/// The live state; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct LiveState {
    inner: RwLock<Inner>,
    /// Woken when a ticket gets an SLA check earlier than any known (the scheduler waits on it).
    pub(crate) checks_changed: tokio::sync::Notify,
}

#[derive(Debug)]
struct Inner {
    rules: Arc<Rules>,
    tickets: HashMap<Arc<str>, LiveTicket>,
    /// By team id; the tickets without a team under [`NO_TEAM`].
    queues: HashMap<Arc<str>, TeamQueues>,
    /// One copy of each category, team, agent, customer and language seen, shared by the
    /// tickets (a million tickets name a few hundred of them).
    strings: HashSet<Arc<str>>,
    /// One copy of each set of SLA targets (as many as policies).
    targets: HashSet<Arc<SlaTargets>>,
    /// (instant, ticket): the next SLA check of each ticket that has one.
    checks: BTreeSet<(Timestamp, Arc<str>)>,
    /// Tickets a claim is being tried on, so that concurrent callers try others.
    reserved: HashSet<Arc<str>>,
    /// The last sequence number of tickets that left (solved, closed), the most recent
    /// [`GONE_KEPT`]: a commit older than their leaving, delivered late (several PostgreSQL
    /// writers answer out of order), must not bring them back.
    gone: HashMap<Arc<str>, i64>,
    gone_order: std::collections::VecDeque<Arc<str>>,
    /// The revision of the rules in force here.
    rules_revision: i64,
    directory: Directory,
    /// The open tickets' counts and indexes for the backlog snapshot.
    open: OpenAggregates,
    /// The tickets created or resolved recently. Behind its own lock: a snapshot moves its
    /// counts forward in time while holding only a read lock on the rest.
    recent: Mutex<RecentTickets>,
}

#[derive(Debug, Default)]
struct TeamQueues {
    order: OrderedQueue,
    claimable: OrderedQueue,
}

#[derive(Debug, Default)]
struct Directory {
    teams: HashMap<TeamId, Team>,
    agents: HashMap<AgentId, Agent>,
    /// Agents per team, an agent of several teams counting for a share of each.
    capacity: HashMap<TeamId, f64>,
}

/// The queue of the tickets without a team (team ids are never empty).
const NO_TEAM: &str = "";

/// What the live state keeps of an open ticket: what the order, the filters, the SLA clock and
/// "next ticket" read, in a compact form (shared strings, no texts), about 300 bytes.
#[derive(Debug, Clone)]
struct LiveTicket {
    id: Arc<str>,
    /// The sequence number of the last event applied.
    last_seq: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
    first_response_at: Option<Timestamp>,
    status: Status,
    priority: Priority,
    channel: Channel,
    customer_tier: CustomerTier,
    legal_risk: bool,
    blocking: bool,
    category: Arc<str>,
    /// [`NO_TEAM`] for none.
    team: Arc<str>,
    assignee: Option<Arc<str>>,
    customer_id: Arc<str>,
    language: Option<Arc<str>>,
    /// Shared strings, like the categories: a few distinct tags for a million tickets.
    tags: Box<[Arc<str>]>,
    /// The time rules applied in its current status (what the automation pass skips).
    rules_applied: Box<[Arc<str>]>,
    status_history: Box<[StatusSince]>,
    /// The steps of its path it entered (empty, no allocation, off a path).
    steps: Box<[StepSince]>,
    sla_targets: Option<Arc<SlaTargets>>,
    sla_marks: SlaMarks,
    key: QueueKey,
    /// Each target's state when the ticket last changed (a running target whose deadline has
    /// passed since is breached now: see [`LiveTicket::sla_state_at`]).
    sla_cache: [Option<TargetSummary>; 2],
    next_check: Option<Timestamp>,
    /// Thousandths of a minute of work: its handle time while workable, 0 while paused.
    weight: i64,
    claimable: bool,
}

/// Which open tickets a live list returns.
#[derive(Debug, Clone, Default)]
pub struct LiveQuery {
    pub filters: Filters,
    /// The teams the reader may see; `None`: all.
    pub scope: Option<Vec<TeamId>>,
    pub order: LiveOrder,
    pub after: Option<LiveCursor>,
    pub limit: usize,
}

/// The filters of a ticket list: values of one filter are alternatives, different filters all
/// apply; an empty filter selects everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub statuses: Vec<Status>,
    pub teams: Vec<TeamId>,
    pub priorities: Vec<Priority>,
    pub categories: Vec<String>,
    pub channels: Vec<Channel>,
    pub assignees: Vec<String>,
    pub customer_ids: Vec<CustomerId>,
    /// Any of these overall SLA states at the time of the read (open tickets only).
    pub sla_states: Vec<SlaState>,
    /// Only tickets whose SLA deadline (running or breached, not paused) is before this instant.
    pub due_before: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LiveOrder {
    #[default]
    Queue,
    Created,
}

/// A position in a live list: the queue key and id of the last item served, or for the
/// creation order its creation instant and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveCursor {
    Queue { key: QueueKey, id: String },
    Created { created_at: i64, id: String },
}

/// One ticket of a live list.
#[derive(Debug, Clone)]
pub struct LiveItem {
    pub id: TicketId,
    pub cursor: LiveCursor,
}

/// What a rebuild did, and where its time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildSummary {
    pub n_tickets: usize,
    /// Tickets resolved recently, read for the backlog's window.
    pub n_resolved: usize,
    /// Reading the open tickets from the store.
    pub reading: std::time::Duration,
    /// Computing their SLA and places and indexing them.
    pub indexing: std::time::Duration,
}

/// The live backlog at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveBacklog {
    pub at: Timestamp,
    pub backlog: Backlog,
    /// Open tickets not answered yet whose first-response deadline has passed.
    pub response_overdue: u64,
    /// The backlog in hours of work, per team (`""` for the tickets without one).
    pub hours_of_work_by_team: BTreeMap<String, f64>,
    pub sla_by_category_priority: BTreeMap<String, BTreeMap<String, SlaCompliance>>,
    /// Open tickets whose resolution deadline comes within the hour, soonest first.
    pub at_risk: Vec<AtRisk>,
}

/// Where an open ticket stands in its team's queue: what the place and the prediction of a
/// ticket are computed from (with its SLA, by the caller, from the ticket it shows).
#[derive(Debug, Clone)]
pub struct Standing {
    /// 1-based position in its team's queue (the tickets without team form one queue).
    pub position: usize,
    pub queue_length: usize,
    /// Minutes of work queued ahead of it in its team's queue.
    pub work_ahead_minutes: f64,
    /// Its own minutes of work (0 while it waits).
    pub own_minutes: f64,
    /// Its team's; `None` for a ticket without team.
    pub capacity: Option<TeamCapacity>,
}

/// Who works a team's queue, and when.
#[derive(Debug, Clone)]
pub struct TeamCapacity {
    /// Agents on record (an agent of several teams counts for a share of each).
    pub agents: f64,
    /// The team's calendar (`None`: 24x7).
    pub calendar: Option<String>,
}

impl LiveState {
    /// An empty live state under `rules`.
    pub fn new(rules: Arc<Rules>) -> LiveState {
        LiveState {
            inner: RwLock::new(Inner {
                rules,
                tickets: HashMap::new(),
                queues: HashMap::new(),
                strings: HashSet::new(),
                targets: HashSet::new(),
                checks: BTreeSet::new(),
                reserved: HashSet::new(),
                gone: HashMap::new(),
                gone_order: std::collections::VecDeque::new(),
                rules_revision: 0,
                directory: Directory::default(),
                open: OpenAggregates::default(),
                recent: Mutex::new(RecentTickets::default()),
            }),
            checks_changed: tokio::sync::Notify::new(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads every open ticket and the directory from the store, replacing what was held.
    pub async fn rebuild(&self, store: &Store, now: Timestamp) -> Result<RebuildSummary, StoreError> {
        self.reload_directory(store).await?;
        {
            let mut inner = self.write();
            inner.tickets.clear();
            inner.queues.clear();
            inner.checks.clear();
            inner.gone.clear();
            inner.gone_order.clear();
            inner.open = OpenAggregates::default();
            inner.recent_mut().clear();
        }
        // A page at a time, so that a million tickets are never all held twice. (Reading the
        // next page while indexing this one was tried: on two cores it made the whole slower.)
        let mut summary = RebuildSummary::default();
        let mut after = None;
        loop {
            let started = std::time::Instant::now();
            let (page, next) = store.open_tickets_page(after.as_ref(), REBUILD_PAGE).await?;
            summary.reading += started.elapsed();
            if page.is_empty() {
                break;
            }
            after = next;
            summary.n_tickets += page.len();
            let started = std::time::Instant::now();
            let mut inner = self.write();
            for stored in &page {
                inner.upsert(&stored.ticket, stored.last_seq, now);
            }
            drop(inner);
            summary.indexing += started.elapsed();
        }
        // The tickets resolved recently: the window's compliance and the hourly outflow.
        let since = backlog::shift(now, -backlog::RETENTION_DAYS * 86_400 * 1_000_000);
        let started = std::time::Instant::now();
        let mut indexing = std::time::Duration::ZERO;
        store
            .for_each_since(Since::Resolved, since, REBUILD_PAGE, |page| {
                let indexing_started = std::time::Instant::now();
                summary.n_resolved += page.len();
                let mut inner = self.write();
                for stored in &page {
                    inner.upsert(&stored.ticket, stored.last_seq, now);
                }
                drop(inner);
                indexing += indexing_started.elapsed();
            })
            .await?;
        summary.indexing += indexing;
        summary.reading += started.elapsed().saturating_sub(indexing);
        self.checks_changed.notify_one();
        Ok(summary)
    }

    /// Reads the teams and agents again (after a directory change, and periodically).
    pub async fn reload_directory(&self, store: &Store) -> Result<(), StoreError> {
        let teams = store.teams().await?;
        let agents = store.agents().await?;
        let mut capacity: HashMap<TeamId, f64> = HashMap::new();
        for agent in &agents {
            let share = 1.0 / agent.teams.len().max(1) as f64;
            for team in &agent.teams {
                *capacity.entry(team.clone()).or_default() += share;
            }
        }
        let mut inner = self.write();
        inner.directory = Directory {
            teams: teams.into_iter().map(|team| (team.id.clone(), team)).collect(),
            agents: agents.into_iter().map(|agent| (agent.id.clone(), agent)).collect(),
            capacity,
        };
        Ok(())
    }

    /// Applies a ticket's state as of its event `last_seq` (a commit, or a copy read from the
    /// store), at `now`; ignored if a later state of it was applied already.
    pub fn apply(&self, ticket: &Ticket, last_seq: i64, now: Timestamp) {
        let earlier_check = {
            let mut inner = self.write();
            if inner.known_seq(ticket.id.as_str()).is_some_and(|known| known > last_seq) {
                return;
            }
            let before = inner.checks.first().map(|(at, _)| *at);
            inner.upsert(ticket, last_seq, now);
            let after = inner.checks.first().map(|(at, _)| *at);
            after.is_some() && (before.is_none() || after < before)
        };
        if earlier_check {
            self.checks_changed.notify_one();
        }
    }

    /// Applies tickets read from the store (after a claim found them taken elsewhere, after a
    /// check that found the live copy stale, from the log tail); `gone` are tickets that no
    /// longer exist. Each is ordered by its last sequence number like a commit.
    pub fn reload(&self, tickets: &[StoredTicket], gone: &[TicketId], now: Timestamp) {
        for stored in tickets {
            self.apply(&stored.ticket, stored.last_seq, now);
        }
        let mut inner = self.write();
        for id in gone {
            inner.remove(id.as_str());
            inner.recent_mut().update(&Arc::from(id.as_str()), None, now);
        }
    }

    /// The sequence number of the last event applied for a ticket (held, or recently gone), if
    /// known.
    pub fn known_seq(&self, id: &str) -> Option<i64> {
        self.read().known_seq(id)
    }

    /// Puts new rules in force (revision `revision` of them): every open ticket's SLA status and
    /// place is computed again. Rules older than those in force are ignored (two changes whose
    /// calls cross).
    pub fn set_rules(&self, rules: Arc<Rules>, revision: i64, now: Timestamp) {
        let mut inner = self.write();
        if revision < inner.rules_revision {
            return;
        }
        inner.rules_revision = revision;
        inner.rules = rules;
        let held: Vec<LiveTicket> = inner.tickets.drain().map(|(_, held)| held).collect();
        inner.queues.clear();
        inner.checks.clear();
        inner.open = OpenAggregates::default();
        for ticket in held {
            let id = ticket.id.clone();
            inner.insert(ticket, now);
            inner.note_recent_open(&id, now);
        }
        drop(inner);
        self.checks_changed.notify_one();
    }

    /// The backlog at `now`: the report's "Backlog at T" and "SLA" parts, from the aggregates.
    pub fn backlog(&self, now: Timestamp) -> LiveBacklog {
        let inner = self.read();
        let backlog = inner.open.backlog(now, |category| inner.rules.handle_times.minutes(category));
        let at_risk = inner
            .open
            .at_risk(now)
            .filter_map(|(due, id)| {
                let held = inner.tickets.get(id)?;
                Some(AtRisk {
                    id: id.to_string(),
                    category: held.category.to_string(),
                    priority: held.priority.as_str().to_owned(),
                    minutes_left: (due.as_microsecond() - now.as_microsecond()) as f64 / 60_000_000.0,
                })
            })
            .collect();
        let sla_by_category_priority =
            inner.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).compliance_at(now);
        let hours_of_work_by_team =
            inner.open.hours_of_work_by_team(|category| inner.rules.handle_times.minutes(category));
        LiveBacklog {
            at: now,
            hours_of_work_by_team,
            response_overdue: inner.open.response_overdue(now),
            backlog,
            sla_by_category_priority,
            at_risk,
        }
    }

    /// Tickets created and resolved per hour (hours since the epoch, both ends included).
    pub fn hourly_flow(&self, from_hour: i64, to_hour: i64) -> Vec<[u64; 2]> {
        self.read().recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).hourly(from_hour, to_hour)
    }

    /// How many open tickets are held.
    /// Whether a ticket is held (it is open, as far as the commits applied here tell).
    pub fn holds(&self, id: &str) -> bool {
        self.read().tickets.contains_key(id)
    }

    /// [`LiveState::holds`] of each id, a few thousand under one read of the state at a time
    /// (so a commit waits for one batch at most).
    pub fn holds_each(&self, ids: &[&str]) -> Vec<bool> {
        let mut held = Vec::with_capacity(ids.len());
        for batch in ids.chunks(4_096) {
            let inner = self.read();
            held.extend(batch.iter().map(|id| inner.tickets.contains_key(*id)));
        }
        held
    }

    pub fn len(&self) -> usize {
        self.read().tickets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next instant at which an SLA check is due, if any.
    pub fn next_check(&self) -> Option<Timestamp> {
        self.read().checks.first().map(|(at, _)| *at)
    }

    /// Every ticket whose SLA check is due at `now`.
    pub fn due_checks(&self, now: Timestamp) -> Vec<TicketId> {
        let inner = self.read();
        inner.checks.iter().take_while(|(at, _)| *at <= now).filter_map(|(_, id)| TicketId::parse(&**id).ok()).collect()
    }

    /// After a check of `id` at `now` that recorded nothing: if the ticket still has a check
    /// due (its state moved on elsewhere), try again a minute later rather than spin.
    pub fn postpone_check(&self, id: &TicketId, now: Timestamp) {
        let mut inner = self.write();
        let Some(held) = inner.tickets.get_mut(id.as_str()) else { return };
        let Some(at) = held.next_check.filter(|at| *at <= now) else { return };
        let retry = now.checked_add(jiff::SignedDuration::from_mins(1)).unwrap_or(now);
        held.next_check = Some(retry);
        let key: Arc<str> = Arc::from(id.as_str());
        inner.checks.remove(&(at, key.clone()));
        inner.checks.insert((retry, key));
    }

    /// A page of open tickets in the order asked, and where the next page starts.
    pub fn page(&self, query: &LiveQuery, now: Timestamp) -> (Vec<LiveItem>, Option<LiveCursor>) {
        let inner = self.read();
        let limit = query.limit.max(1);
        let mut items: Vec<LiveItem> = Vec::with_capacity(limit + 1);
        match query.order {
            LiveOrder::Queue => {
                let after = match &query.after {
                    Some(LiveCursor::Queue { key, id }) => Some((*key, id.as_str())),
                    _ => None,
                };
                for entry in inner.merged(inner.teams_for(query), after) {
                    let Some(held) = inner.tickets.get(&entry.id) else { continue };
                    if inner.matches(held, query, now) {
                        items.extend(held.item(LiveCursor::Queue { key: entry.key, id: entry.id.to_string() }));
                        if items.len() > limit {
                            break;
                        }
                    }
                }
            }
            LiveOrder::Created => {
                let after = match &query.after {
                    Some(LiveCursor::Created { created_at, id }) => Some((*created_at, id.as_str())),
                    _ => None,
                };
                // The live state is not indexed by creation: select the page among every match.
                let mut heap: BinaryHeap<(i64, Arc<str>)> = BinaryHeap::new();
                for team in inner.teams_for(query) {
                    let Some(queues) = inner.queues.get(&team) else { continue };
                    for entry in queues.order.iter_after(None) {
                        let Some(held) = inner.tickets.get(&entry.id) else { continue };
                        let created_at = held.created_at.as_microsecond();
                        if after.is_some_and(|(at, id)| (created_at, &*entry.id) <= (at, id)) {
                            continue;
                        }
                        if inner.matches(held, query, now) {
                            heap.push((created_at, entry.id.clone()));
                            if heap.len() > limit + 1 {
                                heap.pop();
                            }
                        }
                    }
                }
                let mut chosen = heap.into_vec();
                chosen.sort();
                for (created_at, id) in chosen {
                    if let Some(held) = inner.tickets.get(&id) {
                        items.extend(held.item(LiveCursor::Created { created_at, id: id.to_string() }));
                    }
                }
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|item| item.cursor.clone())
        } else {
            None
        };
        (items, next)
    }

    /// The first `at_most` open tickets matching `query` (its order, limit and cursor ignored),
    /// in queue order.
    pub fn ids_matching(&self, query: &LiveQuery, now: Timestamp, at_most: usize) -> Vec<TicketId> {
        let inner = self.read();
        inner
            .merged(inner.teams_for(query), None)
            .filter(|entry| inner.tickets.get(&entry.id).is_some_and(|held| inner.matches(held, query, now)))
            .filter_map(|entry| TicketId::parse(&*entry.id).ok())
            .take(at_most)
            .collect()
    }

    /// The open tickets the rules apply to at `now` (see `AutomationRule::holds`), as pairs of
    /// a ticket and the rule's position in `rules`, oldest ticket first: every rule tried on
    /// every open ticket, no cap on how many match.
    ///
    /// The ids are taken under one short read lock; then chunks of [`AUTOMATION_CHUNK`]
    /// tickets are evaluated on every core, each chunk under a read lock of its own, so that
    /// commits (which need the write lock) wait for a chunk, never for the whole pass. A ticket
    /// changed between two chunks is read as it is then; one created meanwhile waits for the
    /// next pass.
    pub fn automation_matches(
        &self,
        rules: &[&vigie_core::automation::AutomationRule],
        now: Timestamp,
    ) -> Vec<(TicketId, usize)> {
        let prepared: Vec<_> = rules.iter().map(|rule| rule.at(now)).collect();
        // For each status, the rules a ticket in it may match: most rules name one or two.
        let by_status: Vec<Vec<usize>> = Status::ALL
            .iter()
            .map(|status| (0..rules.len()).filter(|idx| rules[*idx].statuses().contains(status)).collect())
            .collect();
        let ids: Vec<Arc<str>> = self.read().tickets.keys().cloned().collect();
        let chunks: Vec<&[Arc<str>]> = ids.chunks(AUTOMATION_CHUNK).collect();
        let next_chunk = std::sync::atomic::AtomicUsize::new(0);
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8);
        let evaluate = || {
            let mut found: Vec<(Timestamp, Arc<str>, usize)> = Vec::new();
            while let Some(chunk) = chunks.get(next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                let inner = self.read();
                for id in *chunk {
                    let Some(held) = inner.tickets.get(id) else { continue };
                    let status = Status::ALL.iter().position(|s| *s == held.status).unwrap_or(0);
                    for idx in &by_status[status] {
                        if prepared[*idx].holds(held, now, &inner.rules) {
                            found.push((held.created_at, id.clone(), *idx));
                        }
                    }
                }
            }
            found
        };
        let mut found: Vec<(Timestamp, Arc<str>, usize)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads).map(|_| scope.spawn(evaluate)).collect();
            let mut found = evaluate();
            for worker in workers {
                found.extend(worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            found
        });
        found.sort_unstable();
        found.into_iter().filter_map(|(_, id, idx)| Some((TicketId::parse(&*id).ok()?, idx))).collect()
    }

    /// The open tickets whose expected wait for a first answer is longer than their channel
    /// tolerates (see `vigie_core::automation::notify_wait`), with when an agent is expected
    /// to start on each. One walk of each team's queue in order, adding up the work ahead, so
    /// a million tickets cost one pass; a team without agents on record predicts nothing.
    pub fn waits_over(
        &self,
        notices: &vigie_core::automation::Notices,
        rules: &Rules,
        now: Timestamp,
    ) -> Vec<(TicketId, Timestamp)> {
        let inner = self.read();
        let mut found = Vec::new();
        for (team, queues) in &inner.queues {
            let Ok(team) = TeamId::parse(&**team) else { continue };
            let agents = inner.directory.capacity.get(&team).copied().unwrap_or(0.0);
            let calendar = inner.directory.teams.get(&team).and_then(|t| t.calendar.as_deref());
            let calendar = rules.sla.calendar_or_always(calendar.unwrap_or(vigie_core::calendar::ALWAYS_OPEN));
            let capacity = queue::Capacity { agents, calendar };
            let mut ahead: i64 = 0;
            for entry in queues.order.iter_after(None) {
                let held = inner.tickets.get(&entry.id);
                if let Some(held) = held
                    && let Some(tolerance) = notices.tolerance(held.channel)
                    && vigie_core::automation::awaits_wait_notice(held)
                {
                    let predicted =
                        queue::predict(now, capacity, ahead as f64 / 1_000.0, entry.weight as f64 / 1_000.0, None);
                    if let Some(prediction) = predicted
                        && prediction.start_at.duration_since(now) > tolerance
                        && let Ok(id) = TicketId::parse(&*entry.id)
                    {
                        found.push((id, prediction.start_at));
                    }
                }
                ahead += entry.weight;
            }
        }
        found
    }

    /// An open ticket's rank in its team's queue and what its prediction is computed from;
    /// `None` when it is not open.
    pub fn standing(&self, id: &TicketId) -> Option<Standing> {
        let inner = self.read();
        let held = inner.tickets.get(id.as_str())?;
        let queues = inner.queues.get(&held.team)?;
        let rank = queues.order.rank(&held.key, id.as_str())?;
        let team = TeamId::parse(&*held.team).ok();
        let capacity = team.map(|team| TeamCapacity {
            agents: inner.directory.capacity.get(&team).copied().unwrap_or(0.0),
            calendar: inner.directory.teams.get(&team).and_then(|t| t.calendar.clone()),
        });
        Some(Standing {
            position: rank.position + 1,
            queue_length: queues.order.len(),
            work_ahead_minutes: rank.weight_before as f64 / 1_000.0,
            own_minutes: held.weight as f64 / 1_000.0,
            capacity,
        })
    }

    /// Each step's load over `[from, to)` (see `vigie_core::workflow::step_figures`), from the
    /// open tickets and `resolved` (every ticket resolved in the window).
    pub fn step_figures(
        &self,
        resolved: &[vigie_core::Ticket],
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<vigie_core::workflow::StepFigures> {
        use vigie_core::workflow::StepsOf;
        let inner = self.read();
        if inner.rules.workflows.is_empty() {
            return Vec::new();
        }
        let open = inner.tickets.values().filter(|held| !held.steps.is_empty()).map(|held| StepsOf {
            category: &held.category,
            steps: &held.steps,
            resolved_at: None,
        });
        // A ticket reopened since the store was read is counted once, as the open one it is now.
        let resolved = resolved
            .iter()
            .filter(|t| !t.status.is_open() && !t.steps.is_empty() && !inner.tickets.contains_key(t.id.as_str()))
            .map(|t| StepsOf { category: &t.category, steps: &t.steps, resolved_at: t.resolved_at });
        vigie_core::workflow::step_figures(open.chain(resolved), &inner.rules.workflows, from, to)
    }

    /// The calendars the open tickets' SLA targets count on.
    pub fn calendars_in_use(&self) -> HashSet<String> {
        let inner = self.read();
        inner.tickets.values().filter_map(|held| held.sla_targets.as_ref()).map(|t| t.calendar.clone()).collect()
    }

    /// The agent as the live state knows them (teams and skills), if on record.
    pub fn agent(&self, id: &AgentId) -> Option<Agent> {
        self.read().directory.agents.get(id).cloned()
    }

    /// Up to `n` tickets an agent of these skills may claim, best first, among `teams`, not
    /// already being claimed by someone else; they stay reserved as long as the returned
    /// [`Reservation`] lives. Its `n_busy` counts the fitting tickets others were claiming.
    pub fn reserve_candidates(self: &Arc<Self>, teams: &[TeamId], skills: &Skills, n: usize) -> Reservation {
        let mut inner = self.write();
        let mut chosen: Vec<Arc<str>> = Vec::new();
        let mut n_busy = 0;
        {
            let mut iterators: Vec<_> = teams
                .iter()
                .filter_map(|team| inner.queues.get(team.as_str()))
                .map(|queues| queues.claimable.iter_after(None).peekable())
                .collect();
            let mut heap = BinaryHeap::new();
            for (idx, iterator) in iterators.iter_mut().enumerate() {
                if let Some(entry) = iterator.peek() {
                    heap.push(Reverse((entry.key, entry.id.clone(), idx)));
                }
            }
            while let Some(Reverse((_, id, idx))) = heap.pop() {
                if let Some(iterator) = iterators.get_mut(idx) {
                    iterator.next();
                    if let Some(next) = iterator.peek() {
                        heap.push(Reverse((next.key, next.id.clone(), idx)));
                    }
                }
                let fits =
                    inner.tickets.get(&id).is_some_and(|held| skills.covers(&held.category, held.language.as_deref()));
                if fits && inner.reserved.contains(&id) {
                    n_busy += 1;
                    continue;
                }
                if fits {
                    chosen.push(id);
                    if chosen.len() >= n {
                        break;
                    }
                }
            }
        }
        for id in &chosen {
            inner.reserved.insert(id.clone());
        }
        let ids = chosen.iter().filter_map(|id| TicketId::parse(&**id).ok()).collect();
        Reservation { live: self.clone(), ids, n_busy }
    }

    fn release(&self, ids: &[TicketId]) {
        let mut inner = self.write();
        for id in ids {
            inner.reserved.remove(id.as_str());
        }
    }
}

/// Tickets reserved for one claim: released when dropped, however the claim ends (even when
/// the request is abandoned half way), so that a reservation cannot outlive its claim.
#[derive(Debug)]
pub struct Reservation {
    live: Arc<LiveState>,
    pub ids: Vec<TicketId>,
    /// Tickets that fit but were being claimed by others.
    pub n_busy: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.live.release(&self.ids);
    }
}

impl LiveTicket {
    /// As a list item (the id was a ticket id when it came in: it parses again).
    fn item(&self, cursor: LiveCursor) -> Option<LiveItem> {
        TicketId::parse(&*self.id).ok().map(|id| LiveItem { id, cursor })
    }

    /// The inputs of its SLA clock, when it has targets (an open ticket has no resolution).
    fn clock(&self) -> Option<SlaClock<'_>> {
        self.sla_targets.as_deref().map(|targets| SlaClock {
            created_at: self.created_at,
            first_response_at: self.first_response_at,
            resolved_at: None,
            status_history: &self.status_history,
            targets,
            marks: self.sla_marks,
        })
    }

    /// The overall SLA state at `now`.
    pub(crate) fn sla_state_at(&self, now: Timestamp) -> Option<SlaState> {
        SlaState::overall(self.sla_cache.iter().flatten().map(|target| target.state_at(now)))
    }

    /// The deadline it is ordered by (as [`TicketSla::deadline`]).
    fn deadline(&self) -> Option<Timestamp> {
        self.sla_cache.iter().flatten().filter(|t| t.is_pending()).filter_map(|t| t.due_at).min()
    }
}

impl Inner {
    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.strings.insert(shared.clone());
        shared
    }

    fn intern_targets(&mut self, targets: &SlaTargets) -> Arc<SlaTargets> {
        if let Some(shared) = self.targets.get(targets) {
            return shared.clone();
        }
        let shared = Arc::new(targets.clone());
        self.targets.insert(shared.clone());
        shared
    }

    fn known_seq(&self, id: &str) -> Option<i64> {
        self.tickets.get(id).map(|held| held.last_seq).or_else(|| self.gone.get(id).copied())
    }

    /// Puts a ticket in (or, once solved or closed, out of) every index.
    fn upsert(&mut self, ticket: &Ticket, last_seq: i64, now: Timestamp) {
        self.remove(ticket.id.as_str());
        if !ticket.status.is_open() {
            let id: Arc<str> = Arc::from(ticket.id.as_str());
            let sla = ticket.sla_clock().map(|clock| self.rules.sla.evaluate(&clock, now));
            let recent = RecentTicket {
                created_at: ticket.created_at,
                resolved_at: ticket.resolved_at,
                cell: ticket.sla_targets.as_ref().map(|_| (self.intern(&ticket.category), ticket.priority)),
                targets: match &sla {
                    Some(sla) => RecentTicket::counted_targets(
                        [
                            sla.first_response.as_ref().map(|t| t.summary()),
                            sla.resolution.as_ref().map(|t| t.summary()),
                        ],
                        ticket.first_response_at,
                    ),
                    None => [None, None],
                },
            };
            self.recent_mut().update(&id, Some(recent), now);
            if self.gone.insert(id.clone(), last_seq).is_none() {
                self.gone_order.push_back(id);
            }
            while self.gone_order.len() > GONE_KEPT {
                if let Some(oldest) = self.gone_order.pop_front() {
                    self.gone.remove(&oldest);
                }
            }
            return;
        }
        self.gone.remove(ticket.id.as_str());
        let held = LiveTicket {
            id: Arc::from(ticket.id.as_str()),
            last_seq,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            first_response_at: ticket.first_response_at,
            status: ticket.status,
            priority: ticket.priority,
            channel: ticket.channel,
            customer_tier: ticket.customer_tier,
            legal_risk: ticket.legal_risk,
            blocking: ticket.blocking,
            category: self.intern(&ticket.category),
            team: self.intern(ticket.team.as_ref().map_or(NO_TEAM, TeamId::as_str)),
            assignee: ticket.assignee.as_ref().map(|agent| self.intern(agent.as_str())),
            customer_id: self.intern(ticket.customer_id.as_str()),
            language: ticket.language.as_deref().map(|language| self.intern(language)),
            tags: ticket.tags.iter().map(|tag| self.intern(tag)).collect(),
            rules_applied: ticket.rules_applied.iter().map(|rule| self.intern(rule)).collect(),
            status_history: ticket.status_history.clone().into_boxed_slice(),
            steps: ticket.steps.clone().into_boxed_slice(),
            sla_targets: ticket.sla_targets.as_ref().map(|targets| self.intern_targets(targets)),
            sla_marks: ticket.sla_marks,
            key: QueueKey { class: 0, value: 0, created_at: 0 },
            sla_cache: [None, None],
            next_check: None,
            weight: 0,
            claimable: false,
        };
        let id = held.id.clone();
        self.insert(held, now);
        self.note_recent_open(&id, now);
    }

    fn recent_mut(&mut self) -> &mut RecentTickets {
        self.recent.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an open ticket (just indexed) among the recent ones.
    fn note_recent_open(&mut self, id: &Arc<str>, now: Timestamp) {
        let Some(held) = self.tickets.get(id) else { return };
        let recent = RecentTicket {
            created_at: held.created_at,
            resolved_at: None,
            cell: held.sla_targets.as_ref().map(|_| (held.category.clone(), held.priority)),
            targets: RecentTicket::counted_targets(held.sla_cache, held.first_response_at),
        };
        self.recent_mut().update(id, Some(recent), now);
    }

    /// Computes what depends on the rules (SLA, place, weight) and indexes the ticket.
    fn insert(&mut self, mut held: LiveTicket, now: Timestamp) {
        let sla = held.clock().map(|clock| self.rules.sla.evaluate(&clock, now));
        let place = self.place(&held, sla.as_ref());
        let cache = |status: &Option<vigie_core::sla::TargetStatus>| status.as_ref().map(|t| t.summary());
        held.sla_cache = match &sla {
            Some(sla) => [cache(&sla.first_response), cache(&sla.resolution)],
            None => [None, None],
        };
        held.next_check = sla.as_ref().and_then(TicketSla::next_check);
        held.key = place.key;
        let workable = place.class != queue::QueueClass::Paused;
        let minutes = self.rules.handle_times.minutes(&held.category).unwrap_or(0.0);
        held.weight = if workable { (minutes * 1_000.0).round() as i64 } else { 0 };
        held.claimable = held.assignee.is_none() && vigie_core::decide::CLAIMABLE.contains(&held.status);
        let queues = self.queues.entry(held.team.clone()).or_default();
        queues.order.insert(Entry { key: held.key, id: held.id.clone(), weight: held.weight });
        if held.claimable {
            queues.claimable.insert(Entry { key: held.key, id: held.id.clone(), weight: held.weight });
        }
        if let Some(at) = held.next_check {
            self.checks.insert((at, held.id.clone()));
        }
        self.open.add(&held);
        self.tickets.insert(held.id.clone(), held);
    }

    /// The place of a ticket in the order, with the reasons.
    fn place(&self, held: &LiveTicket, sla: Option<&TicketSla>) -> QueuePlace {
        let calendar = self.rules.sla.calendar_or_always(held.sla_targets.as_ref().map_or("", |t| t.calendar.as_str()));
        queue::place(
            &QueueFacts {
                priority: held.priority,
                customer_tier: held.customer_tier,
                legal_risk: held.legal_risk,
                blocking: held.blocking,
                created_at: held.created_at,
                waiting: self.rules.sla.pause_statuses().contains(&held.status),
                sla,
                calendar,
            },
            &self.rules.queue,
        )
    }

    fn remove(&mut self, id: &str) {
        let Some(held) = self.tickets.remove(id) else { return };
        self.open.remove(&held);
        if let Some(queues) = self.queues.get_mut(&held.team) {
            queues.order.remove(&held.key, id);
            if held.claimable {
                queues.claimable.remove(&held.key, id);
            }
            if queues.order.is_empty() {
                self.queues.remove(&held.team);
            }
        }
        if let Some(at) = held.next_check {
            self.checks.remove(&(at, held.id.clone()));
        }
    }

    /// The team queues a query reads.
    fn teams_for(&self, query: &LiveQuery) -> Vec<Arc<str>> {
        let mut teams: Vec<Arc<str>> = if query.filters.teams.is_empty() {
            self.queues.keys().cloned().collect()
        } else {
            query
                .filters
                .teams
                .iter()
                .filter_map(|team| self.queues.get_key_value(team.as_str()))
                .map(|(k, _)| k.clone())
                .collect()
        };
        if let Some(scope) = &query.scope {
            teams.retain(|team| scope.iter().any(|allowed| allowed.as_str() == &**team));
        }
        teams.sort();
        teams.dedup();
        teams
    }

    /// The entries of several team queues merged into one queue order.
    fn merged<'a>(
        &'a self,
        teams: Vec<Arc<str>>,
        after: Option<(QueueKey, &str)>,
    ) -> impl Iterator<Item = &'a Entry> + use<'a> {
        let mut iterators: Vec<std::iter::Peekable<Box<dyn Iterator<Item = &'a Entry> + 'a>>> = teams
            .iter()
            .filter_map(|team| self.queues.get(team))
            .map(|queues| {
                let iterator: Box<dyn Iterator<Item = &'a Entry> + 'a> =
                    Box::new(queues.order.iter_after(after.as_ref().map(|(key, id)| (key, *id))));
                iterator.peekable()
            })
            .collect();
        let mut heap: BinaryHeap<Reverse<(QueueKey, Arc<str>, usize)>> = BinaryHeap::new();
        for (idx, iterator) in iterators.iter_mut().enumerate() {
            if let Some(entry) = iterator.peek() {
                heap.push(Reverse((entry.key, entry.id.clone(), idx)));
            }
        }
        std::iter::from_fn(move || {
            let Reverse((_, _, idx)) = heap.pop()?;
            let iterator = iterators.get_mut(idx)?;
            let entry = iterator.next()?;
            if let Some(next) = iterator.peek() {
                heap.push(Reverse((next.key, next.id.clone(), idx)));
            }
            Some(entry)
        })
    }

    fn matches(&self, held: &LiveTicket, query: &LiveQuery, now: Timestamp) -> bool {
        let query = &query.filters;
        (query.statuses.is_empty() || query.statuses.contains(&held.status))
            && (query.priorities.is_empty() || query.priorities.contains(&held.priority))
            && (query.categories.is_empty() || query.categories.iter().any(|c| *c == *held.category))
            && (query.channels.is_empty() || query.channels.contains(&held.channel))
            && (query.assignees.is_empty()
                || held.assignee.as_ref().is_some_and(|a| query.assignees.iter().any(|q| **q == **a)))
            && (query.customer_ids.is_empty() || query.customer_ids.iter().any(|c| c.as_str() == &*held.customer_id))
            && (query.sla_states.is_empty()
                || held.sla_state_at(now).is_some_and(|state| query.sla_states.contains(&state)))
            && query.due_before.is_none_or(|before| held.deadline().is_some_and(|due| due < before))
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod backlog_tests;

/// The time rules' conditions read the live copy exactly as they read a stored ticket.
impl vigie_core::automation::Facts for LiveTicket {
    fn status(&self) -> Status {
        self.status
    }
    fn priority(&self) -> Priority {
        self.priority
    }
    fn category(&self) -> &str {
        &self.category
    }
    fn channel(&self) -> Channel {
        self.channel
    }
    fn team(&self) -> Option<&str> {
        (&*self.team != NO_TEAM).then_some(&*self.team)
    }
    fn assignee(&self) -> Option<&str> {
        self.assignee.as_deref()
    }
    fn customer_tier(&self) -> CustomerTier {
        self.customer_tier
    }
    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }
    fn step(&self) -> Option<&str> {
        self.steps.last().map(|s| s.step.as_str()).filter(|step| !step.is_empty())
    }
    fn legal_risk(&self) -> bool {
        self.legal_risk
    }
    fn blocking(&self) -> bool {
        self.blocking
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| &**t == tag)
    }
    fn applied(&self, rule: &str) -> bool {
        self.rules_applied.iter().any(|r| &**r == rule)
    }
    fn instant(&self, anchor: vigie_core::automation::Anchor) -> Option<Timestamp> {
        use vigie_core::automation::Anchor;
        match anchor {
            Anchor::Created => Some(self.created_at),
            Anchor::Updated => Some(self.updated_at),
            Anchor::StatusChanged => Some(self.status_history.last().map_or(self.created_at, |s| s.since)),
            Anchor::FirstResponse => self.first_response_at,
            // Open tickets are not resolved.
            Anchor::Resolved => None,
            Anchor::StepEntered => self.steps.last().filter(|s| !s.step.is_empty()).map(|s| s.since),
        }
    }
    fn sla_state(&self, now: Timestamp, _rules: &Rules) -> Option<SlaState> {
        self.sla_state_at(now)
    }
}
