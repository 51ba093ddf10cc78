//! Similar tickets: the near-duplicates of a set of tickets and their groups (offline, `vigie
//! dedup`), and the likely duplicates of a new ticket among the open ones (live, [`index`]).
//!
//! Pure computation: no I/O, no clock.

pub mod batch;
pub mod clusters;
pub mod index;
pub mod minhash;
pub mod normalize;

pub use batch::{Crowd, DEFAULT_THRESHOLD, Pair, Search, Stats, Texts, similar_groups, similar_pairs};
pub use clusters::{Vocabulary, components};
pub use index::{Candidate, Fingerprint, SimilarIndex};
pub use minhash::Lsh;
pub use normalize::normalize;
