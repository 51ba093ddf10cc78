//! An arrivals series (`interval_start,count`, `shared/FORMATS.md`): read, with every problem
//! named by its line. Duplicated or unordered intervals are errors; gaps are reported as
//! warnings (the missing intervals had no arrivals, or the export missed them: the caller says).

use jiff::{SignedDuration, Timestamp};

/// One interval: its start as written (echoed in outputs) and as an instant, and its count.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub start_text: String,
    pub start: Timestamp,
    pub count: u64,
}

/// Why a series is refused.
#[derive(Debug, thiserror::Error)]
pub enum ArrivalsError {
    #[error("{name}: {source}")]
    Csv { name: String, source: csv::Error },
    #[error("{name}: {source}")]
    Io { name: String, source: std::io::Error },
    #[error("{name}: the header must have the columns interval_start and count (found: {found})")]
    Header { name: String, found: String },
    #[error("{name}:{line}: {reason}")]
    Row { name: String, line: u64, reason: String },
}

/// A gap between two intervals, at `line`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub line: u64,
    pub after: Timestamp,
    pub next: Timestamp,
}

/// Reads a series whose intervals are `interval` long; `name` names it in messages.
pub fn read(
    name: &str,
    input: impl std::io::Read,
    interval: SignedDuration,
) -> Result<(Vec<Interval>, Vec<Gap>), ArrivalsError> {
    let mut intervals = Vec::new();
    let gaps = read_each(name, input, interval, |start_text, start, count| {
        intervals.push(Interval { start_text: start_text.to_owned(), start, count });
        Ok::<(), ArrivalsError>(())
    })?;
    Ok((intervals, gaps))
}

/// Reads a series and hands each interval to `each` (its start as written and as an instant,
/// its count) as it comes: a year of half hours streams through `each` without being gathered.
///
/// A file without quotes (what every tool writes for two plain columns) is split by lines and
/// commas directly; anything else goes through the csv crate. Both give the same rows and the
/// same line numbers.
pub fn read_each<E: From<ArrivalsError>>(
    name: &str,
    mut input: impl std::io::Read,
    interval: SignedDuration,
    each: impl FnMut(&str, Timestamp, u64) -> Result<(), E>,
) -> Result<Vec<Gap>, E> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|source| E::from(ArrivalsError::Io { name: name.to_owned(), source }))?;
    let mut rows = Rows { name, interval, each, previous: None, gaps: Vec::new(), steps: 0 };
    let plain = if memchr_quote(&bytes) { None } else { std::str::from_utf8(&bytes).ok() };
    match plain {
        Some(text) => read_plain(name, text, &mut rows)?,
        None => read_quoted(name, &bytes, &mut rows)?,
    }
    // Rows that are never one interval apart: the series is of another interval (a daily file
    // read as hours), not a run of gaps.
    if rows.steps > 0
        && rows.steps == rows.gaps.len()
        && let Some(first) = rows.gaps.first()
    {
        return Err(E::from(ArrivalsError::Row {
            name: name.to_owned(),
            line: first.line,
            reason: format!(
                "no two rows are one interval ({} min) apart (the first two are {} min): give the series' interval \
                 (--freq or --interval-minutes)",
                interval.as_mins(),
                first.next.duration_since(first.after).as_mins()
            ),
        }));
    }
    Ok(rows.gaps)
}

fn memchr_quote(bytes: &[u8]) -> bool {
    bytes.contains(&b'"')
}

/// The columns of the header, or the error naming what was found.
fn columns<'h>(name: &str, headers: impl Iterator<Item = &'h str> + Clone) -> Result<(usize, usize), ArrivalsError> {
    let column = |wanted: &str| headers.clone().position(|h| h.trim_start_matches('\u{feff}').trim() == wanted);
    match (column("interval_start"), column("count")) {
        (Some(start), Some(count)) => Ok((start, count)),
        _ => Err(ArrivalsError::Header { name: name.to_owned(), found: headers.collect::<Vec<_>>().join(",") }),
    }
}

