//! Every similar pair of a set of texts (`vigie dedup`), and their groups ([`similar_groups`],
//! the server's clusters).
//!
//! 1. Each text's signature gives its band keys and a sketch (parallel over texts).
//! 2. Per band, the (key, text) entries are sorted; texts that share a key are candidates
//!    (parallel over bands), and the candidate pairs of all bands are merged without repeats.
//! 3. A candidate whose sketch estimate is far below the threshold is dropped; the others are
//!    scored exactly, on the shingle sets of their texts, and kept at or above the threshold.
//!
//! A band key shared by very many texts (more than [`CROWDED_BUCKET`]) means the texts are
//! (nearly) one: listing all their pairs would be quadratic (Boston's 311 export has a form
//! filled 2,476 times with one text), so each is compared with the [`CROWDED_WINDOW`] texts
//! after it there, which keeps them in one group and the work linear. Below that size every
//! pair sharing a band is looked at.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::minhash::{Lsh, estimate, jaccard, shingle_set, sketch};

/// How far below the threshold a sketch estimate may be and still be scored exactly: five
/// standard deviations of the estimate at 252 bins.
const ESTIMATE_MARGIN: f64 = 0.15;

/// A bucket holding more texts than this is compared within a window of [`CROWDED_WINDOW`]
/// neighbours (in the order of the texts) instead of every pair. The W5 data's largest groups
/// hold about 450 tickets; Boston's 311 export has forms filled 2,000 times with one text.
pub const CROWDED_BUCKET: usize = 1_000;
pub const CROWDED_WINDOW: usize = 64;

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    /// The least Jaccard similarity of the normalised texts' shingles that makes a pair.
    pub threshold: f64,
    pub lsh: Lsh,
    /// Worker threads; 0: one per core.
    pub threads: usize,
}

impl Default for Search {
    fn default() -> Search {
        Search { threshold: DEFAULT_THRESHOLD, lsh: Lsh::DEFAULT, threads: 0 }
    }
}

/// The default threshold: above it, pairs of unrelated tickets written from one template are
/// rare (see `bench/dedup.sh`); below 0.6, they are most of what is found.
pub const DEFAULT_THRESHOLD: f64 = 0.7;

/// A similar pair: the texts' positions (`a < b`) and their similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
    pub score: f64,
}

/// Counts of the search, for the curious and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub texts: usize,
    /// Pairs sharing a band.
    pub candidates: usize,
    /// Candidates scored exactly.
    pub scored: usize,
    pub pairs: usize,
}

/// The normalised texts, one after the other.
#[derive(Debug, Default)]
pub struct Texts {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Texts {
    pub fn push(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.ends.push(self.bytes.len());
    }

