//! The duplicate check of a new ticket against a million open ones: what intake adds to a
//! create (normalise, fingerprint, walk the buckets, estimate), and the index's memory.
//!
//!   cargo bench -p vigie-dedup --bench intake
//!   VIGIE_BENCH_TICKETS=path/to/tickets.csv cargo bench -p vigie-dedup --bench intake
//!
//! The tickets are `bench/dedup.sh`'s 1M file by default (`target/bench-dedup-data/t1000000`,
//! made by that script). All but the last 10,000 are held as open tickets; the last 10,000
//! (their re-sends and burst reports among them) are then checked one at a time.

use std::time::Instant;

use hdrhistogram::Histogram;
use vigie_analytics::history::{self, Column, ReadOptions};
use vigie_dedup::{Fingerprint, Lsh, SimilarIndex, normalize};

const CHECKED: usize = 10_000;

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let path = std::env::var("VIGIE_BENCH_TICKETS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-dedup-data/t1000000/tickets.csv").into()
    });
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("error: cannot open {path}: run bench/dedup.sh first, or set VIGIE_BENCH_TICKETS");
        std::process::exit(1);
    };
    let mut texts: Vec<(String, String)> = Vec::new();
    let read = history::for_each_row(file, &path, ReadOptions::default(), |row, _| {
        texts.push((row.text_lossy(Column::Subject).into_owned(), row.text_lossy(Column::Body).into_owned()));
        Ok(Ok::<(), ()>(()))
    });
    if let Err(error) = read {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    let held = texts.len().saturating_sub(CHECKED);
    let lsh = Lsh::DEFAULT;
    let before = resident_kib();
    let started = Instant::now();
    let mut index = SimilarIndex::new(lsh);
    for (i, (subject, body)) in texts[..held].iter().enumerate() {
        if let Some(print) = Fingerprint::of(lsh, normalize(subject, body).as_bytes()) {
            index.insert(i as u32, &print);
        }
    }
    let built = started.elapsed();
    let memory = resident_kib().saturating_sub(before);
    println!(
        "held {} open tickets in {:.1} s, {:.0} bytes each (resident memory growth)",
        index.len(),
        built.as_secs_f64(),
        memory as f64 * 1024.0 / index.len().max(1) as f64
    );
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let mut with_candidates = 0;
    for (subject, body) in &texts[held..] {
        let started = Instant::now();
        let found = Fingerprint::of(lsh, normalize(subject, body).as_bytes())
            .map(|print| index.candidates(&print, 0.55, 10))
            .unwrap_or_default();
        latency.record(started.elapsed().as_nanos() as u64).expect("record");
        with_candidates += usize::from(!found.is_empty());
    }
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1e6;
    println!(
        "checked {} new tickets ({} with likely duplicates): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (bar: a create's p99 under 5 ms)",
        latency.len(),
        with_candidates,
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1e6
    );
}
