//! Reading an exported ticket history (`tickets.csv`, FORMATS.md) as a stream of blocks.
//!
//! The file is read in blocks of whole records ([`BLOCK_BYTES`] and a little more), so memory
//! stays flat whatever the size of the file. A block ends after the last line feed that is
//! outside quotes: the quoting state at any byte is the parity of the quotes before it, counted
//! from a record boundary, so blocks can be cut without parsing them, and parsed in parallel
//! ([`fold_rows`]) or in order ([`for_each_row`]).
//!
//! Every problem names the file, the line (of the field, in a record that spans several lines),
//! the column and the reason. By default the first bad record stops the reading; with
//! `skip_invalid` bad records are counted and skipped, and the first few are kept for the
//! message. A quote that is never closed stops the reading in both modes: nothing after it can
//! be told apart.

mod fields;
mod record;

use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

pub(crate) use fields::problem;
pub use fields::{Column, FieldProblem, Header, INSTANTS, Row, RowFacts, parse_timestamp};
pub use record::{Span, SplitError, skip_blank_lines, split_record};

use record::{count_quotes_and_newlines, last_record_end};

/// The size a block is read to before it is cut after its last whole record.
pub const BLOCK_BYTES: usize = 8 << 20;
/// No record is longer: past this, a block with no record end is an unclosed quote, an error
/// (and the buffers stay small).
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// How many skipped records are described in full.
pub const SKIPPED_SHOWN: usize = 5;

/// How to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip bad records (counted, the first few described) instead of stopping at the first.
    pub skip_invalid: bool,
    /// Parsing threads for [`fold_rows`]; 0: one per core.
    pub threads: usize,
    /// The size blocks are read to; 0: [`BLOCK_BYTES`]. Small sizes test the cutting.
    pub block_bytes: usize,
}

/// A bad record: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based physical line.
    pub line: u64,
    /// 1-based position and name of the column, when one is to blame.
    pub column: Option<(usize, String)>,
    /// The value found, shortened.
    pub value: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some((position, name)) = &self.column {
            write!(f, "column {position} ({name}): ")?;
        }
        match &self.value {
            Some(value) => write!(f, "{:?} {}", value, self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: the file is empty (a history starts with a header row: {})", expected_header())]
    Empty { file: String },
    #[error("{file}:1: {reason}")]
    Header { file: String, reason: String },
    #[error("{0}")]
    Row(RowError),
}

fn expected_header() -> String {
    Column::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(",")
}

/// What a reading went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Data records read (skipped ones included).
    pub records: u64,
    pub skipped: u64,
    /// The first few skipped records, in file order.
    pub first_skipped: Vec<RowError>,
    pub bytes: u64,
}

/// A run of whole records.
struct Block {
    /// Its rank in the file, from 0.
    index: u64,
    bytes: Vec<u8>,
    /// Bytes of `bytes` that hold data.
    len: usize,
    /// Where the first record starts (after the header, in the first block).
    start: usize,
    /// The line number at `start`.
    first_line: u64,
}

/// Cuts a byte stream into blocks of whole records.
struct BlockReader<R> {
    source: R,
    file: String,
    block_bytes: usize,
    carry: Vec<u8>,
    next_line: u64,
    eof: bool,
    bytes_read: u64,
    blocks: u64,
}

impl<R: Read> BlockReader<R> {
    fn new(source: R, file: &str, block_bytes: usize) -> Self {
        let block_bytes = if block_bytes == 0 { BLOCK_BYTES } else { block_bytes };
        BlockReader {
            source,
            file: file.to_owned(),
            block_bytes,
            carry: Vec::new(),
            next_line: 1,
            eof: false,
            bytes_read: 0,
            blocks: 0,
        }
    }

    fn next_index(&mut self) -> u64 {
        self.blocks += 1;
        self.blocks - 1
    }