    /// Appends a text already normalised (ASCII, as [`crate::normalize`] writes).
    pub fn push_bytes(&mut self, text: &[u8]) {
        self.bytes.extend_from_slice(text);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Appends another list's texts after this one's.
    pub fn append(&mut self, other: Texts) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }
}

/// A chunk's first text's rank over its texts' band keys, sketches and whether they had shingles.
type SignedChunk = (usize, Vec<u64>, Vec<u8>, Vec<bool>);

fn threads(wanted: usize) -> usize {
    match wanted {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Runs `work(i)` for every `i < n` on `threads` threads, each collecting into its own state.
fn parallel<S: Send>(
    n: usize,
    threads: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) + Sync,
) -> Vec<S> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(n.max(1)))
            .map(|_| {
                let (next, init, work) = (&next, &init, &work);
                scope.spawn(move || {
                    let mut state = init();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        work(&mut state, i);
                    }
                    state
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Every text's band keys (`bands` a text) and sketch (`bins` bytes a text), and whether it has
/// any shingle.
struct Signed {
    keys: Vec<u64>,
    sketches: Vec<u8>,
    has_shingles: Vec<bool>,
}

fn signatures(texts: &Texts, lsh: Lsh, threads: usize) -> Signed {
    let n = texts.len();
    let (bands, bins) = (lsh.bands(), lsh.bins());
    const CHUNK: usize = 4096;
    let chunks = n.div_ceil(CHUNK);
    let mut keys = vec![0u64; n * bands];
    let mut sketches = vec![0u8; n * bins];
    let mut has_shingles = vec![false; n];
    {
        let parts = parallel(chunks, threads, Vec::new, |done: &mut Vec<SignedChunk>, c| {
            let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let (mut signature, mut band) = (Vec::new(), Vec::new());
            let mut chunk_keys = Vec::with_capacity((hi - lo) * bands);
            let mut chunk_sketches = Vec::with_capacity((hi - lo) * bins);
            let mut chunk_has = Vec::with_capacity(hi - lo);
            for i in lo..hi {
                let has = lsh.signature(texts.get(i), &mut signature);
                lsh.band_keys(&signature, &mut band);
                chunk_keys.extend_from_slice(&band);
                sketch(&signature, &mut chunk_sketches);
                chunk_has.push(has);
            }
            done.push((c, chunk_keys, chunk_sketches, chunk_has));
        });
        for (c, chunk_keys, chunk_sketches, chunk_has) in parts.into_iter().flatten() {
            let lo = c * CHUNK;
            keys[lo * bands..lo * bands + chunk_keys.len()].copy_from_slice(&chunk_keys);
            sketches[lo * bins..lo * bins + chunk_sketches.len()].copy_from_slice(&chunk_sketches);
            has_shingles[lo..lo + chunk_has.len()].copy_from_slice(&chunk_has);
        }
    }
    Signed { keys, sketches, has_shingles }
}

/// Every pair of texts at or above the threshold, ordered by (a, b).
pub fn similar_pairs(texts: &Texts, search: Search) -> (Vec<Pair>, Stats) {
    let n = texts.len();
    let lsh = search.lsh;
    let (bands, bins) = (lsh.bands(), lsh.bins());
    let threads = threads(search.threads);
    let mut stats = Stats { texts: n, ..Stats::default() };

    // 1. Signatures, in chunks of texts.
    let Signed { keys, sketches, has_shingles } = signatures(texts, lsh, threads);

    // 2. Candidates: per band, the texts sharing a key. A pair is looked at in the first band it
    // shares only (an earlier shared band is a comparison of keys side by side), so no pair is
    // counted twice and none is kept only to be found again; its sketch estimate decides there
    // whether it is scored exactly.
    let floor = search.threshold - ESTIMATE_MARGIN;
    let sketch_of = |i: usize| &sketches[i * bins..(i + 1) * bins];
    let keys_of = |i: usize| &keys[i * bands..(i + 1) * bands];
    let per_band = parallel(
        bands,
        threads,
        || (Vec::<u64>::new(), 0usize),
        |(likely, candidates), band| {
            // The high half of the key beside the text's number: one word to sort. Texts whose keys
            // differ only in the low half meet by chance, a few per band, and their estimate
            // drops them.
            let mut entries: Vec<u64> =
                (0..n).filter(|&i| has_shingles[i]).map(|i| keys[i * bands + band] & !0xffff_ffff | i as u64).collect();
            entries.sort_unstable();
            for run in entries.chunk_by(|x, y| x >> 32 == y >> 32) {
                // A crowded bucket (many texts nearly one: a form, an automatic mail) is compared
                // within a sliding window, not pair by pair: its texts stay linked in one group
                // through their neighbours, and the work stays linear.
                let window = if run.len() > CROWDED_BUCKET { CROWDED_WINDOW } else { run.len() };
                for (i, &x) in run.iter().enumerate() {
                    let x = x as u32 as usize;
                    let (kx, sx) = (&keys_of(x)[..band], sketch_of(x));
                    for &y in run[i + 1..].iter().take(window) {
                        let y = y as u32 as usize;
                        // Met in an earlier band (compared as the runs are cut: on the high half).
                        if kx.iter().zip(&keys_of(y)[..band]).any(|(p, q)| (p ^ q) >> 32 == 0) {
                            continue;
                        }
                        *candidates += 1;
                        if estimate(sx, sketch_of(y)) >= floor {
                            likely.push((x as u64) << 32 | y as u64);
                        }
                    }
                }
            }
        },
    );
    let mut likely: Vec<u64> = Vec::new();
    for (part, candidates) in per_band {
        likely.extend(part);
        stats.candidates += candidates;
    }
    likely.sort_unstable();
    stats.scored = likely.len();

    // 3. Score exactly.
    let mut involved: Vec<u32> = likely.iter().flat_map(|&p| [(p >> 32) as u32, p as u32]).collect();
    involved.sort_unstable();
    involved.dedup();
    const SET_CHUNK: usize = 1024;
    let set_parts = parallel(involved.len().div_ceil(SET_CHUNK), threads, Vec::new, |done, c| {
        let lo = c * SET_CHUNK;
        let hi = (lo + SET_CHUNK).min(involved.len());
        let sets: Vec<Vec<u64>> = involved[lo..hi].iter().map(|&i| shingle_set(texts.get(i as usize))).collect();
        done.push((c, sets));
    });
    let mut sets: Vec<Vec<u64>> = vec![Vec::new(); involved.len()];
    for (c, chunk) in set_parts.into_iter().flatten() {
        for (k, set) in chunk.into_iter().enumerate() {
            sets[c * SET_CHUNK + k] = set;
        }
    }
    let mut position = vec![0u32; n];
    for (k, &i) in involved.iter().enumerate() {
        position[i as usize] = k as u32;
    }
    let set_of = |i: u32| &sets[position[i as usize] as usize];
    const PAIR_CHUNK: usize = 8192;
    let scored = parallel(likely.len().div_ceil(PAIR_CHUNK), threads, Vec::new, |done, c| {
        let lo = c * PAIR_CHUNK;
        let hi = (lo + PAIR_CHUNK).min(likely.len());
        let mut kept = Vec::new();
        for &p in &likely[lo..hi] {
            let (a, b) = ((p >> 32) as u32, p as u32);
            let score = jaccard(set_of(a), set_of(b));
            if score >= search.threshold {
                kept.push(Pair { a, b, score });
            }
        }
        done.push((c, kept));
    });
    let mut parts: Vec<(usize, Vec<Pair>)> = scored.into_iter().flatten().collect();
    parts.sort_unstable_by_key(|part| part.0);
    let pairs: Vec<Pair> = parts.into_iter().flat_map(|part| part.1).collect();
    stats.pairs = pairs.len();
    (pairs, stats)
}

/// How [`similar_groups`] compares the texts of a bucket: every pair, or, in a bucket of more
/// than `bucket` texts, each with the `window` texts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowd {
    pub bucket: usize,
    pub window: usize,
}

impl Crowd {
    /// The server's clusters: linear whatever the texts.
    pub const GROUPS: Crowd = Crowd { bucket: 64, window: 16 };
    /// Every pair sharing a bucket (quadratic in a crowded bucket: for tests and small sets).
    pub const EVERY_PAIR: Crowd = Crowd { bucket: usize::MAX, window: usize::MAX };
}

/// The groups of similar texts: the connected components of the pairs at or above the
/// threshold, each group's members ascending, groups by their first member; texts in no pair
/// are left out. With [`Crowd::EVERY_PAIR`], the components of every pair sharing a band (what
/// [`crate::components`] of [`similar_pairs`] gives when no bucket holds more than
/// [`CROWDED_BUCKET`] texts), without listing the pairs, in memory linear in the texts.
///
/// The bands are walked one after the other with a union-find of the groups so far: a pair
/// already in one group is not compared again (in a bucket of many alike texts, the first few
/// comparisons link them all and the rest cost a lookup each). Its other candidates are those
/// of [`similar_pairs`] (same estimate filter, same exact score), but for buckets of more than
/// `crowd.bucket` texts, each compared with the `crowd.window` after it: with
/// [`Crowd::GROUPS`], a million open tickets that all nearly say one thing (a load test, a
/// machine's alerts) stay linear. A text linked to others only beyond the window may then be
/// left out of a group. Near-duplicates of one form that fall just under the threshold cost the
/// most: each pair of a bucket is compared in every band it shares (the shingle sets are made
/// once per bucket).
/// One thread walks the bands; the signatures use `search.threads`.
pub fn similar_groups(texts: &Texts, search: Search, crowd: Crowd) -> Vec<Vec<u32>> {
    let n = texts.len();
    let lsh = search.lsh;
    let (bands, bins) = (lsh.bands(), lsh.bins());
    let Signed { keys, sketches, has_shingles } = signatures(texts, lsh, threads(search.threads));
    let floor = search.threshold - ESTIMATE_MARGIN;
    let sketch_of = |i: usize| &sketches[i * bins..(i + 1) * bins];
    let mut groups = crate::clusters::Groups::new(n);
    let mut entries: Vec<u64> = Vec::with_capacity(n);
    for band in 0..bands {
        entries.clear();
        entries.extend((0..n).filter(|&i| has_shingles[i]).map(|i| keys[i * bands + band] & !0xffff_ffff | i as u64));
        entries.sort_unstable();
        for run in entries.chunk_by(|x, y| x >> 32 == y >> 32) {
            if run.len() < 2 {
                continue;
            }
            let window = if run.len() > crowd.bucket { crowd.window } else { run.len() };
            // The shingle sets of the run's texts, made once when first needed and kept while
            // they can still be compared: a ring over the window (the whole run when it is not
            // crowded), each slot tagged with the position it holds.
            let ring = window.min(run.len()) + 1;
            let mut sets: Vec<(usize, Vec<u64>)> = vec![(usize::MAX, Vec::new()); ring];
            let fill = |sets: &mut Vec<(usize, Vec<u64>)>, at: usize, text: u32| {
                if sets[at % ring].0 != at {
                    sets[at % ring] = (at, shingle_set(texts.get(text as usize)));
                }
            };
            for (i, &x) in run.iter().enumerate() {
                let x = x as u32;
                for (j, &y) in run.iter().enumerate().skip(i + 1).take(window) {
                    let y = y as u32;
                    if groups.root(x) == groups.root(y)
                        || estimate(sketch_of(x as usize), sketch_of(y as usize)) < floor
                    {
                        continue;
                    }
                    fill(&mut sets, i, x);
                    fill(&mut sets, j, y);
                    // Two slots: `j - i` is at most the window, less than the ring.
                    if jaccard(&sets[i % ring].1, &sets[j % ring].1) >= search.threshold {
                        groups.link(x, y);
                    }
                }
            }
        }
    }
    groups.into_groups()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn texts(items: &[(&str, &str)]) -> Texts {
        let mut texts = Texts::default();
        for (subject, body) in items {
            texts.push(&normalize(subject, body));
        }
        texts
    }

    #[test]
    fn finds_resends_and_not_strangers() {
        let body = "Since this morning I cannot download my invoice from the customer portal. When I click on the PDF \
                    link the page shows error E404 and nothing is downloaded. I tried two browsers.";
        let t = texts(&[
            ("Cannot download invoice", body),
            ("My parcel is late", "I ordered a router ten days ago and it has still not arrived. Where is it?"),
            ("RE: Cannot download invoice", &format!("Any update on this?\n\n{body}\n\nSent from my phone")),
            ("", ""),
            ("Cannot download invoice", &body.replace("E404", "E500")),
        ]);
        let (pairs, stats) = similar_pairs(&t, Search { threads: 2, ..Search::default() });
        let found: Vec<(u32, u32)> = pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(found, vec![(0, 2), (0, 4), (2, 4)]);
        assert!(pairs.iter().all(|p| p.score >= 0.7 && p.score <= 1.0));
        assert!(pairs[1].score < 1.0, "another error code is another text");
        assert_eq!(stats.pairs, 3);
    }

    #[test]
    fn a_crowded_bucket_stays_linear_and_one_group() {
        let mut t = Texts::default();
        let n = 5 * CROWDED_BUCKET;
        for i in 0..n {
            t.push(&normalize("Front desk", &format!("Call inquiry at unknown place {}", i % 2)));
        }
        let (pairs, _) = similar_pairs(&t, Search { threads: 2, ..Search::default() });
        assert!(pairs.len() <= n * CROWDED_WINDOW, "{} pairs", pairs.len());
        assert!(pairs.len() >= n, "{} pairs", pairs.len());
        let groups = crate::clusters::components(n, &pairs);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), n);
    }

    #[test]
    fn groups_are_the_components_of_the_pairs() {
        let mut items = Vec::new();
        for i in 0..400 {
            items.push((
                format!("subject {}", i % 7),
                format!("body number {i} about topic {} with words {}", i % 13, "x ".repeat(i % 5)),
            ));
        }
        let borrowed: Vec<(&str, &str)> = items.iter().map(|(s, b)| (s.as_str(), b.as_str())).collect();
        let t = texts(&borrowed);
        let (pairs, _) = similar_pairs(&t, Search { threads: 2, ..Search::default() });
        let groups = similar_groups(&t, Search { threads: 2, ..Search::default() }, Crowd::EVERY_PAIR);
        assert!(groups.len() > 1);
        assert_eq!(groups, crate::clusters::components(t.len(), &pairs));
    }

    #[test]
    fn groups_of_a_crowd_stay_linear_and_one() {
        let mut t = Texts::default();
        let n = 20 * Crowd::GROUPS.bucket;
        for i in 0..n {
            t.push(&normalize("Front desk", &format!("Call inquiry at unknown place {}", i % 2)));
        }
        let groups = similar_groups(&t, Search { threads: 1, ..Search::default() }, Crowd::GROUPS);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), n);
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let mut items = Vec::new();
        for i in 0..300 {
            items.push((
                format!("subject {}", i % 7),
                format!("body number {i} about topic {} with words {}", i % 13, "x ".repeat(i % 5)),
            ));
        }
        let borrowed: Vec<(&str, &str)> = items.iter().map(|(s, b)| (s.as_str(), b.as_str())).collect();
        let t = texts(&borrowed);
        let one = similar_pairs(&t, Search { threads: 1, ..Search::default() });
        let four = similar_pairs(&t, Search { threads: 4, ..Search::default() });
        assert_eq!(one, four);
        assert!(!one.0.is_empty());
    }
}
