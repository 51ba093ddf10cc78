//! Clusters of similar tickets: the batches an agent takes together (`GET /api/v1/clusters`,
//! answered with one bulk reply), the recurring problems whose daily volume jumps (the
//! `cluster_spike` alert) and those that came back most (the weekly review).
//!
//! A report is computed in the background, not in a request: every open ticket (their
//! normalised texts, shared from the similar tickets' index: no store read) and every ticket
//! created over the last four weeks, open or not (read from the store, for the daily volumes),
//! go through `vigie_dedup::similar_groups`, the grouping side of `vigie dedup`'s search
//! (MinHash LSH, pairs scored exactly at the similarity threshold, a union-find instead of the
//! list of pairs); a cluster is a group, named by its most telling words, identified by its
//! first ticket. The report keeps each member's team and
//! whether it was open; a request filters by what the caller may see and checks against the
//! live state that each ticket is still open, then reads the tickets it shows from the store.
//!
//! Cost: linear in the tickets (measured: 1,000,000 open tickets that nearly all say one thing
//! in 17 s, Boston's 19,873 open cases in 1.1 s; see `vigie_dedup::similar_groups` for what
//! costs most), so the background loop waits ten times the last computation, and at least a
//! minute, between two.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Json;
use axum::extract::{RawQuery, State};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::sync::watch;
use vigie_core::recurring::{ClusterVolume, WINDOW_DAYS, spike};
use vigie_core::{Actor, TeamId, TicketId};
use vigie_dedup::{Crowd, Search, Texts, Vocabulary, normalize, similar_groups};
use vigie_store::{Since, StoreError};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::query_pairs;

/// A report older than this is computed again before it is read.
const MAX_AGE: SignedDuration = SignedDuration::from_mins(15);
/// The shortest wait between two computations.
const MIN_EVERY: Duration = Duration::from_secs(60);
/// Latest tickets kept as a cluster's samples.
const SAMPLES: usize = 5;
/// Words in a cluster's name, at most.
const NAME_WORDS: usize = 4;
const DAY_SECONDS: i64 = 24 * 3600;

/// A ticket of a cluster, as the report saw it.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: Arc<str>,
    /// Its normalised text (shared), to name what a reader sees of its cluster.
    pub text: Arc<[u8]>,
    pub team: Option<TeamId>,
    pub open: bool,
    /// `None`: open, and created before the window.
    pub created_at: Option<Timestamp>,
}

/// Similar tickets linked by chains of similar pairs.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Oldest first (the tickets created before the window, by id, then by creation).
    pub members: Vec<Member>,
    /// Its identity (its first ticket, the oldest: the same from one report to the next while
    /// it stays), its name and its daily arrivals over the window.
    pub volume: ClusterVolume,
}

/// The clusters at one instant.
#[derive(Debug, Clone)]
pub struct ClusterReport {
    pub computed_at: Timestamp,
    /// Days of the window the history covers (see [`ClusterVolume::known_days`]).
    pub known_days: usize,
    /// The words of every ticket compared, to name a cluster.
    pub vocabulary: Vocabulary,
    /// What computing it took.
    pub took: Duration,
    /// Tickets compared.
    pub tickets: usize,
    /// The clusters of at least two tickets, by identity.
    pub clusters: Vec<Cluster>,
}

/// The latest report.
#[derive(Debug)]
pub struct ClusterBoard {
    threshold: f64,
    latest: RwLock<Option<Arc<ClusterReport>>>,
    /// One computation at a time.
    computing: tokio::sync::Mutex<()>,
}

/// A ticket to compare, before the search.
struct Item {
    id: Arc<str>,
    team: Option<TeamId>,
    open: bool,
    created_at: Option<Timestamp>,
    text: Arc<[u8]>,
}