    /// The next block, read into `bytes` (a recycled buffer); `None` at the end.
    fn next_block(&mut self, mut bytes: Vec<u8>) -> Result<Option<Block>, HistoryError> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let target = self.block_bytes.max(self.carry.len() * 2);
        if bytes.len() < target {
            bytes.resize(target, 0);
        }
        bytes[..self.carry.len()].copy_from_slice(&self.carry);
        let mut filled = self.carry.len();
        self.carry.clear();
        loop {
            while filled < bytes.len() && !self.eof {
                match self.source.read(&mut bytes[filled..]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        filled += n;
                        self.bytes_read += n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(source) => return Err(HistoryError::Io { file: self.file.clone(), source }),
                }
            }
            let (quotes, newlines) = count_quotes_and_newlines(&bytes[..filled]);
            let end = if self.eof { Some(filled) } else { last_record_end(&bytes[..filled], quotes) };
            match end {
                Some(end) => {
                    let (_, tail_newlines) = count_quotes_and_newlines(&bytes[end..filled]);
                    self.carry.extend_from_slice(&bytes[end..filled]);
                    let first_line = self.next_line;
                    self.next_line += newlines - tail_newlines;
                    if end == 0 {
                        return Ok(None);
                    }
                    return Ok(Some(Block { index: self.next_index(), bytes, len: end, start: 0, first_line }));
                }
                // No record ends in so many bytes: a quote never closed (or a stray one) has
                // swallowed the rest; nothing after it can be told apart.
                None if filled >= MAX_RECORD_BYTES => {
                    return Err(HistoryError::Row(RowError {
                        file: self.file.clone(),
                        line: self.next_line,
                        column: None,
                        value: None,
                        reason: format!(
                            "no record ends in the {} MiB from this line: a quote opened here or after is never closed",
                            MAX_RECORD_BYTES >> 20
                        ),
                    }));
                }
                None => bytes.resize(bytes.len() * 2, 0),
            }
        }
    }
}

/// The line of byte `at` of a block.
fn line_at(block: &Block, at: usize) -> u64 {
    let at = at.min(block.len).max(block.start);
    block.first_line + count_quotes_and_newlines(&block.bytes[block.start..at]).1
}

/// Reads the header from the first block (skipping a UTF-8 byte order mark).
fn read_header<R: Read>(blocks: &mut BlockReader<R>, file: &str) -> Result<(Header, Option<Block>), HistoryError> {
    let Some(mut block) = blocks.next_block(Vec::new())? else {
        return Err(HistoryError::Empty { file: file.to_owned() });
    };
    if block.bytes[..block.len].starts_with(b"\xEF\xBB\xBF") {
        block.start = 3;
    }
    let mut spans = Vec::new();
    let data = &block.bytes[..block.len];
    let next = split_record(data, block.start, &mut spans)
        .map_err(|e| HistoryError::Header { file: file.to_owned(), reason: split_reason(e).to_owned() })?;
    if spans.is_empty() {
        return Err(HistoryError::Empty { file: file.to_owned() });
    }
    let mut names = Vec::with_capacity(spans.len());
    for span in &spans {
        let name = String::from_utf8(span.value(data).into_owned()).map_err(|_| HistoryError::Header {
            file: file.to_owned(),
            reason: "the header is not valid UTF-8".to_owned(),
        })?;
        names.push(name);
    }
    let header = Header::parse(names).map_err(|reason| HistoryError::Header { file: file.to_owned(), reason })?;
    let header_lines = count_quotes_and_newlines(&data[block.start..next.unwrap_or(block.len)]).1;
    block.first_line += header_lines;
    block.start = next.unwrap_or(block.len);
    let block = (block.start < block.len).then_some(block);
    Ok((header, block))
}

fn split_reason(error: SplitError) -> &'static str {
    match error {
        SplitError::UnclosedQuote { .. } => "a quoted field is never closed (a missing `\"`?)",
        SplitError::QuoteInUnquotedField { .. } => {
            "a quote inside a field that does not start with one (a field holding quotes must be quoted, each inner quote doubled: `\"a \"\"b\"\"\"`)"
        }
        SplitError::AfterClosingQuote { .. } => {
            "a closing quote is followed by something other than `,` or a line end (a quote inside a quoted field must be doubled: `\"\"`)"
        }
    }
}

/// The outcome of parsing one block.
#[derive(Default)]
struct BlockOutcome {
    records: u64,
    skipped: u64,
    first_skipped: Vec<RowError>,
    /// The error that stops the reading.
    fatal: Option<RowError>,
}

/// A problem found in a record, before its line is counted (counting is only done for the
/// problems that are told: the fatal one and the first few skipped).
struct Found {
    /// Where in the block: the line is counted up to there.
    at: usize,
    column: Option<(usize, String)>,
    value: Option<String>,
    reason: String,
}

impl Found {
    fn told(self, block: &Block, file: &str) -> RowError {
        RowError {
            file: file.to_owned(),
            line: line_at(block, self.at),
            column: self.column,
            value: self.value,
            reason: self.reason,
        }
    }
}

