//! Groups of similar tickets and the words that name them.
//!
//! A group is a connected component of the similar pairs: two tickets are in one group when a
//! chain of similar pairs links them (a recurring problem's tickets differ a little from burst
//! to burst, and the chain follows the drift). Its name is the words most of its tickets share
//! and the rest of the tickets rarely use (document frequency in the group times the inverse
//! document frequency in the whole), in the order they come in the group's first ticket:
//! "paiement refuse carte".

use std::collections::HashMap;

use crate::batch::Pair;

/// The groups of `n` items linked by `pairs`, each group's members ascending, groups by their
/// first member; items in no pair are left out.
pub fn components(n: usize, pairs: &[Pair]) -> Vec<Vec<u32>> {
    let mut groups = Groups::new(n);
    for pair in pairs {
        groups.link(pair.a, pair.b);
    }
    groups.into_groups()
}

/// Groups being made: a union-find whose roots are each group's first member.
pub(crate) struct Groups {
    parent: Vec<u32>,
    linked: Vec<bool>,
}

impl Groups {
    pub(crate) fn new(n: usize) -> Groups {
        Groups { parent: (0..n as u32).collect(), linked: vec![false; n] }
    }

    /// The first member of `x`'s group.
    pub(crate) fn root(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let up = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = up;
            x = up;
        }
        x
    }

    /// Puts `a` and `b` in one group.
    pub(crate) fn link(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.root(a), self.root(b));
        self.linked[a as usize] = true;
        self.linked[b as usize] = true;
        if ra != rb {
            // The smaller root wins, so a group's root is its first member.
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[high as usize] = low;
        }
    }

    /// The groups of the items linked, each ascending, by their first member.
    pub(crate) fn into_groups(mut self) -> Vec<Vec<u32>> {
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        for x in 0..self.parent.len() as u32 {
            if self.linked[x as usize] {
                let r = self.root(x);
                groups.entry(r).or_default().push(x);
            }
        }
        let mut groups: Vec<Vec<u32>> = groups.into_values().collect();
        groups.sort_unstable_by_key(|g| g[0]);
        groups
    }
}

/// Words too common in tickets of any subject to name a group (normalised spelling).
const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "that",
    "this",
    "you",
    "your",
    "have",
    "has",
    "was",
    "are",
    "not",
    "but",
    "can",
    "could",
    "would",
    "please",
    "thanks",
    "thank",
    "hello",
    "dear",
    "regards",
    "since",
    "from",
    "about",
    "there",
    "when",
    "what",
    "which",
    "will",
    "been",
    "all",
    "any",
    "our",
    "they",
    "them",
    "les",
    "des",
    "une",
    "pour",
    "que",
    "qui",
    "dans",
    "sur",
    "pas",
    "par",
    "avec",
    "est",
    "mon",
    "mes",
    "vous",
    "votre",
    "nous",
    "merci",
    "bonjour",
    "cordialement",
    "depuis",
    "par",
    "plus",
    "mais",
    "cette",
    "ces",
    "son",
    "sont",
    "aux",
    "ete",
    "tout",
    "bien",
    "fait",
    "faire",
    "comme",
    "encore",
    "quand",
    "alors",
    "aussi",
];

/// How often words occur across tickets: each ticket counts a word once.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    texts: u64,
    frequency: HashMap<String, u64>,
}

fn words(text: &[u8]) -> impl Iterator<Item = &str> {
    text.split(|&b| b == b' ')
        .filter(|w| w.len() >= 3 && w.iter().all(u8::is_ascii_lowercase))
        .filter_map(|w| std::str::from_utf8(w).ok())
        .filter(|w| !STOPWORDS.contains(w))
}

impl Vocabulary {
    /// Counts a normalised text's words.
    pub fn add(&mut self, text: &[u8]) {
        self.texts += 1;
        let mut seen: Vec<&str> = words(text).collect();
        seen.sort_unstable();
        seen.dedup();
        for word in seen {
            match self.frequency.get_mut(word) {
                Some(count) => *count += 1,
                None => {
                    self.frequency.insert(word.to_owned(), 1);
                }
            }
        }
    }

    fn inverse_frequency(&self, word: &str) -> f64 {
        let count = self.frequency.get(word).copied().unwrap_or(0);
        ((self.texts as f64 + 1.0) / (count as f64 + 1.0)).ln() + 1.0
    }

    /// A name for a group from its members' normalised texts: up to `most` words found in at
    /// least half of them, by uses per member times rarity, in the order of the first member.
    pub fn name(&self, members: &[&[u8]], most: usize) -> String {
        if members.is_empty() {
            return String::new();
        }
        // (members using the word, times it is used)
        let mut share: HashMap<&str, (usize, usize)> = HashMap::new();
        for text in members {
            let mut seen: Vec<&str> = words(text).collect();
            seen.sort_unstable();
            for run in seen.chunk_by(|x, y| x == y) {
                let entry = share.entry(run[0]).or_default();
                entry.0 += 1;
                entry.1 += run.len();
            }
        }
        let half = members.len().div_ceil(2);
        // Where each word first comes in the first member.
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (at, word) in words(members[0]).enumerate() {
            first.entry(word).or_insert(at);
        }
        let mut ranked: Vec<(&str, f64, usize)> = share
            .into_iter()
            .filter(|&(_, (texts, _))| texts >= half)
            .map(|(word, (_, uses))| {
                let score = uses as f64 / members.len() as f64 * self.inverse_frequency(word);
                (word, score, first.get(word).copied().unwrap_or(usize::MAX))
            })
            .collect();
        // Ties go to the word that comes first in the first member (a subject's words before
        // its body's), then in spelling order.
        ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.2.cmp(&y.2)).then_with(|| x.0.cmp(y.0)));
        ranked.truncate(most);
        ranked.sort_by_key(|&(_, _, at)| at);
        ranked.iter().map(|(word, _, _)| *word).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[test]
    fn chains_make_one_group() {
        let pairs = [Pair { a: 0, b: 3, score: 0.8 }, Pair { a: 3, b: 5, score: 0.9 }, Pair { a: 1, b: 2, score: 0.7 }];
        assert_eq!(components(7, &pairs), vec![vec![0, 3, 5], vec![1, 2]]);
        assert!(components(3, &[]).is_empty());
    }

    #[test]
    fn a_group_is_named_by_its_distinctive_words() {
        let mut vocabulary = Vocabulary::default();
        let background: Vec<String> = (0..50)
            .map(|i| normalize("Question", &format!("Hello, I have a question about my account number {i}. Thanks")))
            .collect();
        for text in &background {
            vocabulary.add(text.as_bytes());
        }
        let group: Vec<String> = (0..5)
            .map(|i| {
                normalize("Paiement refusé carte", &format!("Bonjour, mon paiement par carte est refusé ({i}). Merci"))
            })
            .collect();
        for text in &group {
            vocabulary.add(text.as_bytes());
        }
        let members: Vec<&[u8]> = group.iter().map(|t| t.as_bytes()).collect();
        assert_eq!(vocabulary.name(&members, 3), "paiement refuse carte");
    }
}
