//! Similar open tickets: the likely duplicates of a ticket as it arrives (recorded as a
//! `duplicates_suggested` event beside its creation) and on demand
//! (`GET /api/v1/tickets/{id}/similar`).
//!
//! The index (`vigie_dedup::SimilarIndex`) holds a fingerprint and the normalised text of
//! every open ticket: built from the store at start, kept current by every commit (a created or
//! reopened ticket goes in, a solved or closed one out). A check normalises the new text, walks
//! the LSH buckets it falls in (the latest 64 tickets of each at most, and no further once 40
//! candidates the caller may see are found), and scores the best sketch estimates near the
//! threshold exactly on the normalised texts the index holds, until five are confirmed: no
//! read of the store on the way of a create. The fingerprint a create's check computed is
//! handed over to the ticket's commit, so a text is fingerprinted once.
//!
//! Several instances each keep their own index, fed by their own commits and by the tail of
//! the others', each applied as the live state decided (a late copy of a ticket is ignored
//! there, so it is here); the store read that scores every candidate checks again that it is
//! open.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use vigie_core::{Actor, SimilarTicket, TeamId, Ticket, TicketId};
use vigie_dedup::{Fingerprint, Lsh, SimilarIndex, normalize};
use vigie_store::{Store, StoreError};

/// Suggestions at most, the most similar first.
pub const MAX_SUGGESTIONS: usize = 5;
/// Open tickets read a page at a time at start.
const BUILD_PAGE: u32 = 10_000;

/// The index and each held ticket's team (which may change while its text does not).
struct Held {
    index: SimilarIndex<Arc<str>>,
    teams: HashMap<Arc<str>, Option<TeamId>>,
}

/// An open ticket's normalised text, as the index holds it.
#[derive(Debug, Clone)]
pub struct OpenText {
    pub id: Arc<str>,
    pub text: Arc<[u8]>,
    pub team: Option<TeamId>,
}

/// The index of the open tickets' fingerprints.
pub struct SimilarTickets {
    lsh: Lsh,
    /// The least similarity suggested.
    threshold: f64,
    held: RwLock<Held>,
    /// The fingerprints the intake check computed, by [`text_key`], until the commit of their
    /// ticket takes them: a create is normalised and fingerprinted once, off the writer's
    /// path (the commit listener runs on it, one commit after the other).
    handed_over: std::sync::Mutex<HashMap<u64, Fingerprint>>,
    /// Random keys of [`text_key`]'s hash, drawn at start: a collision cannot be made on
    /// purpose.
    keys: std::hash::RandomState,
}

/// Fingerprints waiting for their commit, at most (a create refused after its check leaves
/// one behind: the map is emptied when full).
const MAX_HANDED_OVER: usize = 1_024;

/// What a ticket's fingerprint depends on, hashed with `keys`: the parts of its subject and
/// body that `normalize` reads. Two texts with one key have one fingerprint but for a chance
/// 64-bit collision among the few fingerprints waiting (the keys are random), which would put
/// the other text's fingerprint in the index for this ticket: its suggestions and clusters.
fn text_key(keys: &std::hash::RandomState, subject: &str, body: &str) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = keys.build_hasher();
    subject.as_bytes()[..subject.len().min(vigie_dedup::normalize::MAX_SUBJECT_BYTES)].hash(&mut hasher);
    body.as_bytes()[..body.len().min(vigie_dedup::normalize::MAX_INPUT_BYTES)].hash(&mut hasher);
    hasher.finish()
}

impl std::fmt::Debug for SimilarTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimilarTickets").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

/// `each` of `items`, in order, the work split over every core (on the calling thread's
/// scope: call it off the async threads).
pub(crate) fn on_every_core<T: Sync, U: Send>(items: &[T], each: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(cores).max(1);
    let each = &each;
    std::thread::scope(|scope| {
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(each).collect::<Vec<U>>())).collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|failed| std::panic::resume_unwind(failed)))
            .collect()
    })
}

/// The text a ticket is compared on.
fn fingerprint(lsh: Lsh, subject: &str, body: &str) -> Option<Fingerprint> {
    Fingerprint::of(lsh, normalize(subject, body).as_bytes())
}

