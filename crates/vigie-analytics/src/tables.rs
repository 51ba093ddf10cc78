//! The two small tables beside a history: `sla.csv` and `handle_time.csv` (FORMATS.md), read
//! with the `csv` crate; every problem names the file, line and column.

use std::path::Path;

use vigie_core::Priority;
use vigie_core::metrics::{HandleTimes, SlaMinutes, SlaTable};

/// A table that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct TableError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Reads `sla.csv`: `category,priority,first_response_minutes,resolution_minutes`.
pub fn read_sla(path: &Path) -> Result<SlaTable, TableError> {
    let mut table = SlaTable::default();
    read_rows(path, &["category", "priority", "first_response_minutes", "resolution_minutes"], |values, fail| {
        let (category, priority) = (values[0].trim(), values[1].trim());
        if category.is_empty() {
            return Err(fail(1, "must not be empty (`*` matches any category)".to_owned()));
        }
        if priority != "*" && Priority::parse(priority).is_none() {
            return Err(fail(2, format!("{priority:?} {} or `*`", Priority::expected())));
        }
        let minutes =
            SlaMinutes { first_response: minutes(values[2], 3, fail)?, resolution: minutes(values[3], 4, fail)? };
        if !table.insert(category, priority, minutes) {
            return Err(fail(1, format!("the pair {category},{priority} is listed twice")));
        }
        Ok(())
    })?;
    Ok(table)
}

/// Reads `handle_time.csv`: `category,minutes`.
pub fn read_handle_times(path: &Path) -> Result<HandleTimes, TableError> {
    let mut table = HandleTimes::default();
    read_rows(path, &["category", "minutes"], |values, fail| {
        let category = values[0].trim();
        if category.is_empty() {
            return Err(fail(1, "must not be empty (`*` stands for the other categories)".to_owned()));
        }
        let minutes = minutes(values[1], 2, fail)?;
        if !table.insert(category, minutes) {
            return Err(fail(1, format!("category {category:?} is listed twice")));
        }
        Ok(())
    })?;
    Ok(table)
}

type Fail<'a> = &'a dyn Fn(usize, String) -> TableError;

fn minutes(value: &str, column: usize, fail: Fail<'_>) -> Result<f64, TableError> {
    match value.trim().parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 => Ok(m),
        _ => Err(fail(column, format!("{value:?} is not a number of minutes (0 or more)"))),
    }
}

/// Reads a small CSV table with the given columns (found by name in the header, in any
/// order), calling `each` with the values of every row in the order of `columns`.
fn read_rows(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&[&str], Fail<'_>) -> Result<(), TableError>,
) -> Result<(), TableError> {
    let file = path.display().to_string();
    let error = |line: u64, reason: String| TableError { file: file.clone(), line, reason };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(|e| error(0, csv_reason(&e)))?;
    let header = reader.headers().map_err(|e| error(1, csv_reason(&e)))?.clone();
    let positions: Vec<usize> = columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').trim() == *name)
                .ok_or_else(|| error(1, format!("the header lacks column `{name}` (expected {})", columns.join(","))))
        })
        .collect::<Result<_, _>>()?;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let values: Vec<&str> = positions.iter().map(|&i| record.get(i).unwrap_or("")).collect();
                let fail = |column: usize, reason: String| {
                    error(line, format!("column {column} ({}): {reason}", columns[column - 1]))
                };
                each(&values, &fail)?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(error(line, csv_reason(&e)));
            }
        }
    }
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(e) => e.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} field(s) where the header has {expected_len}")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    #[test]
    fn sla_rows_in_any_column_order_with_stars() {
        let f = file(
            "\u{feff}priority,category,resolution_minutes,first_response_minutes\r\n*,*,600,60\r\nP1,billing,20,5\r\n",
        );
        let table = read_sla(f.path()).expect("valid");
        assert_eq!(table.lookup("billing", Priority::P1).map(|m| m.first_response), Some(5.0));
        assert_eq!(table.lookup("other", Priority::P4).map(|m| m.resolution), Some(600.0));
    }

    #[test]
    fn bad_tables_name_the_line_and_column() {
        let f = file("category,priority,first_response_minutes,resolution_minutes\nbilling,P1,5,20\nbilling,P9,5,20\n");
        let error = read_sla(f.path()).expect_err("bad priority").to_string();
        assert!(
            error.ends_with(":3: column 2 (priority): \"P9\" must be one of `P1`, `P2`, `P3`, `P4` or `*`"),
            "{error}"
        );
        let f = file("category,minutes\nbilling,-3\n");
        let error = read_handle_times(f.path()).expect_err("negative").to_string();
        assert!(error.contains(":2: column 2 (minutes): \"-3\" is not a number"), "{error}");
        let f = file("category,minutes\nbilling,3\nbilling,4\n");
        assert!(read_handle_times(f.path()).expect_err("twice").to_string().contains("listed twice"));
        let f = file("category\nbilling\n");
        assert!(read_handle_times(f.path()).expect_err("no minutes").to_string().contains("lacks column `minutes`"));
    }
}