/// Splits a quote-free text by lines and commas.
fn read_plain<E: From<ArrivalsError>, F: FnMut(&str, Timestamp, u64) -> Result<(), E>>(
    name: &str,
    text: &str,
    rows: &mut Rows<'_, F>,
) -> Result<(), E> {
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)));
    let Some((_, header)) = lines.find(|(_, l)| !l.is_empty()) else {
        return Err(E::from(ArrivalsError::Header { name: name.to_owned(), found: String::new() }));
    };
    let width = header.split(',').count();
    let (start_at, count_at) = columns(name, header.split(',')).map_err(E::from)?;
    for (line, text) in lines {
        if text.is_empty() {
            continue;
        }
        let fields = text.split(',');
        let found = fields.clone().count();
        if found != width {
            return Err(E::from(ArrivalsError::Row {
                name: name.to_owned(),
                line,
                reason: format!("{found} fields where the header has {width}"),
            }));
        }
        let field = |at: usize| fields.clone().nth(at).unwrap_or_default();
        rows.row(line, field(start_at), field(count_at))?;
    }
    Ok(())
}

/// Reads through the csv crate (quoted fields, other encodings refused with its message).
fn read_quoted<E: From<ArrivalsError>, F: FnMut(&str, Timestamp, u64) -> Result<(), E>>(
    name: &str,
    bytes: &[u8],
    rows: &mut Rows<'_, F>,
) -> Result<(), E> {
    let csv_error = |source| E::from(ArrivalsError::Csv { name: name.to_owned(), source });
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let (start_at, count_at) = columns(name, headers.iter()).map_err(E::from)?;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        rows.row(line, record.get(start_at).unwrap_or_default(), record.get(count_at).unwrap_or_default())?;
    }
    Ok(())
}

/// The checks of a row against the one before it, and the hand-over to the caller.
struct Rows<'n, F> {
    name: &'n str,
    interval: SignedDuration,
    each: F,
    previous: Option<(Timestamp, String)>,
    gaps: Vec<Gap>,
    /// Steps between consecutive rows so far.
    steps: usize,
}

impl<F> Rows<'_, F> {
    fn row<E: From<ArrivalsError>>(&mut self, line: u64, start_text: &str, count_text: &str) -> Result<(), E>
    where
        F: FnMut(&str, Timestamp, u64) -> Result<(), E>,
    {
        let (name, interval) = (self.name, self.interval);
        let row = |reason: String| E::from(ArrivalsError::Row { name: name.to_owned(), line, reason });
        let start_text = start_text.trim();
        let start = match utc_seconds(start_text) {
            Some(start) => start,
            None => start_text
                .parse()
                .map_err(|_| row(format!("interval_start `{start_text}` is not an RFC 3339 instant")))?,
        };
        let count_text = count_text.trim();
        let count: u64 =
            count_text.parse().map_err(|_| row(format!("count `{count_text}` must be a whole number, 0 or more")))?;
        if let Some((previous, previous_text)) = &self.previous {
            if start == *previous {
                return Err(row(format!("interval {start_text} is listed twice")));
            }
            if start < *previous {
                return Err(row(format!("interval {start_text} comes before the one above it ({previous_text})")));
            }
            let step = start.duration_since(*previous);
            self.steps += 1;
            if step != interval {
                if step.as_secs() % interval.as_secs().max(1) != 0 {
                    return Err(row(format!(
                        "interval {start_text} is not a whole number of {} minutes after {previous_text}",
                        interval.as_mins(),
                    )));
                }
                // The first two steps alike and longer than the interval: the series is of
                // another interval, not full of gaps (a daily file read as hours).
                if let [only] = &self.gaps[..]
                    && only.line + 1 == line
                    && only.next.duration_since(only.after) == step
                    && line <= 4
                {
                    return Err(row(format!(
                        "the rows are {} minutes apart, not {}: give the series' interval (--freq or --interval-minutes)",
                        step.as_mins(),
                        interval.as_mins()
                    )));
                }
                self.gaps.push(Gap { line, after: *previous, next: start });
            }
        }
        (self.each)(start_text, start, count)?;
        match &mut self.previous {
            Some((at, text)) => {
                *at = start;
                text.clear();
                text.push_str(start_text);
            }
            None => self.previous = Some((start, start_text.to_owned())),
        }
        Ok(())
    }
}

