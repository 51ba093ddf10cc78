//! Shingles, exact similarity, MinHash signatures and LSH bands.
//!
//! A shingle is 5 consecutive bytes of the normalised text (character 5-grams: a typo changes at
//! most five of them, where it would change a third of a short text's word 3-shingles). Five
//! ASCII bytes pack into a `u64` exactly, and [`mix`] is a bijection, so a shingle's hash never
//! collides with another's and is the same on every machine and in every version: signatures
//! and band keys can be stored.
//!
//! The signature is one-permutation MinHash: each shingle hashes once, its high bits pick one of
//! [`Lsh::bins`] bins and its low bits compete for that bin's minimum; bins left empty borrow
//! the value of a bin chosen by a hash of their number ("optimal densification", Shrivastava
//! 2017), so two texts still agree on a bin with probability their Jaccard similarity. One hash
//! per shingle instead of one per shingle and bin.

/// Bytes per shingle.
pub const SHINGLE_BYTES: usize = 5;

/// A stable 64-bit bijective mixer (the finaliser of SplitMix64).
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Calls `each` with the hash of every shingle of `text` (repeats included). A text shorter
/// than a shingle is one shingle; an empty text has none.
pub fn for_each_shingle(text: &[u8], mut each: impl FnMut(u64)) {
    if text.is_empty() {
        return;
    }
    if text.len() < SHINGLE_BYTES {
        let packed = text.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        // The length tag keeps "ab" apart from "\0ab".
        each(mix(packed | (text.len() as u64) << 56));
        return;
    }
    let mut packed = 0u64;
    for (i, &b) in text.iter().enumerate() {
        packed = ((packed << 8) | u64::from(b)) & 0xff_ffff_ffff;
        if i + 1 >= SHINGLE_BYTES {
            each(mix(packed));
        }
    }
}

/// The set of a text's shingle hashes, sorted, for [`jaccard`].
pub fn shingle_set(text: &[u8]) -> Vec<u64> {
    let mut set = Vec::with_capacity(text.len());
    for_each_shingle(text, |h| set.push(h));
    set.sort_unstable();
    set.dedup();
    set
}

/// |A ∩ B| / |A ∪ B| of two sorted sets; 0 when both are empty.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 { 0.0 } else { common as f64 / union as f64 }
}

/// The banding: `bands` bands of `rows` bins each. Two texts of Jaccard similarity `s` share at
/// least one band with probability `1 - (1 - s^rows)^bands`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lsh {
    bands: usize,
    rows: usize,
}

/// The most bins a signature may have.
pub const MAX_BINS: usize = 512;

impl Lsh {
    /// 36 bands of 7 rows: a pair at 0.70 becomes a candidate with probability 0.955, at 0.75
    /// 0.994, at 0.80 0.9998; at 0.50 0.25, at 0.40 0.06, at 0.30 0.008. Tickets written from
    /// one template are mostly 0.3 to 0.5 alike: fewer rows made ten times the candidates on
    /// the W5 data for 0.5 % more recall, more made it lose pairs at 0.7 (`bench/dedup.sh`).
    pub const DEFAULT: Lsh = Lsh { bands: 36, rows: 7 };

    /// A banding, if it has at most [`MAX_BINS`] bins and at least one.
    pub fn new(bands: usize, rows: usize) -> Option<Lsh> {
        (bands >= 1 && rows >= 1 && bands * rows <= MAX_BINS).then_some(Lsh { bands, rows })
    }

    pub fn bands(self) -> usize {
        self.bands
    }

    pub fn rows(self) -> usize {
        self.rows
    }

    pub fn bins(self) -> usize {
        self.bands * self.rows
    }

