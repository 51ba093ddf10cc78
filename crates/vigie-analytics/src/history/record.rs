//! Splitting CSV records (RFC 4180) out of a block of bytes that starts at a record boundary.
//!
//! Hand-written rather than the `csv` crate because the report must read gigabytes at the speed
//! of the disk cache: an unquoted field is found with one `memchr3` for its delimiter (or a stray
//! quote), a quoted
//! one (the bodies, where the bytes are) with `memchr` jumps from quote to quote, and a field is
//! only ever borrowed, never copied, unless it holds a doubled quote and its value is read.
//! The tests hold it to the `csv` crate's reading of the same bytes.
//!
//! Strict as RFC 4180 (and DuckDB's strict mode): a quote may only open a field, close it, or
//! be doubled inside it; after a closing quote only a delimiter or a line end may come; a
//! quoted field must be closed. The strictness is what lets blocks be cut by quote parity
//! (see `history.rs`): with a stray quote accepted as a literal (the `csv` crate's leniency),
//! the parity would no longer tell where records end, and where a block was cut would change
//! what is read.

use std::borrow::Cow;

use memchr::{memchr, memchr3};

/// Where a field lies in its block, and whether its bytes need unquoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the value's first byte (after the opening quote, if any).
    pub start: u32,
    /// Offset just after its last byte (before the closing quote, if any).
    pub end: u32,
    /// A quoted field with doubled quotes inside: the value is the bytes with `""` → `"`.
    pub escaped: bool,
}

impl Span {
    /// The field's value: borrowed unless it must be unescaped.
    pub fn value<'a>(&self, block: &'a [u8]) -> Cow<'a, [u8]> {
        let raw = &block[self.start as usize..self.end as usize];
        if !self.escaped {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = memchr(b'"', rest) {
            out.extend_from_slice(&rest[..=i]);
            rest = rest.get(i + 2..).unwrap_or(&[]);
        }
        out.extend_from_slice(rest);
        Cow::Owned(out)
    }
}

/// Why a record could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A quoted field that starts at `at` is never closed.
    UnclosedQuote { at: usize },
    /// Something other than a delimiter or a line end right after a closing quote at `at`.
    AfterClosingQuote { at: usize },
    /// A quote at `at`, inside a field that does not start with one.
    QuoteInUnquotedField { at: usize },
}

/// Splits the record that starts at `pos` into `fields` (cleared first). Returns the offset
/// of the next record, or `None` at the end of the block. Blank lines are skipped: `fields`
/// stays empty when only blank lines are left.
pub fn split_record(block: &[u8], pos: usize, fields: &mut Vec<Span>) -> Result<Option<usize>, SplitError> {
    fields.clear();
    let mut pos = skip_blank_lines(block, pos);
    if pos == block.len() {
        return Ok(None);
    }
    loop {
        if block.get(pos) == Some(&b'"') {
            let start = pos + 1;
            let mut at = start;
            let mut escaped = false;
            let end = loop {
                match memchr(b'"', &block[at..]) {
                    None => return Err(SplitError::UnclosedQuote { at: pos }),
                    Some(i) if block.get(at + i + 1) == Some(&b'"') => {
                        escaped = true;
                        at += i + 2;
                    }
                    Some(i) => break at + i,
                }
            };
            fields.push(Span { start: offset(start), end: offset(end), escaped });
            pos = end + 1;
            match block.get(pos) {
                Some(b',') => pos += 1,
                Some(b'\n') => return Ok(Some(pos + 1)),
                Some(b'\r') if block.get(pos + 1) == Some(&b'\n') => return Ok(Some(pos + 2)),
                None => return Ok(Some(pos)),
                Some(_) => return Err(SplitError::AfterClosingQuote { at: pos }),
            }
        } else {
            match find_delimiter(&block[pos..]) {
                Some(i) if block[pos + i] == b'"' => return Err(SplitError::QuoteInUnquotedField { at: pos + i }),
                Some(i) if block[pos + i] == b',' => {
                    fields.push(Span { start: offset(pos), end: offset(pos + i), escaped: false });
                    pos += i + 1;
                }
                Some(i) => {
                    let end = pos + i;
                    let value_end = if end > pos && block[end - 1] == b'\r' { end - 1 } else { end };
                    fields.push(Span { start: offset(pos), end: offset(value_end), escaped: false });
                    return Ok(Some(end + 1));
                }
                None => {
                    let end = block.len();
                    let value_end = if end > pos && block[end - 1] == b'\r' { end - 1 } else { end };
                    fields.push(Span { start: offset(pos), end: offset(value_end), escaped: false });
                    return Ok(Some(end));
                }
            }
        }
    }
}

/// The first byte at or after `pos` that is not in a blank line (`\n` or `\r\n` alone): where
/// the next record starts, or the end of the block.
pub fn skip_blank_lines(block: &[u8], mut pos: usize) -> usize {
    loop {
        match block.get(pos) {
            Some(b'\n') => pos += 1,
            Some(b'\r') if block.get(pos + 1) == Some(&b'\n') => pos += 2,
            _ => return pos.min(block.len()),
        }
    }
}

/// The first `,`, line feed or (stray) quote: most unquoted fields are short (ids, enums,
/// timestamps), so a plain loop over their first bytes beats setting up a vector search for
/// each.
fn find_delimiter(bytes: &[u8]) -> Option<usize> {
    const SHORT: usize = 24;
    let head = &bytes[..bytes.len().min(SHORT)];
    if let Some(i) = head.iter().position(|&b| b == b',' || b == b'\n' || b == b'"') {
        return Some(i);
    }
    if bytes.len() <= SHORT {
        return None;
    }
    memchr3(b',', b'\n', b'"', &bytes[SHORT..]).map(|i| i + SHORT)
}