/// The common spelling `YYYY-MM-DDTHH:MM:SSZ`, read without the general RFC 3339 parser (a
/// year of half hours is 17,520 of them); anything else, or anything out of range, is `None`
/// and goes to jiff.
fn utc_seconds(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), then seconds.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Timestamp::from_second(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half_hour() -> SignedDuration {
        SignedDuration::from_mins(30)
    }

    proptest::proptest! {
        /// The fast path reads every instant as jiff does (years 1970 to 2199).
        #[test]
        fn the_fast_path_agrees_with_jiff(seconds in 0i64..7_258_118_400) {
            let at = Timestamp::from_second(seconds).expect("in range");
            let text = at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            proptest::prop_assert_eq!(utc_seconds(&text), Some(at));
        }
    }

    #[test]
    fn the_fast_path_leaves_the_odd_spellings_to_jiff() {
        for odd in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00+01:00",
            "2025-01-01 00:00:00Z",
        ] {
            assert_eq!(utc_seconds(odd), None, "{odd}");
        }
        assert_eq!(utc_seconds("2024-02-29T23:59:59Z"), "2024-02-29T23:59:59Z".parse().ok());
    }

    #[test]
    fn a_series_of_another_interval_is_refused() {
        // Two rows a day apart, read as half hours: never one interval apart.
        let two = "interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-02T00:00:00Z,4\n";
        let error = read("a.csv", two.as_bytes(), half_hour()).expect_err("refused").to_string();
        assert!(
            error.starts_with("a.csv:3: no two rows are one interval (30 min) apart (the first two are 1440 min)"),
            "{error}"
        );
        // Business days starting on a Thursday: steps of 1 and 3 days, never 30 minutes.
        let days = "interval_start,count\n2025-01-02T00:00:00Z,1\n2025-01-03T00:00:00Z,1\n2025-01-06T00:00:00Z,1\n\
                    2025-01-07T00:00:00Z,1\n2025-01-08T00:00:00Z,1\n2025-01-09T00:00:00Z,1\n";
        assert!(read("a.csv", days.as_bytes(), half_hour()).is_err());
        // One gap among regular rows stays a gap.
        let gap = "interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:30:00Z,3\n2025-01-01T01:30:00Z,3\n";
        assert_eq!(read("a.csv", gap.as_bytes(), half_hour()).expect("read").1.len(), 1);
    }

    #[test]
    fn quoted_and_plain_files_read_alike() {
        let plain = "interval_start,count\r\n2025-01-01T00:00:00Z,3\r\n2025-01-01T00:30:00Z,2\r\n\r\n2025-01-01T01:30:00Z,7\r\n";
        let quoted = "\"interval_start\",count\n\"2025-01-01T00:00:00Z\",3\n2025-01-01T00:30:00Z,2\n\n2025-01-01T01:30:00Z,\"7\"\n";
        let (a, gaps_a) = read("a.csv", plain.as_bytes(), half_hour()).expect("plain");
        let (b, gaps_b) = read("a.csv", quoted.as_bytes(), half_hour()).expect("quoted");
        assert_eq!(a, b);
        let instants = |gaps: &[Gap]| gaps.iter().map(|g| (g.after, g.next)).collect::<Vec<_>>();
        assert_eq!(instants(&gaps_a), instants(&gaps_b));
        // The plain path counts physical lines, the empty one too (the csv crate does not).
        assert_eq!(gaps_a[0].line, 5);
        // Columns in any order, a byte-order mark, and a row of the wrong width named.
        let swapped = "\u{feff}count,interval_start\n3,2025-01-01T00:00:00Z\n";
        assert_eq!(read("a.csv", swapped.as_bytes(), half_hour()).expect("swapped").0[0].count, 3);
        let wide = "interval_start,count\n2025-01-01T00:00:00Z,3,9\n";
        let error = read("a.csv", wide.as_bytes(), half_hour()).expect_err("too wide").to_string();
        assert_eq!(error, "a.csv:2: 3 fields where the header has 2");
    }

    #[test]
    fn series_are_read_and_their_problems_named() {
        let text = "interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:30:00Z,0\n2025-01-01T01:30:00Z,7\n";
        let (rows, gaps) = read("a.csv", text.as_bytes(), half_hour()).expect("read");
        assert_eq!(rows.iter().map(|r| r.count).collect::<Vec<_>>(), [3, 0, 7]);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].line, 4);
        let error = |text: &str| read("a.csv", text.as_bytes(), half_hour()).expect_err("refused").to_string();
        assert_eq!(
            error("interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:00:00Z,4\n"),
            "a.csv:3: interval 2025-01-01T00:00:00Z is listed twice"
        );
        assert!(error("interval_start,count\n2025-01-01T00:00:00Z,-3\n").starts_with("a.csv:2: count `-3`"));
        assert!(error("interval_start,count\nyesterday,3\n").starts_with("a.csv:2: interval_start `yesterday`"));
        assert!(error("start,n\n").contains("interval_start and count"));
        assert!(
            error("interval_start,count\n2025-01-01T01:00:00Z,3\n2025-01-01T00:30:00Z,3\n").contains("comes before")
        );
        assert!(
            error("interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:45:00Z,3\n")
                .contains("whole number of 30 minutes")
        );
    }
}
