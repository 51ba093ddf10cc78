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
    let mut reader = csv::ReaderBuilder::new().from_reader(input);
    let headers = reader.headers().map_err(|source| ArrivalsError::Csv { name: name.to_owned(), source })?.clone();
    let column = |wanted: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim() == wanted);
    let (Some(start_at), Some(count_at)) = (column("interval_start"), column("count")) else {
        return Err(ArrivalsError::Header {
            name: name.to_owned(),
            found: headers.iter().collect::<Vec<_>>().join(","),
        });
    };
    let mut intervals: Vec<Interval> = Vec::new();
    let mut gaps = Vec::new();
    // One record, read into again and again: a year of half hours is 17,520 rows.
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => return Err(ArrivalsError::Csv { name: name.to_owned(), source }),
        }
        let line = record.position().map_or(0, csv::Position::line);
        let row = |reason: String| ArrivalsError::Row { name: name.to_owned(), line, reason };
        let start_text = record.get(start_at).unwrap_or_default().trim();
        let start: Timestamp =
            start_text.parse().map_err(|_| row(format!("interval_start `{start_text}` is not an RFC 3339 instant")))?;
        let count_text = record.get(count_at).unwrap_or_default().trim();
        let count: u64 =
            count_text.parse().map_err(|_| row(format!("count `{count_text}` must be a whole number, 0 or more")))?;
        if let Some(previous) = intervals.last() {
            if start == previous.start {
                return Err(row(format!("interval {start_text} is listed twice")));
            }
            if start < previous.start {
                return Err(row(format!(
                    "interval {start_text} comes before the one above it ({})",
                    previous.start_text
                )));
            }
            let step = start.duration_since(previous.start);
            if step != interval {
                if step.as_secs() % interval.as_secs().max(1) != 0 {
                    return Err(row(format!(
                        "interval {start_text} is not a whole number of {} minutes after {}",
                        interval.as_mins(),
                        previous.start_text
                    )));
                }
                gaps.push(Gap { line, after: previous.start, next: start });
            }
        }
        intervals.push(Interval { start_text: start_text.to_owned(), start, count });
    }
    Ok((intervals, gaps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half_hour() -> SignedDuration {
        SignedDuration::from_mins(30)
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
