//! The open tickets' signatures, to find a new ticket's likely duplicates as it arrives.
//!
//! Each ticket held keeps its band keys, its sketch and its normalised text (at most 4 KiB). A band is a map from key to
//! the first ticket of its bucket; the tickets of a bucket are chained through per-band links,
//! so a bucket costs one map entry and a ticket two links per band, and adding or removing a
//! ticket is one map operation per band. A query walks the buckets of the new text's keys,
//! estimates each ticket met once from the sketches, and scores the best few near the
//! threshold exactly on the texts held: no read of the store on the way of a create.
//!
//! Band keys are kept in 32 bits: a chance meeting of two unrelated tickets in a bucket costs
//! one sketch comparison, and halves the memory of the keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use crate::minhash::{Lsh, estimate, jaccard, shingle_set, sketch};

const NONE: u32 = u32::MAX;

/// The most tickets of one bucket a query looks at, the latest held first. A bucket holds more
/// only when very many open tickets are nearly one text (an alert sent by a machine every
/// minute); the latest of them are as good suggestions as any, and a query stays bounded.
pub const MAX_BUCKET_WALK: usize = 64;

/// The likely duplicates of new texts among the texts held.
#[derive(Debug, Clone)]
pub struct SimilarIndex<K> {
    lsh: Lsh,
    /// Per slot, the ticket it holds (`None`: free).
    slots: Vec<Option<K>>,
    /// Per slot, its normalised text (at most 4 KiB): candidates are scored exactly here,
    /// without reading the store; shared, so a snapshot of the texts held copies no text.
    texts: Vec<Arc<[u8]>>,
    free: Vec<u32>,
    by_key: HashMap<K, u32>,
    /// Per slot, `bands` 32-bit keys.
    band_keys: Vec<u32>,
    /// Per slot, `bins` bytes.
    sketches: Vec<u8>,
    /// Per slot and band: the next and the previous slot of its bucket.
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per band: key -> first slot of the bucket.
    heads: Vec<HashMap<u32, u32>>,
}

/// A normalised text with its band keys and sketch, computed once and then inserted or
/// queried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    band_keys: Vec<u32>,
    sketch: Vec<u8>,
    text: Arc<[u8]>,
}

impl Fingerprint {
    /// `None` for a text without shingles (empty): it is like nothing.
    pub fn of(lsh: Lsh, text: &[u8]) -> Option<Fingerprint> {
        let mut signature = Vec::new();
        if !lsh.signature(text, &mut signature) {
            return None;
        }
        let mut keys = Vec::new();
        lsh.band_keys(&signature, &mut keys);
        let mut bytes = Vec::with_capacity(lsh.bins());
        sketch(&signature, &mut bytes);
        Some(Fingerprint {
            band_keys: keys.iter().map(|&k| (k >> 32) as u32).collect(),
            sketch: bytes,
            text: Arc::from(text),
        })
    }
}

/// A ticket held and its normalised text.
pub type HeldText<K> = (K, Arc<[u8]>);

/// A likely duplicate: the ticket held and the similarity its sketch estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<K> {
    pub key: K,
    pub estimate: f64,
}

impl<K: Clone + Eq + Hash> SimilarIndex<K> {
    pub fn new(lsh: Lsh) -> SimilarIndex<K> {
        SimilarIndex {
            lsh,
            slots: Vec::new(),
            texts: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            band_keys: Vec::new(),
            sketches: Vec::new(),
            next: Vec::new(),
            prev: Vec::new(),
            heads: vec![HashMap::new(); lsh.bands()],
        }
    }

    pub fn lsh(&self) -> Lsh {
        self.lsh
    }

