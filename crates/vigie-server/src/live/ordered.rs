//! An ordered set of entries with the sum of the weights ahead of any entry: the team queues
//! (keyed by their place in the queue, weighted by the work), and the backlog's indexes (keyed
//! by an instant, for ranks by age and by deadline).
//!
//! A sorted vector cut into chunks of at most [`CHUNK_MAX`] entries, each chunk knowing the
//! total weight of its entries. Insert and remove cost a binary search over the chunks, one
//! within a chunk and a shift of at most a chunk; the position and the weight before an entry
//! sum the chunks before it (a thousand additions for a million entries) and part of its chunk.
//! A balanced tree with subtree sums would do each in O(log n), at the cost of much more code;
//! at a million entries this is a few microseconds, well within the budget of a request.

use std::sync::Arc;

use vigie_core::queue::QueueKey;

/// Largest chunk before it is split in two.
const CHUNK_MAX: usize = 512;

/// One ticket in a queue: its place, its id (the last tie-break), and its weight (thousandths
/// of a minute of work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry<K = QueueKey> {
    pub key: K,
    pub id: Arc<str>,
    pub weight: i64,
}

impl<K: Ord> Entry<K> {
    fn sort_key(&self) -> (&K, &str) {
        (&self.key, &self.id)
    }
}

#[derive(Debug)]
struct Chunk<K> {
    entries: Vec<Entry<K>>,
    weight: i64,
}

impl<K> Default for Chunk<K> {
    fn default() -> Self {
        Chunk { entries: Vec::new(), weight: 0 }
    }
}

#[derive(Debug)]
pub(crate) struct OrderedQueue<K = QueueKey> {
    chunks: Vec<Chunk<K>>,
    len: usize,
}

impl<K> Default for OrderedQueue<K> {
    fn default() -> Self {
        OrderedQueue { chunks: Vec::new(), len: 0 }
    }
}

/// Where an entry is: its 0-based position and the weight of the entries before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rank {
    pub position: usize,
    pub weight_before: i64,
}

