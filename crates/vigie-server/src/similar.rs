//! Similar open tickets: the likely duplicates of a ticket as it arrives (recorded as a
//! `duplicates_suggested` event beside its creation) and on demand
//! (`GET /api/v1/tickets/{id}/similar`).
//!
//! The index (`vigie_dedup::SimilarIndex`) holds a fingerprint of every open ticket, no text:
//! built from the store at start, kept current by every commit (a created or reopened ticket
//! goes in, a solved or closed one out). A check normalises the new text, walks the LSH buckets
//! it falls in (the latest 64 tickets of each at most), reads the ten best sketch estimates
//! near the threshold from the store and scores them exactly, as `vigie dedup` does; only open
//! tickets the caller may see are suggested.
//!
//! Several instances each keep their own index, fed by their own commits and by the tail of
//! the others', each applied as the live state decided (a late copy of a ticket is ignored
//! there, so it is here); the store read that scores every candidate checks again that it is
//! open.

use std::sync::{Arc, RwLock};

use vigie_core::{Actor, SimilarTicket, Ticket, TicketId};
use vigie_dedup::{Fingerprint, Lsh, SimilarIndex, normalize};
use vigie_store::{Store, StoreError};

/// Suggestions at most, the most similar first.
pub const MAX_SUGGESTIONS: usize = 5;
/// Candidates read from the store to be scored, at most: the best estimates.
const MAX_SCORED: usize = 10;
/// How far below the threshold a sketch estimate may be and still be scored: three standard
/// deviations of the estimate at 252 bins (offline takes five; here every candidate scored is
/// a read from the store inside a create).
const ESTIMATE_MARGIN: f64 = 0.1;
/// Open tickets read a page at a time at start.
const BUILD_PAGE: u32 = 10_000;

/// The index of the open tickets' fingerprints.
pub struct SimilarTickets {
    lsh: Lsh,
    /// The least similarity suggested.
    threshold: f64,
    index: RwLock<SimilarIndex<Arc<str>>>,
}

impl std::fmt::Debug for SimilarTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimilarTickets").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

/// The text a ticket is compared on.
fn fingerprint(lsh: Lsh, subject: &str, body: &str) -> Option<Fingerprint> {
    Fingerprint::of(lsh, normalize(subject, body).as_bytes())
}

impl SimilarTickets {
    pub fn new(threshold: f64) -> SimilarTickets {
        let lsh = Lsh::DEFAULT;
        SimilarTickets { lsh, threshold, index: RwLock::new(SimilarIndex::new(lsh)) }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SimilarIndex<Arc<str>>> {
        // A panic while holding the lock leaves a consistent index (each operation completes
        // before it returns), so a poisoned lock is taken as is.
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, SimilarIndex<Arc<str>>> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
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
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let chunk = page.len().div_ceil(cores).max(1);
                std::thread::scope(|scope| {
                    let parts: Vec<_> = page
                        .chunks(chunk)
                        .map(|part| {
                            scope.spawn(move || {
                                part.iter()
                                    .map(|s| (s.ticket.id.clone(), fingerprint(lsh, &s.ticket.subject, &s.ticket.body)))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    parts
                        .into_iter()
                        .flat_map(|part| part.join().unwrap_or_else(|failed| std::panic::resume_unwind(failed)))
                        .collect::<Vec<_>>()
                })
            })
            .await
            .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
            let mut index = self.write();
            for (id, print) in prints {
                if let Some(print) = print {
                    index.insert(Arc::from(id.as_str()), &print);
                }
            }
        }
        Ok(self.read().len())
    }

    /// Follows a ticket: held while `open`, let go otherwise. `open` is the live state's
    /// verdict once it applied this state of the ticket (it ignores states older than the one
    /// it applied), so a late copy never puts back a ticket that has closed.
    pub fn follow(&self, ticket: &Ticket, open: bool) {
        let id: Arc<str> = Arc::from(ticket.id.as_str());
        if !open {
            self.write().remove(&id);
            return;
        }
        // A ticket's text never changes: once held, it is held right.
        if self.read().contains(&id) {
            return;
        }
        if let Some(print) = fingerprint(self.lsh, &ticket.subject, &ticket.body) {
            self.write().insert(id, &print);
        }
    }

    /// The least similarity suggested.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Open tickets held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The open tickets `actor` may see that say nearly what `subject` and `body` say, the
    /// most similar first, with their exact similarity; never `except`.
    pub async fn similar(
        &self,
        store: &Store,
        subject: &str,
        body: &str,
        actor: &Actor,
        except: Option<&TicketId>,
    ) -> Result<Vec<(Ticket, f64)>, StoreError> {
        let text = normalize(subject, body);
        let Some(print) = Fingerprint::of(self.lsh, text.as_bytes()) else { return Ok(Vec::new()) };
        let floor = self.threshold - ESTIMATE_MARGIN;
        let candidates = self.read().candidates(&print, floor, MAX_SCORED + 1);
        let ids: Vec<TicketId> = candidates
            .iter()
            .filter(|c| except.is_none_or(|e| e.as_str() != &*c.key))
            .filter_map(|c| TicketId::parse(c.key.to_string()).ok())
            .take(MAX_SCORED)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let own = vigie_dedup::minhash::shingle_set(text.as_bytes());
        let mut found: Vec<(Ticket, f64)> = store
            .tickets_by_ids(&ids)
            .await?
            .into_iter()
            .filter(|t| t.status.is_open() && actor.can_see_team(t.team.as_ref()))
            .filter_map(|t| {
                let theirs = vigie_dedup::minhash::shingle_set(normalize(&t.subject, &t.body).as_bytes());
                let score = vigie_dedup::minhash::jaccard(&own, &theirs);
                (score >= self.threshold).then_some((t, score))
            })
            .collect();
        found.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.id.as_str().cmp(y.0.id.as_str())));
        found.truncate(MAX_SUGGESTIONS);
        Ok(found)
    }

    /// [`SimilarTickets::similar`] as the suggestions a new ticket records: only the open
    /// tickets of its own team, since whoever reads the new ticket's history reads them (a lead
    /// sees the other teams' through `GET /api/v1/tickets/{id}/similar`). A failure to read the
    /// candidates costs the suggestions, never the ticket: it is logged.
    pub async fn suggestions(
        &self,
        store: &Store,
        new_ticket: &vigie_core::NewTicket,
        actor: &Actor,
    ) -> Vec<SimilarTicket> {
        match self.similar(store, &new_ticket.subject, &new_ticket.body, actor, None).await {
            Ok(found) => found
                .into_iter()
                .filter(|(ticket, _)| ticket.team == new_ticket.team)
                .map(|(ticket, score)| SimilarTicket::new(ticket.id, score))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "the duplicate check of a new ticket could not read its candidates");
                Vec::new()
            }
        }
    }
}