    /// Tickets held.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.by_key.contains_key(key)
    }

    /// The tickets held in the slots from `from` on, at most `most` slots looked at, with their
    /// normalised texts (shared, not copied); and the slot to go on from, `None` after the last.
    /// A snapshot taken a page at a time lets the index change between pages: a ticket
    /// inserted meanwhile may be missed, and one moved to a slot already read seen twice.
    pub fn texts_page(&self, from: usize, most: usize) -> (Vec<HeldText<K>>, Option<usize>) {
        let end = from.saturating_add(most).min(self.slots.len());
        let page = (from.min(end)..end)
            .filter_map(|s| self.slots[s].as_ref().map(|key| (key.clone(), self.texts[s].clone())))
            .collect();
        (page, (end < self.slots.len()).then_some(end))
    }

    /// Holds `key` with its fingerprint (replacing what it held under that key).
    pub fn insert(&mut self, key: K, fingerprint: &Fingerprint) {
        self.remove(&key);
        let bands = self.lsh.bands();
        let bins = self.lsh.bins();
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.texts.push(Arc::from(&[][..]));
                self.band_keys.resize(self.band_keys.len() + bands, 0);
                self.sketches.resize(self.sketches.len() + bins, 0);
                self.next.resize(self.next.len() + bands, NONE);
                self.prev.resize(self.prev.len() + bands, NONE);
                (self.slots.len() - 1) as u32
            }
        };
        let s = slot as usize;
        self.slots[s] = Some(key.clone());
        self.texts[s] = fingerprint.text.clone();
        self.by_key.insert(key, slot);
        self.band_keys[s * bands..(s + 1) * bands].copy_from_slice(&fingerprint.band_keys);
        self.sketches[s * bins..(s + 1) * bins].copy_from_slice(&fingerprint.sketch);
        for band in 0..bands {
            let link = s * bands + band;
            let head = self.heads[band].insert(fingerprint.band_keys[band], slot);
            self.prev[link] = NONE;
            self.next[link] = head.unwrap_or(NONE);
            if let Some(head) = head {
                self.prev[head as usize * bands + band] = slot;
            }
        }
    }

    /// Lets `key` go; false if it was not held.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(slot) = self.by_key.remove(key) else { return false };
        let bands = self.lsh.bands();
        let s = slot as usize;
        for band in 0..bands {
            let link = s * bands + band;
            let (prev, next) = (self.prev[link], self.next[link]);
            if prev == NONE {
                let bucket = self.band_keys[link];
                if next == NONE {
                    self.heads[band].remove(&bucket);
                } else {
                    self.heads[band].insert(bucket, next);
                }
            } else {
                self.next[prev as usize * bands + band] = next;
            }
            if next != NONE {
                self.prev[next as usize * bands + band] = prev;
            }
            self.next[link] = NONE;
            self.prev[link] = NONE;
        }
        self.slots[s] = None;
        self.texts[s] = Arc::from(&[][..]);
        self.free.push(slot);
        true
    }

    /// The tickets held whose estimated similarity to `fingerprint` is at least `floor`, the
    /// most similar first (ties by slot), at most `limit`: the best of the first `2 × limit`
    /// found, band after band, looking at most at [`MAX_BUCKET_WALK`] tickets of a bucket.
    pub fn candidates(&self, fingerprint: &Fingerprint, floor: f64, limit: usize) -> Vec<Candidate<K>> {
        self.candidates_kept(fingerprint, floor, limit, |_| true)
    }

    /// [`SimilarIndex::candidates`] among the tickets `keep` accepts: the others do not count
    /// towards the `2 × limit` found (a true duplicate behind many tickets of another team is
    /// still reached).
    pub fn candidates_kept(
        &self,
        fingerprint: &Fingerprint,
        floor: f64,
        limit: usize,
        keep: impl Fn(&K) -> bool,
    ) -> Vec<Candidate<K>> {
        let bands = self.lsh.bands();
        let bins = self.lsh.bins();
        let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
        let mut found: Vec<(f64, u32)> = Vec::new();
        for band in 0..bands {
            // Enough found: the best of twice as many as asked for. When many open tickets are
            // nearly this text, the first bucket holds them, and the other 35 need not be walked.
            if found.len() >= limit.saturating_mul(2) {
                break;
            }
            let Some(&head) = self.heads[band].get(&fingerprint.band_keys[band]) else { continue };
            let (mut slot, mut walked) = (head, 0);
            while slot != NONE && walked < MAX_BUCKET_WALK && found.len() < limit.saturating_mul(2) {
                if seen.insert(slot) {
                    let s = slot as usize;
                    let estimate = estimate(&fingerprint.sketch, &self.sketches[s * bins..(s + 1) * bins]);
                    if estimate >= floor && self.slots[s].as_ref().is_some_and(&keep) {
                        found.push((estimate, slot));
                    }
                }
                slot = self.next[slot as usize * bands + band];
                walked += 1;
            }
        }
        found.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        found.truncate(limit);
        found
            .into_iter()
            .filter_map(|(estimate, slot)| self.slots[slot as usize].clone().map(|key| Candidate { key, estimate }))
            .collect()
    }
}