impl<K: Ord> OrderedQueue<K> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk that holds (or would hold) `key`: the first whose last entry is not below it.
    fn chunk_of(&self, key: (&K, &str)) -> usize {
        let idx = self.chunks.partition_point(|chunk| chunk.entries.last().is_some_and(|last| last.sort_key() < key));
        idx.min(self.chunks.len().saturating_sub(1))
    }

    pub fn insert(&mut self, entry: Entry<K>) {
        if self.chunks.is_empty() {
            self.chunks.push(Chunk::default());
        }
        let chunk_idx = self.chunk_of(entry.sort_key());
        let chunk = &mut self.chunks[chunk_idx];
        let position = chunk.entries.partition_point(|e| e.sort_key() < entry.sort_key());
        if chunk.entries.get(position).is_some_and(|e| e.sort_key() == entry.sort_key()) {
            return;
        }
        chunk.weight += entry.weight;
        chunk.entries.insert(position, entry);
        self.len += 1;
        if chunk.entries.len() > CHUNK_MAX {
            let upper = chunk.entries.split_off(CHUNK_MAX / 2);
            chunk.weight = chunk.entries.iter().map(|e| e.weight).sum();
            let weight = upper.iter().map(|e| e.weight).sum();
            self.chunks.insert(chunk_idx + 1, Chunk { entries: upper, weight });
        }
    }

    /// Removes the entry with this key and id; whether it was there.
    pub fn remove(&mut self, key: &K, id: &str) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let chunk_idx = self.chunk_of((key, id));
        let chunk = &mut self.chunks[chunk_idx];
        let position = chunk.entries.partition_point(|e| e.sort_key() < (key, id));
        if chunk.entries.get(position).is_none_or(|e| e.sort_key() != (key, id)) {
            return false;
        }
        let removed = chunk.entries.remove(position);
        chunk.weight -= removed.weight;
        self.len -= 1;
        if chunk.entries.is_empty() {
            self.chunks.remove(chunk_idx);
        }
        true
    }

    /// The rank of the entry with this key and id, if it is there.
    pub fn rank(&self, key: &K, id: &str) -> Option<Rank> {
        if self.chunks.is_empty() {
            return None;
        }
        let chunk_idx = self.chunk_of((key, id));
        let chunk = &self.chunks[chunk_idx];
        let position = chunk.entries.partition_point(|e| e.sort_key() < (key, id));
        if chunk.entries.get(position).is_none_or(|e| e.sort_key() != (key, id)) {
            return None;
        }
        let before = &self.chunks[..chunk_idx];
        Some(Rank {
            position: before.iter().map(|c| c.entries.len()).sum::<usize>() + position,
            weight_before: before.iter().map(|c| c.weight).sum::<i64>()
                + chunk.entries[..position].iter().map(|e| e.weight).sum::<i64>(),
        })
    }

    /// The entries in order, from the first after `after` (exclusive), or from the start.
    pub fn iter_after<'a>(&'a self, after: Option<(&K, &str)>) -> impl Iterator<Item = &'a Entry<K>> + use<'a, K> {
        let (chunk_idx, position) = match after {
            Some(key) if !self.chunks.is_empty() => {
                let chunk_idx = self.chunk_of(key);
                let position = self.chunks[chunk_idx].entries.partition_point(|e| e.sort_key() <= key);
                (chunk_idx, position)
            }
            _ => (0, 0),
        };
        self.chunks.get(chunk_idx..).unwrap_or_default().iter().enumerate().flat_map(move |(offset, chunk)| {
            let skip = if offset == 0 { position } else { 0 };
            chunk.entries[skip.min(chunk.entries.len())..].iter()
        })
    }

    /// How many entries have a key below `key` (whatever their id).
    pub fn count_below(&self, key: &K) -> usize {
        let full = self.chunks.partition_point(|chunk| chunk.entries.last().is_some_and(|last| last.key < *key));
        let before: usize = self.chunks[..full].iter().map(|c| c.entries.len()).sum();
        before + self.chunks.get(full).map_or(0, |chunk| chunk.entries.partition_point(|e| e.key < *key))
    }

    /// The entry at 0-based `position` in the order.
    pub fn nth(&self, mut position: usize) -> Option<&Entry<K>> {
        for chunk in &self.chunks {
            if position < chunk.entries.len() {
                return chunk.entries.get(position);
            }
            position -= chunk.entries.len();
        }
        None
    }

    /// The total weight of the queue.
    #[cfg(test)]
    pub fn total_weight(&self) -> i64 {
        self.chunks.iter().map(|c| c.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn entry(class: u8, value: i64, id: u32, weight: i64) -> Entry {
        Entry { key: QueueKey { class, value, created_at: 0 }, id: Arc::from(format!("T-{id}")), weight }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i64, u32, i64),
        Remove(usize),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                3 => (0u8..3, 0i64..200, 0u32..3000, 0i64..100).prop_map(|(c, v, id, w)| Op::Insert(c, v, id, w)),
                1 => (0usize..5000).prop_map(Op::Remove),
            ],
            0..3000,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The chunked queue orders, ranks and sums like a sorted map.
        #[test]
        fn behaves_like_a_sorted_map(ops in ops()) {
            let mut queue = OrderedQueue::default();
            let mut model: BTreeMap<(QueueKey, Arc<str>), i64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(class, value, id, weight) => {
                        let entry = entry(class, value, id, weight);
                        model.entry((entry.key, entry.id.clone())).or_insert(weight);
                        queue.insert(entry);
                    }
                    Op::Remove(idx) => {
                        if let Some(((key, id), _)) = model.iter().nth(idx % model.len().max(1)).map(|(k, v)| (k.clone(), *v)) {
                            prop_assert!(queue.remove(&key, &id));
                            model.remove(&(key, id));
                        }
                    }
                }
            }
            prop_assert_eq!(queue.len(), model.len());
            let listed: Vec<(QueueKey, Arc<str>, i64)> = queue.iter_after(None).map(|e| (e.key, e.id.clone(), e.weight)).collect();
            let expected: Vec<(QueueKey, Arc<str>, i64)> = model.iter().map(|((k, id), w)| (*k, id.clone(), *w)).collect();
            prop_assert_eq!(&listed, &expected);
            let mut before = 0;
            for (position, (key, id, weight)) in expected.iter().enumerate() {
                prop_assert_eq!(queue.rank(key, id), Some(Rank { position, weight_before: before }));
                let rest: Vec<&str> = queue.iter_after(Some((key, id))).map(|e| &*e.id).collect();
                let model_rest: Vec<&str> = expected[position + 1..].iter().map(|(_, id, _)| &**id).collect();
                prop_assert_eq!(rest, model_rest);
                before += weight;
            }
            prop_assert_eq!(queue.total_weight(), before);
            for (position, (key, id, _)) in expected.iter().enumerate() {
                prop_assert_eq!(queue.nth(position).map(|e| &*e.id), Some(&**id));
                prop_assert_eq!(queue.count_below(key), expected.iter().filter(|(k, _, _)| k < key).count());
            }
            prop_assert!(queue.nth(expected.len()).is_none());
        }
    }
}