/// Parses the records of a block, calling `each` on every good one.
fn parse_block<E>(
    block: &Block,
    header: &Header,
    file: &str,
    skip_invalid: bool,
    fields: &mut Vec<Span>,
    mut each: E,
) -> BlockOutcome
where
    E: FnMut(&Row<'_>) -> Result<(), FieldProblem>,
{
    let data = &block.bytes[..block.len];
    let mut outcome = BlockOutcome::default();
    let mut pos = block.start;
    loop {
        // Where the record really starts (after blank lines): the line of a message, and the
        // point a malformed record is skipped from.
        let record_start = skip_blank_lines(data, pos);
        let (next, found) = match split_record(data, record_start, fields) {
            Ok(None) => break,
            Ok(Some(next)) if fields.len() != header.width => {
                let reason = format!(
                    "has {} field(s) where the header has {} (a missing quote around a value with a comma?)",
                    fields.len(),
                    header.width
                );
                (next, Some(Found { at: record_start, column: None, value: None, reason }))
            }
            Ok(Some(next)) => {
                let row = Row { header, block: data, fields };
                let found = each(&row).err().map(|p| match header.position(p.column) {
                    Some(position) => Found {
                        at: fields.get(position).map_or(record_start, |s| s.start as usize),
                        column: Some((position + 1, p.column.name().to_owned())),
                        value: Some(p.value),
                        reason: p.reason,
                    },
                    None => Found {
                        at: record_start,
                        column: None,
                        value: None,
                        reason: format!("the header has no `{}` column: {}", p.column.name(), p.reason),
                    },
                });
                (next, found)
            }
            Err(error) => {
                let at = match error {
                    SplitError::UnclosedQuote { at }
                    | SplitError::AfterClosingQuote { at }
                    | SplitError::QuoteInUnquotedField { at } => at,
                };
                let found = Found { at, column: None, value: None, reason: split_reason(error).to_owned() };
                // A malformed record can be skipped only if its end can be told: a line feed
                // after an even number of its quotes, or the end of the block with an even number.
                let end = match error {
                    SplitError::UnclosedQuote { .. } => None,
                    _ if !skip_invalid => None,
                    _ => record_end_after_malformed(data, record_start),
                };
                match end {
                    Some(next) => (next, Some(found)),
                    None => {
                        outcome.records += 1;
                        let mut fatal = found.told(block, file);
                        if skip_invalid && !matches!(error, SplitError::UnclosedQuote { .. }) {
                            fatal.reason.push_str(
                                "; its quotes never balance, so where it ends cannot be told and nothing after it can be read",
                            );
                        }
                        outcome.fatal = Some(fatal);
                        return outcome;
                    }
                }
            }
        };
        outcome.records += 1;
        if let Some(found) = found {
            if !skip_invalid {
                outcome.fatal = Some(found.told(block, file));
                return outcome;
            }
            outcome.skipped += 1;
            if outcome.first_skipped.len() < SKIPPED_SHOWN {
                outcome.first_skipped.push(found.told(block, file));
            }
        }
        pos = next;
    }
    outcome
}

/// After a malformed record: the start of the next one (after the next line feed outside
/// quotes, counted from the record's start), or the end of the block if the record's quotes
/// balance there; `None` when they never do.
fn record_end_after_malformed(data: &[u8], record_start: usize) -> Option<usize> {
    let mut inside = false;
    let mut at = record_start;
    while let Some(i) = memchr::memchr2(b'"', b'\n', &data[at..]) {
        at += i;
        if data[at] == b'"' {
            inside = !inside;
        } else if !inside {
            return Some(at + 1);
        }
        at += 1;
    }
    (!inside).then_some(data.len())
}

/// On a panicking worker's way out: drops the blocks' receiver (see `fold_rows`).
struct DropReceiverOnPanic<'a>(&'a Mutex<Option<mpsc::Receiver<Block>>>);

impl Drop for DropReceiverOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut receiver = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            receiver.take();
        }
    }
}