impl ClusterBoard {
    pub fn new(threshold: f64) -> ClusterBoard {
        ClusterBoard { threshold, latest: RwLock::new(None), computing: tokio::sync::Mutex::new(()) }
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The latest report, if one was computed.
    pub fn latest(&self) -> Option<Arc<ClusterReport>> {
        self.latest.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The latest report, computed now if there is none yet or it is older than [`MAX_AGE`]
    /// (the background loop failing, or not running: the command line).
    pub async fn latest_or_compute(&self, state: &AppState) -> Result<Arc<ClusterReport>, StoreError> {
        let fresh = |report: &Arc<ClusterReport>| {
            report.computed_at.checked_add(MAX_AGE).is_ok_and(|until| state.now() <= until)
        };
        if let Some(report) = self.latest().filter(fresh) {
            return Ok(report);
        }
        let _one = self.computing.lock().await;
        // Another caller may have computed it while this one waited.
        if let Some(report) = self.latest().filter(fresh) {
            return Ok(report);
        }
        self.compute_locked(state).await
    }

    /// Computes a new report now, and keeps it.
    pub async fn refresh(&self, state: &AppState) -> Result<Arc<ClusterReport>, StoreError> {
        let _one = self.computing.lock().await;
        self.compute_locked(state).await
    }

    async fn compute_locked(&self, state: &AppState) -> Result<Arc<ClusterReport>, StoreError> {
        let started = std::time::Instant::now();
        let now = state.now();
        let since = now.checked_sub(SignedDuration::from_hours(24 * WINDOW_DAYS as i64)).unwrap_or(now);
        // The open tickets first, then the window: a ticket created in between is in the
        // window with its instant, never an open ticket of unknown age.
        let similar = state.similar.clone();
        let open = tokio::task::spawn_blocking(move || similar.snapshot())
            .await
            .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
        let mut window = Vec::new();
        state
            .store
            .for_each_since_with_texts(Since::Created, since, 5_000, |page| {
                window.extend(page.into_iter().map(|stored| stored.ticket));
            })
            .await?;
        let threshold = self.threshold;
        let report = tokio::task::spawn_blocking(move || {
            // By id: a ticket listed twice by the snapshot is one.
            let mut held: HashMap<Arc<str>, crate::similar::OpenText> =
                open.into_iter().map(|held| (held.id.clone(), held)).collect();
            // The window's texts, normalised on every core (an open ticket's is the index's).
            let mut items: Vec<Item> = crate::similar::on_every_core(&window, |t| Item {
                id: Arc::from(t.id.as_str()),
                team: t.team.clone(),
                open: t.status.is_open(),
                created_at: Some(t.created_at),
                text: match held.get(t.id.as_str()) {
                    Some(open) if t.status.is_open() => open.text.clone(),
                    _ => Arc::from(normalize(&t.subject, &t.body).as_bytes()),
                },
            });
            drop(window);
            // The open tickets created before the window: those the window did not list.
            for item in &items {
                held.remove(&item.id);
            }
            items.extend(held.into_values().map(|held| Item {
                id: held.id,
                team: held.team,
                open: true,
                created_at: None,
                text: held.text,
            }));
            // The tickets before the window first (by id, shortest first: T-99 before T-100),
            // then by creation: a cluster's first member is its oldest ticket.
            items.sort_by(|a, b| match (a.created_at, b.created_at) {
                (None, None) => a.id.len().cmp(&b.id.len()).then_with(|| a.id.cmp(&b.id)),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.id.cmp(&b.id)),
            });
            // Half the cores for the search: it runs beside the requests, not instead of them.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            cluster(items, threshold, now, (cores / 2).max(1))
        })
        .await
        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
        let report = Arc::new(ClusterReport { took: started.elapsed(), ..report });
        *self.latest.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(report.clone());
        tracing::info!(
            tickets = report.tickets,
            clusters = report.clusters.len(),
            elapsed_ms = report.took.as_millis() as u64,
            "clusters computed"
        );
        Ok(report)
    }
}

/// The clusters of `items` (in the order that makes a cluster's first member its oldest).
fn cluster(items: Vec<Item>, threshold: f64, now: Timestamp, threads: usize) -> ClusterReport {
    let mut texts = Texts::default();
    let mut vocabulary = Vocabulary::default();
    for item in &items {
        texts.push_bytes(&item.text);
        vocabulary.add(&item.text);
    }
    let groups = similar_groups(&texts, Search { threshold, threads, ..Search::default() }, Crowd::GROUPS);
    drop(texts);
    // The history starts at the first ticket read: the days before it are unknown, not quiet;
    // its own day, partly seen, is not counted either.
    let first = items.iter().filter_map(|item| item.created_at).min();
    let known_days = first.map_or(0, |first| {
        let days = now.duration_since(first).as_secs().max(0) / DAY_SECONDS;
        usize::try_from(days).unwrap_or(usize::MAX).min(WINDOW_DAYS)
    });
    let clusters = groups
        .into_iter()
        .map(|group| {
            let members: Vec<Member> = group
                .iter()
                .map(|&at| {
                    let item = &items[at as usize];
                    Member {
                        id: item.id.clone(),
                        text: item.text.clone(),
                        team: item.team.clone(),
                        open: item.open,
                        created_at: item.created_at,
                    }
                })
                .collect();
            let all: Vec<&Member> = members.iter().collect();
            let volume = volume_of(&all, &vocabulary, now, known_days);
            Cluster { members, volume }
        })
        .collect();
    ClusterReport { computed_at: now, known_days, vocabulary, took: Duration::ZERO, tickets: items.len(), clusters }
}

/// The identity, name and daily arrivals of `members` (oldest first, at least one).
fn volume_of(members: &[&Member], vocabulary: &Vocabulary, now: Timestamp, known_days: usize) -> ClusterVolume {
    let texts: Vec<&[u8]> = members.iter().map(|m| &*m.text).collect();
    let mut daily = vec![0u32; WINDOW_DAYS];
    for created in members.iter().filter_map(|m| m.created_at) {
        let day = now.duration_since(created).as_secs().max(0) / DAY_SECONDS;
        if let Some(count) = usize::try_from(day).ok().and_then(|day| daily.get_mut(day)) {
            *count += 1;
        }
    }
    ClusterVolume {
        id: members.first().map(|m| m.id.to_string()).unwrap_or_default(),
        name: vocabulary.name(&texts, NAME_WORDS),
        daily,
        known_days,
        samples: members.iter().rev().take(SAMPLES).map(|m| m.id.to_string()).collect(),
        recent: members
            .iter()
            .rev()
            .take_while(|m| m.created_at.is_some_and(|at| now.duration_since(at).as_secs() < DAY_SECONDS))
            .take(vigie_core::recurring::MAX_RECENT)
            .map(|m| m.id.to_string())
            .collect(),
    }
}

impl ClusterReport {
    /// What `reader` may see of `cluster`: its members of the teams the reader sees, and the
    /// identity, name and volumes of those alone (a name never made of words the reader may
    /// not read); `None` when it sees none.
    pub fn view<'a>(
        &'a self,
        cluster: &'a Cluster,
        reader: &Actor,
    ) -> Option<(Cow<'a, ClusterVolume>, Vec<&'a Member>)> {
        let seen: Vec<&Member> = cluster.members.iter().filter(|m| reader.can_see_team(m.team.as_ref())).collect();
        if seen.is_empty() {
            return None;
        }
        if seen.len() == cluster.members.len() {
            return Some((Cow::Borrowed(&cluster.volume), seen));
        }
        Some((Cow::Owned(volume_of(&seen, &self.vocabulary, self.computed_at, self.known_days)), seen))
    }
}

