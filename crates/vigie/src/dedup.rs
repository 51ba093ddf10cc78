//! `vigie dedup`: the near-duplicate tickets of an exported history (tickets.csv), as pairs
//! with their similarity (CSV, `id_a,id_b,score`) or as pairs and groups (JSON).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use vigie_analytics::history::{self, Column, ReadOptions};
use vigie_dedup::{DEFAULT_THRESHOLD, Search, Texts, Vocabulary, components, normalize, similar_pairs};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `id_a,id_b,score`, one similar pair a line (id_a < id_b), ordered by id_a then id_b.
    Csv,
    /// The pairs and the groups they link (each with its tickets and a name from its words).
    Json,
}

#[derive(Args)]
pub struct DedupArgs {
    /// The ticket history (tickets.csv, shared/FORMATS.md); its id, subject and body are read.
    tickets: PathBuf,
    /// The least similarity of a pair: the Jaccard similarity of the character 5-grams of the
    /// normalised subjects and bodies, in (0, 1].
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

pub fn run(args: DedupArgs) -> anyhow::Result<()> {
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        bail!("--threshold: {} is not in (0, 1]: it is the least Jaccard similarity of a pair", args.threshold);
    }
    let started = Instant::now();
    let name = args.tickets.display().to_string();
    let file = File::open(&args.tickets).with_context(|| format!("cannot open {name}"))?;
    let (states, summary) = history::fold_rows(
        file,
        &name,
        ReadOptions { threads: args.threads, ..ReadOptions::default() },
        &|_| {},
        || (Vec::<String>::new(), Texts::default()),
        |(ids, texts), row| {
            let id = row.required(Column::Id)?;
            // Free text is compared as text: bytes that are not UTF-8 count as one odd
            // character rather than stopping the run.
            texts.push(&normalize(&row.text_lossy(Column::Subject), &row.text_lossy(Column::Body)));
            ids.push(id.into_owned());
            Ok(())
        },
    )?;
    let mut read_ids = Vec::with_capacity(summary.records as usize);
    let mut read_texts = Texts::default();
    for (part_ids, part_texts) in states {
        read_ids.extend(part_ids);
        read_texts.append(part_texts);
    }
    // The threads read the file in no fixed order: in the order of the ids, every output
    // (the groups' names too) is the same from run to run.
    let mut order: Vec<usize> = (0..read_ids.len()).collect();
    order.sort_unstable_by(|&x, &y| read_ids[x].cmp(&read_ids[y]));
    let mut texts = Texts::default();
    for &i in &order {
        texts.push_bytes(read_texts.get(i));
    }
    drop(read_texts);
    let ids: Vec<String> = order.into_iter().map(|i| std::mem::take(&mut read_ids[i])).collect();
    let read = started.elapsed();
    let search = Search { threshold: args.threshold, threads: args.threads, ..Search::default() };
    let (pairs, stats) = similar_pairs(&texts, search);
    let searched = started.elapsed() - read;

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(File::create(path).with_context(|| format!("cannot write {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, &mut out);
    // Each pair by ids, the smaller first, in id order: the output does not depend on the
    // threads that read the file.
    let mut named: Vec<(&str, &str, f64)> = pairs
        .iter()
        .map(|p| {
            let (a, b) = (ids[p.a as usize].as_str(), ids[p.b as usize].as_str());
            if a <= b { (a, b, p.score) } else { (b, a, p.score) }
        })
        .collect();
    named.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    match args.format {
        Format::Csv => {
            writeln!(out, "id_a,id_b,score")?;
            for (a, b, score) in &named {
                writeln!(out, "{},{},{score:.3}", csv_field(a), csv_field(b))?;
            }
        }
        Format::Json => {
            let groups = components(texts.len(), &pairs);
            // The vocabulary of a sample of the tickets is enough to tell rare words.
            let mut vocabulary = Vocabulary::default();
            for i in (0..texts.len()).step_by((texts.len() / 20_000).max(1)) {
                vocabulary.add(texts.get(i));
            }
            let mut groups: Vec<GroupOut<'_>> = groups
                .iter()
                .map(|members| {
                    let mut tickets: Vec<&str> = members.iter().map(|&m| ids[m as usize].as_str()).collect();
                    tickets.sort_unstable();
                    let texts: Vec<&[u8]> = members.iter().map(|&m| texts.get(m as usize)).collect();
                    GroupOut { name: vocabulary.name(&texts, 4), size: tickets.len(), tickets }
                })
                .collect();
            groups.sort_by(|x, y| y.size.cmp(&x.size).then_with(|| x.tickets.first().cmp(&y.tickets.first())));
            // Written as it is serialised: millions of pairs are never held as JSON values.
            let document =
                Document { groups, pairs: PairsOut(&named), threshold: args.threshold, tickets: texts.len() };
            serde_json::to_writer(&mut out, &document)?;
            writeln!(out)?;
        }
    }
    out.flush().context("cannot write the pairs")?;
    drop(out);
    say!(
        "dedup: {} tickets, {} candidate pairs, {} scored, {} pairs >= {}; read {:.2} s, search {:.2} s, total {:.2} s",
        stats.texts,
        stats.candidates,
        stats.scored,
        stats.pairs,
        args.threshold,
        read.as_secs_f64(),
        searched.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// An id as a CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\"")).into()
    } else {
        value.into()
    }
}

// The JSON document, its fields in the order serde_json's maps have always written them
// (alphabetical), so the output is unchanged byte for byte.
#[derive(serde::Serialize)]
struct Document<'a> {
    groups: Vec<GroupOut<'a>>,
    pairs: PairsOut<'a>,
    threshold: f64,
    tickets: usize,
}

#[derive(serde::Serialize)]
struct GroupOut<'a> {
    name: String,
    size: usize,
    tickets: Vec<&'a str>,
}

#[derive(serde::Serialize)]
struct PairOut<'a> {
    id_a: &'a str,
    id_b: &'a str,
    score: f64,
}

/// The pairs, serialised one after the other.
struct PairsOut<'a>(&'a [(&'a str, &'a str, f64)]);

impl serde::Serialize for PairsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &(id_a, id_b, score) in self.0 {
            seq.serialize_element(&PairOut { id_a, id_b, score: (score * 1000.0).round() / 1000.0 })?;
        }
        seq.end()
    }
}