/// Reads a history in parallel: each thread folds the records it parses into its own state
/// (made by `init`), and the states are returned for the caller to merge. The order in which
/// records reach a state is not the file's.
pub fn fold_rows<R, S, I, E>(
    source: R,
    file: &str,
    options: ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    init: I,
    each: E,
) -> Result<(Vec<S>, ReadSummary), HistoryError>
where
    R: Read,
    S: Send,
    I: Fn() -> S + Sync,
    E: Fn(&mut S, &Row<'_>) -> Result<(), FieldProblem> + Sync,
{
    let mut blocks = BlockReader::new(source, file, options.block_bytes);
    let (header, first) = read_header(&mut blocks, file)?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // The rank of the first block found with a fatal error (u64::MAX: none yet). Blocks after it
    // are drained unparsed (so the reader is never left blocked on a full channel); blocks
    // before it are parsed in full, since one may hold an earlier error.
    let fatal_block = AtomicU64::new(u64::MAX);
    let (to_workers, from_reader) = mpsc::sync_channel::<Block>(threads * 2);
    // A worker that panics takes the receiver out, so that the reader's next send fails instead
    // of waiting for ever on a full channel no one drains (see `DropReceiverOnPanic`).
    let from_reader = Mutex::new(Some(from_reader));
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();

    let (outcomes, read_error) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let recycle = recycle.clone();
                let (from_reader, header, fatal_block, init, each) =
                    (&from_reader, &header, &fatal_block, &init, &each);
                scope.spawn(move || {
                    let _guard = DropReceiverOnPanic(from_reader);
                    let mut state = init();
                    let mut total = BlockOutcome::default();
                    let mut fields = Vec::new();
                    loop {
                        let received = from_reader.lock().map(|receiver| receiver.as_ref().map(|r| r.recv()));
                        let Ok(Some(Ok(block))) = received else { break };
                        if block.index > fatal_block.load(Ordering::Relaxed) {
                            let _ = recycle.send(block.bytes);
                            continue;
                        }
                        let outcome = parse_block(&block, header, file, options.skip_invalid, &mut fields, |row| {
                            each(&mut state, row)
                        });
                        total.records += outcome.records;
                        total.skipped += outcome.skipped;
                        total.first_skipped.extend(outcome.first_skipped);
                        if let Some(fatal) = outcome.fatal {
                            fatal_block.fetch_min(block.index, Ordering::Relaxed);
                            total.fatal = Some(fatal);
                        }
                        // The reader may be gone already; the buffer is then simply dropped.
                        let _ = recycle.send(block.bytes);
                    }
                    (state, total)
                })
            })
            .collect();
        drop(recycle);

        let mut read_error = None;
        let mut next = first;
        loop {
            let block = match next.take() {
                Some(block) => block,
                None => match blocks.next_block(recycled.try_recv().unwrap_or_default()) {
                    Ok(Some(block)) => block,
                    Ok(None) => break,
                    Err(error) => {
                        read_error = Some(error);
                        break;
                    }
                },
            };
            progress(blocks.bytes_read);
            if fatal_block.load(Ordering::Relaxed) != u64::MAX || to_workers.send(block).is_err() {
                break;
            }
        }
        drop(to_workers);
        let outcomes: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        (outcomes, read_error)
    });
    if let Some(error) = read_error {
        return Err(error);
    }

    let mut states = Vec::with_capacity(outcomes.len());
    let mut summary = ReadSummary { bytes: blocks.bytes_read, ..ReadSummary::default() };
    let mut fatal: Option<RowError> = None;
    for outcome in outcomes {
        let (state, total) = outcome.map_err(|_| HistoryError::Io {
            file: file.to_owned(),
            source: std::io::Error::other("a parsing thread panicked"),
        })?;
        states.push(state);
        summary.records += total.records;
        summary.skipped += total.skipped;
        summary.first_skipped.extend(total.first_skipped);
        if let Some(error) = total.fatal
            && fatal.as_ref().is_none_or(|f| error.line < f.line)
        {
            fatal = Some(error);
        }
    }
    if let Some(error) = fatal {
        return Err(HistoryError::Row(error));
    }
    summary.first_skipped.sort_by_key(|e| e.line);
    summary.first_skipped.truncate(SKIPPED_SHOWN);
    Ok((states, summary))
}

/// Reads a history in file order on the calling thread, calling `each` with every good record
/// and the bytes read so far (for a progress bar); `each` may stop the reading with an error of
/// its own.
pub fn for_each_row<R, E, X>(
    source: R,
    file: &str,
    options: ReadOptions,
    mut each: E,
) -> Result<Result<ReadSummary, X>, HistoryError>
where
    R: Read,
    E: FnMut(&Row<'_>, u64) -> Result<Result<(), X>, FieldProblem>,
{
    let mut blocks = BlockReader::new(source, file, options.block_bytes);
    let (header, first) = read_header(&mut blocks, file)?;
    let mut summary = ReadSummary::default();
    let mut fields = Vec::new();
    let mut next = first;
    let mut own_error = None;
    let mut spare = Vec::new();
    loop {
        let block = match next.take() {
            Some(block) => block,
            None => match blocks.next_block(std::mem::take(&mut spare))? {
                Some(block) => block,
                None => break,
            },
        };
        let outcome = parse_block(&block, &header, file, options.skip_invalid, &mut fields, |row| {
            if own_error.is_some() {
                return Ok(());
            }
            match each(row, blocks.bytes_read)? {
                Ok(()) => Ok(()),
                Err(error) => {
                    own_error = Some(error);
                    Ok(())
                }
            }
        });
        summary.records += outcome.records;
        summary.skipped += outcome.skipped;
        summary.first_skipped.extend(outcome.first_skipped);
        if let Some(fatal) = outcome.fatal {
            return Err(HistoryError::Row(fatal));
        }
        if let Some(error) = own_error {
            return Ok(Err(error));
        }
        spare = block.bytes;
    }
    summary.bytes = blocks.bytes_read;
    summary.first_skipped.truncate(SKIPPED_SHOWN);
    Ok(Ok(summary))
}