/// How far below the threshold a sketch estimate may be and still be scored: three standard
/// deviations of the estimate at 252 bins.
pub const ESTIMATE_MARGIN: f64 = 0.1;

impl<K: Clone + Eq + Hash> SimilarIndex<K> {
    /// The tickets held that `keep` accepts whose exact similarity (Jaccard of the normalised
    /// texts' shingles) to `fingerprint`'s text is at least `threshold`, the most similar
    /// first, at most `limit`: the candidates near the threshold are scored on the texts held,
    /// the best estimates first, until `limit` are found (so the `limit` returned are the best
    /// by estimate among those that pass, each with its exact score).
    pub fn similar(
        &self,
        fingerprint: &Fingerprint,
        threshold: f64,
        limit: usize,
        keep: impl Fn(&K) -> bool,
    ) -> Vec<(K, f64)> {
        let candidates = self.candidates_kept(fingerprint, threshold - ESTIMATE_MARGIN, limit.saturating_mul(4), &keep);
        if candidates.is_empty() {
            return Vec::new();
        }
        let own = shingle_set(&fingerprint.text);
        // The best estimates first, until `limit` are confirmed: when many texts held are nearly
        // this one (the worst case, a burst of one text), five exact scores instead of twenty.
        let mut found: Vec<(K, f64)> = candidates
            .into_iter()
            .filter_map(|candidate| {
                let slot = *self.by_key.get(&candidate.key)? as usize;
                let score = jaccard(&own, &shingle_set(&self.texts[slot]));
                (score >= threshold).then_some((candidate.key, score))
            })
            .take(limit)
            .collect();
        found.sort_by(|x, y| y.1.total_cmp(&x.1));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;
    use proptest::prelude::*;

    fn print(text: &str) -> Fingerprint {
        Fingerprint::of(Lsh::DEFAULT, normalize("", text).as_bytes()).expect("text")
    }

    const INVOICE: &str = "Since this morning I cannot download my invoice from the customer portal. When I click on \
                           the PDF link the page shows error E404 and nothing is downloaded.";

    #[test]
    fn a_resend_finds_its_original_and_a_stranger_finds_nothing() {
        let mut index = SimilarIndex::new(Lsh::DEFAULT);
        index.insert("T1", &print(INVOICE));
        index.insert("T2", &print("My parcel never arrived, the tracking page has not moved for ten days."));
        let found = index.candidates(&print(&format!("Any update?\n\n{INVOICE}")), 0.55, 5);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "T1");
        assert!(found[0].estimate > 0.7);
        assert!(index.candidates(&print("Please change my postal address to 3 rue de la Gare."), 0.55, 5).is_empty());
        assert!(Fingerprint::of(Lsh::DEFAULT, b"").is_none());
    }