/// Computes the clusters now, then again and again, ten times the last computation apart
/// and at least a minute, until stopped.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let computed = tokio::select! {
            computed = state.clusters.refresh(&state) => computed,
            _ = stop.changed() => return,
        };
        let wait = match computed {
            Ok(report) => report.took.saturating_mul(10).max(MIN_EVERY),
            Err(error) => {
                tracing::warn!(%error, "could not compute the clusters");
                MIN_EVERY
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Clusters listed by default, and at most.
const DEFAULT_CLUSTERS: usize = 20;
const MAX_CLUSTERS: usize = 100;
/// Tickets listed per cluster by default, and at most.
const DEFAULT_TICKETS: usize = 50;
const MAX_TICKETS: usize = 500;

/// Which clusters to list: at most `limit`, each with its first `tickets` open tickets, only
/// `team`'s tickets if given, and only those with at least `min_open` open tickets.
pub struct ClusterQuery {
    pub limit: usize,
    pub tickets: usize,
    pub team: Option<TeamId>,
    pub min_open: usize,
}

impl Default for ClusterQuery {
    fn default() -> ClusterQuery {
        ClusterQuery { limit: DEFAULT_CLUSTERS, tickets: DEFAULT_TICKETS, team: None, min_open: 2 }
    }
}

fn parse_query(raw: Option<&str>) -> Result<ClusterQuery, ApiError> {
    let mut query = ClusterQuery::default();
    let number = |name: &str, value: &str, range: std::ops::RangeInclusive<usize>| {
        value.parse::<usize>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            ApiError::bad_field(
                name,
                format!("`{value}` must be a whole number from {} to {}", range.start(), range.end()),
            )
        })
    };
    for (name, value) in query_pairs(raw) {
        match name.as_str() {
            "limit" => query.limit = number("limit", &value, 1..=MAX_CLUSTERS)?,
            "tickets" => query.tickets = number("tickets", &value, 1..=MAX_TICKETS)?,
            "min_open" => query.min_open = number("min_open", &value, 1..=1_000_000)?,
            "team" => {
                query.team = Some(
                    TeamId::parse(value.clone())
                        .map_err(|error| ApiError::bad_field("team", format!("`{value}` is not a team id: {error}")))?,
                )
            }
            other => {
                return Err(ApiError::bad_field(
                    other,
                    "is not a parameter of this list (limit, tickets, team, min_open)",
                ));
            }
        }
    }
    Ok(query)
}