    /// The probability that a pair of similarity `s` shares a band.
    pub fn candidate_probability(self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The MinHash signature of a text into `signature` (resized to [`Lsh::bins`]); false when
    /// the text has no shingle (an empty text is like nothing and nothing is like it).
    pub fn signature(self, text: &[u8], signature: &mut Vec<u32>) -> bool {
        let bins = self.bins();
        signature.clear();
        signature.resize(bins, u32::MAX);
        // Which bins a shingle reached (a bin's value may legitimately be u32::MAX).
        let mut filled = [0u64; MAX_BINS / 64];
        let mut any = false;
        for_each_shingle(text, |h| {
            let bin = (((h >> 32) * bins as u64) >> 32) as usize;
            let value = h as u32;
            if value <= signature[bin] {
                signature[bin] = value;
            }
            filled[bin / 64] |= 1 << (bin % 64);
            any = true;
        });
        let filled = |bin: usize| filled[bin / 64] & (1 << (bin % 64)) != 0;
        if !any {
            return false;
        }
        for bin in 0..bins {
            if filled(bin) {
                continue;
            }
            let mut attempt = 0u64;
            loop {
                let donor = (((mix((bin as u64) << 32 | attempt) >> 32) * bins as u64) >> 32) as usize;
                if filled(donor) {
                    signature[bin] = signature[donor];
                    break;
                }
                attempt += 1;
            }
        }
        true
    }

    /// The key of each band of a signature, into `keys`.
    pub fn band_keys(self, signature: &[u32], keys: &mut Vec<u64>) {
        keys.clear();
        for (band, rows) in signature.chunks_exact(self.rows).enumerate() {
            let mut key = mix(band as u64 + 1);
            for &value in rows {
                key = mix(key ^ u64::from(value));
            }
            keys.push(key);
        }
    }
}

/// The low byte of each bin: enough to estimate a similarity (b-bit MinHash) at a quarter of
/// the memory.
pub fn sketch(signature: &[u32], into: &mut Vec<u8>) {
    into.extend(signature.iter().map(|&v| v as u8));
}

/// The similarity two sketches estimate: a bin agrees with probability `s + (1 - s) / 256`.
pub fn estimate(a: &[u8], b: &[u8]) -> f64 {
    let agree = equal_bytes(a, b) as f64 / a.len().max(1) as f64;
    ((agree - 1.0 / 256.0) / (1.0 - 1.0 / 256.0)).max(0.0)
}

/// How many positions hold the same byte, eight at a time: a byte of `x = a ^ b` is zero
/// exactly when its high bit survives `!((x & 0x7f..) + 0x7f.. | x | 0x7f..)`.
fn equal_bytes(a: &[u8], b: &[u8]) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut equal = 0;
    for (x, y) in (&mut a8).zip(&mut b8) {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let x = word(x) ^ word(y);
        equal += (!(((x & LOW7) + LOW7) | x | LOW7)).count_ones() as usize;
    }
    equal + a8.remainder().iter().zip(b8.remainder()).filter(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shingles_are_exact_and_stable() {
        let mut all = Vec::new();
        for_each_shingle(b"abcdefg", |h| all.push(h));
        assert_eq!(all.len(), 3);
        // Stable across versions: signatures may be stored.
        assert_eq!(all[0], mix(u64::from_be_bytes([0, 0, 0, b'a', b'b', b'c', b'd', b'e'])));
        assert_eq!(mix(0x6162636465), 12_403_346_385_438_881_899);
        let mut short = Vec::new();
        for_each_shingle(b"ab", |h| short.push(h));
        for_each_shingle(b"\0ab", |h| short.push(h));
        assert_eq!(short.len(), 2);
        assert_ne!(short[0], short[1]);
        for_each_shingle(b"", |_| panic!("an empty text has no shingle"));
    }

    #[test]
    fn jaccard_of_sets() {
        let a = shingle_set(b"the quick brown fox");
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
    }

    #[test]
    fn signatures_estimate_the_similarity() {
        let lsh = Lsh::DEFAULT;
        let a = b"since this morning i cannot download my invoice from the customer portal when i click on the pdf link the page shows error e0 and nothing is downloaded";
        let mut b = a.to_vec();
        b[40] = b'x';
        b.extend_from_slice(b" thanks a lot for your help");
        let (mut sa, mut sb) = (Vec::new(), Vec::new());
        assert!(lsh.signature(a, &mut sa));
        assert!(lsh.signature(&b, &mut sb));
        let exact = jaccard(&shingle_set(a), &shingle_set(&b));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / sa.len() as f64;
        assert!((agree - exact).abs() < 0.15, "{agree} vs {exact}");
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        lsh.band_keys(&sa, &mut ka);
        lsh.band_keys(&sb, &mut kb);
        assert_eq!(ka.len(), lsh.bands);
        assert!(ka.iter().zip(&kb).any(|(x, y)| x == y));
        assert!(!lsh.signature(b"", &mut sa));
        assert!(lsh.signature(b"a", &mut sa), "a short text still has a signature");
    }

    #[test]
    fn candidate_probability_of_the_default() {
        let lsh = Lsh::DEFAULT;
        assert!((lsh.candidate_probability(0.7) - 0.955).abs() < 0.001);
        assert!(lsh.candidate_probability(0.8) > 0.999);
        assert!(lsh.candidate_probability(0.3) < 0.01);
        assert_eq!(Lsh::new(64, 9), None, "more bins than a signature holds");
        assert_eq!(Lsh::new(0, 7), None);
    }
}