    #[test]
    fn similar_scores_exactly_and_keeps_what_is_asked() {
        let mut index = SimilarIndex::new(Lsh::DEFAULT);
        index.insert("T1", &print(INVOICE));
        index.insert("T2", &print(&format!("{INVOICE} Thanks a lot.")));
        index.insert("T3", &print("My parcel never arrived, the tracking page has not moved for ten days."));
        let query = print(&format!("Any update?\n\n{INVOICE}"));
        let found = index.similar(&query, 0.7, 5, |_| true);
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec!["T1", "T2"]);
        let exact = crate::minhash::jaccard(
            &crate::minhash::shingle_set(normalize("", INVOICE).as_bytes()),
            &crate::minhash::shingle_set(normalize("", &format!("Any update?\n\n{INVOICE}")).as_bytes()),
        );
        assert_eq!(found[0].1, exact);
        assert_eq!(index.similar(&query, 0.7, 5, |key| *key != "T1").len(), 1);
        assert!(index.similar(&query, 0.99, 5, |_| true).is_empty());
    }

    #[test]
    fn a_crowded_bucket_is_walked_only_so_far() {
        let mut index = SimilarIndex::new(Lsh::DEFAULT);
        for i in 0..2000u32 {
            index.insert(i, &print(INVOICE));
        }
        let found = index.candidates(&print(INVOICE), 0.9, 5000);
        assert_eq!(found.len(), MAX_BUCKET_WALK);
        assert!(found.iter().all(|c| c.key >= 2000 - MAX_BUCKET_WALK as u32), "the latest held are looked at");
    }

    #[test]
    fn removed_tickets_are_not_found_and_slots_are_reused() {
        let mut index = SimilarIndex::new(Lsh::DEFAULT);
        for i in 0..5 {
            index.insert(i, &print(INVOICE));
        }
        assert_eq!(index.candidates(&print(INVOICE), 0.9, 3).iter().map(|c| c.key).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(index.remove(&1));
        assert!(!index.remove(&1));
        assert!(index.remove(&0));
        assert_eq!(index.candidates(&print(INVOICE), 0.9, 10).iter().map(|c| c.key).collect::<Vec<_>>(), vec![2, 3, 4]);
        index.insert(9, &print(INVOICE));
        assert_eq!(index.len(), 4);
        assert_eq!(index.slots.len(), 5, "a freed slot is reused");
        // Inserting a key again replaces it.
        index.insert(9, &print("Something else entirely: the mobile app crashes at login since the update."));
        assert_eq!(index.candidates(&print(INVOICE), 0.9, 10).len(), 3);
    }

    #[test]
    fn a_snapshot_by_pages_sees_every_ticket_held_once() {
        let mut index = SimilarIndex::new(Lsh::DEFAULT);
        for i in 0..10u32 {
            index.insert(i, &print(&format!("{INVOICE} {i}")));
        }
        index.remove(&3);
        let (mut seen, mut from) = (Vec::new(), Some(0));
        while let Some(start) = from {
            let (page, next) = index.texts_page(start, 4);
            seen.extend(page);
            from = next;
        }
        assert_eq!(seen.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [0, 1, 2, 4, 5, 6, 7, 8, 9]);
        assert_eq!(&*seen[0].1, normalize("", &format!("{INVOICE} 0")).as_bytes());
        assert_eq!(index.texts_page(100, 4), (Vec::new(), None));
    }

    proptest! {
        /// After any inserts and removals, a query finds exactly the held texts a fresh index of
        /// the same texts finds.
        #[test]
        fn updates_keep_the_buckets_right(ops in prop::collection::vec((0u8..12, 0u8..6, any::<bool>()), 1..80)) {
            let texts = [
                INVOICE.to_owned(),
                format!("RE: {INVOICE}"),
                format!("{INVOICE} Thanks"),
                "The mobile app crashes at login since the last update, every single time.".to_owned(),
                "The mobile app crashes at login since the update, every time.".to_owned(),
                "Please close my account.".to_owned(),
            ];
            let mut index = SimilarIndex::new(Lsh::DEFAULT);
            let mut held: HashMap<u8, u8> = HashMap::new();
            for (key, text, add) in ops {
                if add {
                    index.insert(key, &print(&texts[text as usize]));
                    held.insert(key, text);
                } else {
                    prop_assert_eq!(index.remove(&key), held.remove(&key).is_some());
                }
            }
            let mut fresh = SimilarIndex::new(Lsh::DEFAULT);
            let mut keys: Vec<_> = held.iter().collect();
            keys.sort();
            for (key, text) in keys {
                fresh.insert(*key, &print(&texts[*text as usize]));
            }
            for text in &texts {
                let mut got: Vec<u8> = index.candidates(&print(text), 0.0, 100).into_iter().map(|c| c.key).collect();
                let mut want: Vec<u8> = fresh.candidates(&print(text), 0.0, 100).into_iter().map(|c| c.key).collect();
                got.sort();
                want.sort();
                prop_assert_eq!(got, want);
            }
            prop_assert_eq!(index.len(), held.len());
        }
    }
}