/// Blocks are far smaller than 4 GiB (see `BLOCK_BYTES`), so offsets fit a `u32`.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// Counts the quotes and line feeds of a slice in one pass.
///
/// Written for the vectoriser: 32 byte-wide counters, each bumped at most 255 times before
/// they are added up, so that the inner loop is a compare and a subtract per 16 or 32 bytes.
/// (A plain `filter().count()` widens every comparison to 64 bits and runs several times
/// slower; this pass reads every byte of the history.)
pub fn count_quotes_and_newlines(bytes: &[u8]) -> (u64, u64) {
    const LANES: usize = 32;
    let mut quotes = 0u64;
    let mut newlines = 0u64;
    let mut rounds = bytes.chunks_exact(LANES * 255);
    for round in &mut rounds {
        let mut q = [0u8; LANES];
        let mut n = [0u8; LANES];
        for chunk in round.chunks_exact(LANES) {
            for lane in 0..LANES {
                q[lane] += u8::from(chunk[lane] == b'"');
                n[lane] += u8::from(chunk[lane] == b'\n');
            }
        }
        quotes += q.iter().map(|&c| u64::from(c)).sum::<u64>();
        newlines += n.iter().map(|&c| u64::from(c)).sum::<u64>();
    }
    for &b in rounds.remainder() {
        quotes += u64::from(b == b'"');
        newlines += u64::from(b == b'\n');
    }
    (quotes, newlines)
}

/// The end of the last complete record of a block that starts at a record boundary: the
/// offset just after the last line feed that is outside quotes, or `None` if there is none.
///
/// Outside quotes means after an even number of quotes: a doubled quote inside a quoted field
/// adds two, so the parity of the count from a record boundary is the quoting state.
pub fn last_record_end(block: &[u8], total_quotes: u64) -> Option<usize> {
    let mut quotes_after = 0u64;
    let mut end = block.len();
    loop {
        let i = memchr::memrchr2(b'\n', b'"', &block[..end])?;
        if block[i] == b'"' {
            quotes_after += 1;
        } else if (total_quotes - quotes_after).is_multiple_of(2) {
            return Some(i + 1);
        }
        end = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(bytes: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, SplitError> {
        let mut records = Vec::new();
        let mut fields = Vec::new();
        let mut pos = 0;
        while let Some(next) = split_record(bytes, pos, &mut fields)? {
            if !fields.is_empty() {
                records.push(fields.iter().map(|f| f.value(bytes).into_owned()).collect());
            }
            pos = next;
        }
        Ok(records)
    }

    fn csv_crate(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        reader.byte_records().map(|r| r.expect("valid csv").iter().map(<[u8]>::to_vec).collect()).collect()
    }

    #[test]
    fn quoted_newlines_doubled_quotes_and_crlf() {
        let bytes = b"a,\"b\r\nc\",\"say \"\"hi\"\"\"\r\n\r\nx,,\"\"\nlast,\"q\"";
        let records = split_all(bytes).expect("valid");
        assert_eq!(
            records,
            vec![
                vec![b"a".to_vec(), b"b\r\nc".to_vec(), b"say \"hi\"".to_vec()],
                vec![b"x".to_vec(), b"".to_vec(), b"".to_vec()],
                vec![b"last".to_vec(), b"q".to_vec()],
            ]
        );
        assert_eq!(records, csv_crate(bytes));
    }

    #[test]
    fn broken_quoting_is_an_error_not_a_guess() {
        assert_eq!(split_all(b"a,\"open\nnever closed"), Err(SplitError::UnclosedQuote { at: 2 }));
        assert_eq!(split_all(b"a,\"x\"y,b\n"), Err(SplitError::AfterClosingQuote { at: 5 }));
        // A quote inside an unquoted field is refused (the csv crate would take it literally).
        assert_eq!(split_all(b"a,b\"c\n"), Err(SplitError::QuoteInUnquotedField { at: 3 }));
    }

    #[test]
    fn the_last_record_end_skips_line_feeds_inside_quotes() {
        let block = b"a,\"x\ny\"\nb,\"open\nstill";
        let (quotes, _) = count_quotes_and_newlines(block);
        assert_eq!(last_record_end(block, quotes), Some(8));
        assert_eq!(last_record_end(b"no line end", 0), None);
    }

    proptest::proptest! {
        /// Any table of strings, written by the csv crate (quoting as it needs), reads back the
        /// same: quotes, commas, CR and LF inside values included.
        #[test]
        fn reads_back_what_the_csv_crate_writes(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z\",\r\n é]{0,6}", 1..5), 0..20),
            crlf in proptest::bool::ANY,
        ) {
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).expect("write");
            }
            let bytes = writer.into_inner().expect("flush");
            let expected = csv_crate(&bytes);
            proptest::prop_assert_eq!(split_all(&bytes).expect("valid"), expected);
            // and the block cut never lands inside a quoted field
            let (quotes, _) = count_quotes_and_newlines(&bytes);
            if let Some(end) = last_record_end(&bytes, quotes) {
                proptest::prop_assert_eq!(split_all(&bytes[..end]).expect("whole records"), csv_crate(&bytes[..end]));
            }
        }
    }
}