impl SimilarTickets {
    pub fn new(threshold: f64) -> SimilarTickets {
        let lsh = Lsh::DEFAULT;
        let held = Held { index: SimilarIndex::new(lsh), teams: HashMap::new() };
        SimilarTickets {
            lsh,
            threshold,
            held: RwLock::new(held),
            handed_over: std::sync::Mutex::new(HashMap::new()),
            keys: std::hash::RandomState::new(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Held> {
        // A panic while holding the lock leaves a consistent index (each operation completes
        // before it returns), so a poisoned lock is taken as is.
        self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Held> {
        self.held.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads every open ticket's text from the store into the index; the number held.
    pub async fn build(&self, store: &Store) -> Result<usize, StoreError> {
        let mut after = None;
        loop {
            let (page, next) = store.open_tickets_page_with_texts(after.as_ref(), BUILD_PAGE).await?;
            if page.is_empty() {
                break;
            }
            after = next;
            let lsh = self.lsh;
            // The fingerprints of a page on every core, off the async threads.
            let prints = tokio::task::spawn_blocking(move || {
                on_every_core(&page, |s| {
                    (s.ticket.id.clone(), s.ticket.team.clone(), fingerprint(lsh, &s.ticket.subject, &s.ticket.body))
                })
            })
            .await
            .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
            let mut held = self.write();
            for (id, team, print) in prints {
                if let Some(print) = print {
                    let id: Arc<str> = Arc::from(id.as_str());
                    held.index.insert(id.clone(), &print);
                    held.teams.insert(id, team);
                }
            }
        }
        Ok(self.len())
    }

    /// Follows a ticket: held while `open`, let go otherwise. `open` is the live state's
    /// verdict once it applied this state of the ticket (it ignores states older than the one
    /// it applied), so a late copy never puts back a ticket that has closed.
    pub fn follow(&self, ticket: &Ticket, open: bool) {
        // A ticket's text never changes: once held, only its team may have. Most commits (a
        // status, an assignee, an SLA mark, a change to a solved ticket) change nothing here:
        // a read lock, nothing written.
        let print = match (self.read().teams.get(ticket.id.as_str()), open) {
            (None, false) => return,
            (Some(team), true) if *team == ticket.team => return,
            (Some(_), _) => None,
            (None, true) => {
                let key = text_key(&self.keys, &ticket.subject, &ticket.body);
                let handed_over =
                    self.handed_over.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
                match handed_over.or_else(|| fingerprint(self.lsh, &ticket.subject, &ticket.body)) {
                    Some(print) => Some(print),
                    None => return, // no text: like nothing
                }
            }
        };
        let id: Arc<str> = Arc::from(ticket.id.as_str());
        let mut held = self.write();
        if !open {
            held.index.remove(&id);
            held.teams.remove(&id);
            return;
        }
        if let Some(print) = print {
            held.index.insert(id.clone(), &print);
        }
        held.teams.insert(id, ticket.team.clone());
    }

    /// Every open ticket held, with its normalised text (shared, not copied) and team: read a
    /// page of slots at a time, the lock released between pages so a commit never waits
    /// long. A ticket that moved meanwhile may be listed twice (the caller keys them by id) or
    /// missed until the next snapshot.
    pub fn snapshot(&self) -> Vec<OpenText> {
        const PAGE: usize = 20_000;
        let mut all = Vec::with_capacity(self.len());
        let mut from = Some(0);
        while let Some(start) = from {
            let held = self.read();
            let (page, next) = held.index.texts_page(start, PAGE);
            all.extend(page.into_iter().map(|(id, text)| {
                let team = held.teams.get(&id).cloned().flatten();
                OpenText { id, text, team }
            }));
            from = next;
        }
        all
    }

    /// Fingerprints computed by a check and not yet taken by their ticket's commit (a create
    /// refused after its check leaves its own until the map is next emptied).
    pub fn handed_over(&self) -> usize {
        self.handed_over.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// The least similarity suggested.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Open tickets held.
    pub fn len(&self) -> usize {
        self.read().index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The open tickets held whose team `keep` accepts that say nearly what `subject` and
    /// `body` say, with their exact similarity, the most similar first: all in memory.
    fn find(
        &self,
        subject: &str,
        body: &str,
        keep: impl Fn(&Arc<str>, Option<&TeamId>) -> bool,
    ) -> Vec<(Arc<str>, f64)> {
        let Some(print) = fingerprint(self.lsh, subject, body) else { return Vec::new() };
        self.find_print(&print, keep)
    }

    fn find_print(
        &self,
        print: &Fingerprint,
        keep: impl Fn(&Arc<str>, Option<&TeamId>) -> bool,
    ) -> Vec<(Arc<str>, f64)> {
        let held = self.read();
        held.index
            .similar(print, self.threshold, MAX_SUGGESTIONS, |id| keep(id, held.teams.get(id).and_then(Option::as_ref)))
    }

    /// The open tickets `actor` may see that say nearly what `subject` and `body` say, the
    /// most similar first, with their exact similarity; never `except`. Read from the store
    /// to be shown (and checked open once more).
    pub async fn similar(
        &self,
        store: &Store,
        subject: &str,
        body: &str,
        actor: &Actor,
        except: Option<&TicketId>,
    ) -> Result<Vec<(Ticket, f64)>, StoreError> {
        let found =
            self.find(subject, body, |id, team| except.is_none_or(|e| e.as_str() != &**id) && actor.can_see_team(team));
        let ids: Vec<TicketId> = found.iter().filter_map(|(id, _)| TicketId::parse(id.to_string()).ok()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tickets: HashMap<String, Ticket> =
            store.tickets_by_ids(&ids).await?.into_iter().map(|t| (t.id.to_string(), t)).collect();
        Ok(found
            .into_iter()
            .filter_map(|(id, score)| tickets.remove(&*id).map(|t| (t, score)))
            .filter(|(t, _)| t.status.is_open() && actor.can_see_team(t.team.as_ref()))
            .collect())
    }

    /// The suggestions a new ticket records: the open tickets of its own team the creator may
    /// see (whoever reads the new ticket's history reads them; a lead sees the other teams'
    /// through `GET /api/v1/tickets/{id}/similar`). In memory: no read of the store on the way
    /// of a create.
    ///
    /// The fingerprint is handed over to the commit of the ticket, which holds it from then on.
    pub fn suggestions(&self, new_ticket: &vigie_core::NewTicket, actor: &Actor) -> Vec<SimilarTicket> {
        let Some(print) = fingerprint(self.lsh, &new_ticket.subject, &new_ticket.body) else { return Vec::new() };
        let found = self.find_print(&print, |_, team| team == new_ticket.team.as_ref() && actor.can_see_team(team));
        let key = text_key(&self.keys, &new_ticket.subject, &new_ticket.body);
        {
            let mut handed_over = self.handed_over.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if handed_over.len() >= MAX_HANDED_OVER {
                handed_over.clear();
            }
            handed_over.insert(key, print);
        }
        found
            .into_iter()
            .filter_map(|(id, score)| TicketId::parse(id.to_string()).ok().map(|id| SimilarTicket::new(id, score)))
            .collect()
    }
}