fn float(x: f64) -> Value {
    if x.is_finite() { json!((x * 100.0).round() / 100.0) } else { Value::Null }
}

/// The clusters of similar open tickets the caller may see, the largest first: each with its
/// name, how many of its tickets are open, its arrivals (last 24 hours, usual day, how far
/// above it), and its open tickets oldest first, to be answered together with one bulk reply
/// (`POST /api/v1/tickets/bulk` with `reply`).
///
/// Query: `limit` clusters (1–100, default 20), `tickets` per cluster (1–500, default 50),
/// `team` (only that team's tickets), `min_open` (the fewest open tickets listed, default 2).
#[utoipa::path(get, path = "/api/v1/clusters", tag = "tickets",
    params(("limit" = Option<u32>, Query, description = "Clusters, 1–100 (default 20)"),
        ("tickets" = Option<u32>, Query, description = "Tickets listed per cluster, 1–500 (default 50)"),
        ("team" = Option<String>, Query, description = "Only this team's tickets"),
        ("min_open" = Option<u32>, Query, description = "The fewest open tickets a cluster listed has (default 2)")),
    responses((status = 200, body = Object, description = "`{computed_at, threshold, clusters: [...]}`"),
        (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_clusters(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = parse_query(raw.as_deref())?;
    Ok(Json(clusters_json(&state, &actor, query).await?))
}

/// A cluster listed: its view, the members the reader sees, its open tickets and those listed.
struct Listed {
    volume: ClusterVolume,
    size: usize,
    open: usize,
    tickets: Vec<Arc<str>>,
}

/// The clusters `actor` sees with at least `query.min_open` open tickets, the most open first
/// (ties in the report's order): open by the report, of the teams asked for, and still held by
/// the live state. Only the clusters listed are viewed (named, counted) for the reader.
fn choose(state: &AppState, report: &ClusterReport, actor: &Actor, query: &ClusterQuery) -> Vec<Listed> {
    let listed = |m: &Member| {
        m.open
            && actor.can_see_team(m.team.as_ref())
            && query.team.as_ref().is_none_or(|team| m.team.as_ref() == Some(team))
    };
    let mut open: Vec<(&Cluster, Vec<&Member>)> = report
        .clusters
        .iter()
        .map(|cluster| (cluster, cluster.members.iter().filter(|m| listed(m)).collect::<Vec<_>>()))
        .filter(|(_, open)| open.len() >= query.min_open)
        .collect();
    // Which of those are still open, one batch of the live state at a time.
    let ids: Vec<&str> = open.iter().flat_map(|(_, members)| members.iter().map(|m| &*m.id)).collect();
    let mut held = state.live.holds_each(&ids).into_iter();
    for (_, members) in &mut open {
        members.retain(|_| held.next().unwrap_or(false));
    }
    open.retain(|(_, members)| members.len() >= query.min_open);
    // Stable: ties keep the report's order.
    open.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    open.truncate(query.limit);
    open.into_iter()
        .filter_map(|(cluster, members)| {
            let (volume, seen) = report.view(cluster, actor)?;
            Some(Listed {
                volume: volume.into_owned(),
                size: seen.len(),
                open: members.len(),
                tickets: members.iter().take(query.tickets).map(|m| m.id.clone()).collect(),
            })
        })
        .collect()
}

/// A cluster as a reader sees it now: its view, and its open tickets read from the store.
pub struct ClusterListed {
    pub volume: ClusterVolume,
    /// The members the reader sees, open or not.
    pub size: usize,
    /// Its open tickets the reader sees.
    pub open: usize,
    /// The first of them (oldest first), as they are now.
    pub tickets: Vec<vigie_core::Ticket>,
}

/// The clusters `actor` sees, the largest first, as `query` asks, with their tickets read now.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: ClusterQuery,
) -> Result<(Arc<ClusterReport>, Vec<ClusterListed>), ApiError> {
    let report = state.clusters.latest_or_compute(state).await?;
    // Up to every open ticket of a million looked at: off the async threads.
    let (chosen_state, chosen_actor) = (state.clone(), actor.clone());
    let (report, chosen) = tokio::task::spawn_blocking(move || {
        let chosen = choose(&chosen_state, &report, &chosen_actor, &query);
        (report, chosen)
    })
    .await
    .map_err(|_| ApiError::Internal("the clusters could not be listed".into()))?;
    // The tickets as they are now: one read for all the clusters listed.
    let ids: Vec<TicketId> =
        chosen.iter().flat_map(|c| &c.tickets).filter_map(|id| TicketId::parse(id.to_string()).ok()).collect();
    let mut now_read: HashMap<String, vigie_core::Ticket> =
        state.store.tickets_by_ids(&ids).await?.into_iter().map(|t| (t.id.to_string(), t)).collect();
    let listed = chosen
        .into_iter()
        .map(|Listed { volume, size, open, tickets }| ClusterListed {
            volume,
            size,
            open,
            tickets: tickets
                .iter()
                .filter_map(|id| now_read.remove(&**id))
                .filter(|t| t.status.is_open() && actor.can_see(t))
                .collect(),
        })
        .collect();
    Ok((report, listed))
}

async fn clusters_json(state: &AppState, actor: &Actor, query: ClusterQuery) -> Result<Value, ApiError> {
    let (report, listed) = list(state, actor, query).await?;
    let clusters: Vec<Value> = listed
        .iter()
        .map(|ClusterListed { volume, size, open, tickets }| {
            let tickets: Vec<Value> = tickets
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id.to_string(),
                        "subject": t.subject,
                        "status": t.status.as_str(),
                        "priority": t.priority.as_str(),
                        "team": t.team.as_ref().map(ToString::to_string),
                        "assignee": t.assignee.as_ref().map(ToString::to_string),
                        "created_at": t.created_at.to_string(),
                    })
                })
                .collect();
            let spike = spike(volume);
            json!({
                "id": volume.id,
                "name": volume.name,
                "open": open,
                "size": size,
                "last_24h": volume.daily[0],
                "last_28d": volume.daily.iter().map(|&n| u64::from(n)).sum::<u64>(),
                "usual_per_day": spike.map_or(Value::Null, |s| float(s.usual)),
                "spike_score": spike.map_or(Value::Null, |s| float(s.score)),
                "tickets": tickets,
            })
        })
        .collect();
    Ok(json!({
        "computed_at": report.computed_at.to_string(),
        "threshold": state.clusters.threshold(),
        "window_days": WINDOW_DAYS,
        "clusters": clusters,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, day: Option<i64>, text: &str, now: Timestamp) -> Item {
        Item {
            id: Arc::from(id),
            team: None,
            open: true,
            created_at: day.map(|d| now.checked_sub(SignedDuration::from_hours(24 * d)).expect("instant")),
            text: Arc::from(normalize("", text).as_bytes()),
        }
    }

    #[test]
    fn a_cluster_counts_its_days_and_is_named() {
        let now = Timestamp::from_second(1_780_000_000).expect("instant");
        let card = "Mon paiement par carte est refusé sur le site depuis ce matin, la banque dit que tout va bien";
        let mut items = vec![item("T-1", None, "Ma facture de mars est introuvable dans mon espace client", now)];
        for (n, day) in [20, 3, 0, 0, 0].into_iter().enumerate() {
            items.push(item(&format!("T-{}", n + 2), Some(day), &format!("{card} (commande {n})"), now));
        }
        items.push(item("T-9", Some(27), "Je voudrais changer mon adresse de livraison", now));
        let report = cluster(items, 0.5, now, 1);
        assert_eq!(report.tickets, 7);
        assert_eq!(report.clusters.len(), 1, "{:?}", report.clusters);
        let c = &report.clusters[0];
        assert_eq!(c.volume.id, "T-2");
        assert_eq!(c.members.len(), 5);
        assert_eq!(c.volume.daily.iter().sum::<u32>(), 5);
        assert_eq!((c.volume.daily[0], c.volume.daily[3], c.volume.daily[20]), (3, 1, 1));
        assert_eq!(c.volume.known_days, 27, "the first ticket read was 27 days ago");
        assert_eq!(c.volume.samples[0], "T-6", "the latest first");
        assert!(c.volume.name.contains("paiement") && c.volume.name.contains("carte"), "{}", c.volume.name);
    }
}
