//! The history reader on real bytes: odd but valid CSV is read, bad rows are named by file,
//! line and column, and the block cutting never changes what is read.

use std::fmt::Write;

use vigie_analytics::history::{self, HistoryError, ReadOptions, ReadSummary, Row};
use vigie_analytics::report;
use vigie_core::metrics::{AsOf, HandleTimes, Report, SlaTable};

const HEADER: &str = "id,created_at,first_response_at,resolved_at,status,priority,category,channel,customer_id,customer_tier,team,assignee,subject,body,csat,tags";

/// Reads `text` in file order and returns the ids of the good rows and the summary.
fn ids(text: &str, options: ReadOptions) -> Result<(Vec<String>, ReadSummary), HistoryError> {
    ids_of_bytes(text.as_bytes(), options)
}

fn ids_of_bytes(bytes: &[u8], options: ReadOptions) -> Result<(Vec<String>, ReadSummary), HistoryError> {
    let mut ids = Vec::new();
    let outcome = history::for_each_row(bytes, "tickets.csv", options, |row: &Row<'_>, _| {
        let facts = row.facts()?;
        ids.push(facts.id.into_owned());
        Ok(Ok::<(), ()>(()))
    })?;
    Ok((ids, outcome.expect("no error of our own")))
}

fn ids_error(text: &str) -> String {
    ids(text, ReadOptions::default()).expect_err("invalid").to_string()
}

fn report_of(text: &str, options: ReadOptions) -> Result<Report, HistoryError> {
    report::run(text.as_bytes(), "t", AsOf::Latest, &SlaTable::default(), &HandleTimes::default(), options, &|_| {})
        .map(|run| run.report)
}

fn row(id: &str, created: &str) -> String {
    format!("{id},{created},,,open,P2,billing,email,C1,standard,front_office,,Subject,Body,,")
}

#[test]
fn bom_crlf_quoted_newlines_and_quotes_are_read() {
    let text = format!(
        "\u{feff}{HEADER}\r\n{}\r\nT2,2026-01-02T00:00:00Z,,,open,P2,billing,email,C1,standard,front_office,,\"Re: \"\"urgent\"\", call\",\"line 1\r\nline 2, with comma\",,\r\n",
        row("T1", "2026-01-01T00:00:00Z")
    );
    let (ids, summary) = ids(&text, ReadOptions::default()).expect("valid");
    assert_eq!(ids, ["T1", "T2"]);
    assert_eq!(summary.records, 2);
}

#[test]
fn optional_columns_may_be_missing_and_extra_columns_are_ignored() {
    let text = "team,extra,id,created_at,status,priority,category,channel,customer_tier\nfo,x,T1,2026-01-01T00:00:00Z,open,P1,billing,chat,premium\n";
    let (ids, _) = ids(text, ReadOptions::default()).expect("valid");
    assert_eq!(ids, ["T1"]);
    let error = ids_error("id,created_at\nT1,2026-01-01T00:00:00Z\n");
    assert!(
        error.starts_with("tickets.csv:1: the header lacks the required column(s) `status`, `priority`"),
        "{error}"
    );
    let error = ids_error(&format!("{HEADER},id\n"));
    assert_eq!(error, "tickets.csv:1: the header names column `id` twice");
}

#[test]
fn an_empty_file_is_an_error_and_a_header_alone_is_an_empty_history() {
    assert!(ids_error("").starts_with("tickets.csv: the file is empty"));
    assert!(ids_error("\u{feff}\r\n").starts_with("tickets.csv: the file is empty"));
    let (ids, summary) = ids(&format!("{HEADER}\n"), ReadOptions::default()).expect("header only");
    assert!(ids.is_empty());
    assert_eq!(summary.records, 0);
    let report = report_of(&format!("{HEADER}\r\n"), ReadOptions::default()).expect("an empty history has a report");
    assert_eq!(report.tickets_total, 0);
    assert_eq!(report.as_of, None);
}

#[test]
fn a_bad_value_names_the_file_line_column_and_reason() {
    // The second record spans lines 3 and 4: the bad field is on line 4.
    let text = format!(
        "{HEADER}\n{}\nT2,2026-01-01T00:00:00Z,,,open,P2,billing,email,C1,standard,front_office,,\"two\nlines\",body,9,\n",
        row("T1", "2026-01-01T00:00:00Z")
    );
    assert_eq!(ids_error(&text), "tickets.csv:4: column 15 (csat): \"9\" must be a whole number from 1 to 5, or empty");
    let cases = [
        (
            row("T1", "2026-02-30T00:00:00Z"),
            "tickets.csv:2: column 2 (created_at): \"2026-02-30T00:00:00Z\" is not an RFC 3339 timestamp (2026-03-02T08:15:00Z)",
        ),
        (
            row("T1", "2026-01-01T00:00:00Z").replace("P2", "urgent"),
            "tickets.csv:2: column 6 (priority): \"urgent\" must be one of `P1`, `P2`, `P3`, `P4`",
        ),
        (row("", "2026-01-01T00:00:00Z"), "tickets.csv:2: column 1 (id): \"\" must not be empty"),
        (
            row("T1", "0202-01-01T00:00:00Z"),
            "tickets.csv:2: column 2 (created_at): \"0202-01-01T00:00:00Z\" is outside the years 1970 to 2199 (a typo in the year?)",
        ),
        (
            "T1,2026-01-02T00:00:00Z,,2026-01-01T00:00:00Z,solved,P2,billing,email,C1,standard,front_office,,s,b,,"
                .to_owned(),
            "tickets.csv:2: column 4 (resolved_at): \"2026-01-01T00:00:00Z\" is before created_at",
        ),
        (
            "T1,2026-01-01T00:00:00Z,,open".to_owned(),
            "tickets.csv:2: has 4 field(s) where the header has 16 (a missing quote around a value with a comma?)",
        ),
        (
            "\r\n\nT1,2026-01-01T00:00:00Z,,open".to_owned(),
            "tickets.csv:4: has 4 field(s) where the header has 16 (a missing quote around a value with a comma?)",
        ),
        (
            "T1,2026-01-01T00:00:00Z,,,open,P2,billing,email,C1,standard,fo,,\"quoted\"tail,b,,".to_owned(),
            "tickets.csv:2: a closing quote is followed by something other than `,` or a line end (a quote inside a quoted field must be doubled: `\"\"`)",
        ),
        (
            "T1,2026-01-01T00:00:00Z,,,open,P2,billing,email,C1,standard,fo,,say \"hi\",b,,".to_owned(),
            "tickets.csv:2: a quote inside a field that does not start with one (a field holding quotes must be quoted, each inner quote doubled: `\"a \"\"b\"\"\"`)",
        ),
        (
            "T1,2026-01-01T00:00:00Z,,,open,P2,billing,email,C1,standard,fo,,\"never closed,b,,\nT2".to_owned(),
            "tickets.csv:2: a quoted field is never closed (a missing `\"`?)",
        ),
        (
            "T1,2026-01-01T00:00:00Z,,,open,P2,bill\u{FFFD},email,C1,standard,fo,,s,b,,"
                .to_owned()
                .replace('\u{FFFD}', "\u{e9}"),
            "",
        ),
    ];
    for (line, expected) in cases {
        let text = format!("{HEADER}\n{line}\n");
        if expected.is_empty() {
            ids(&text, ReadOptions::default()).expect("UTF-8 in values is fine");
        } else {
            assert_eq!(ids_error(&text), expected);
        }
    }
    let mut latin1 = format!("{HEADER}\n").into_bytes();
    latin1.extend_from_slice(b"T1,2026-01-01T00:00:00Z,,,open,P2,bill\xe9,email,C1,standard,fo,,s,b,,\n");
    let error = history::for_each_row(&latin1[..], "tickets.csv", ReadOptions::default(), |row: &Row<'_>, _| {
        row.facts().map(|_| Ok::<(), ()>(()))
    })
    .expect_err("not UTF-8");
    assert_eq!(error.to_string(), "tickets.csv:2: column 7 (category): \"bill\u{FFFD}\" is not valid UTF-8");
}

#[test]
fn skip_invalid_skips_bad_rows_counts_them_and_describes_the_first() {
    let mut text = format!("{HEADER}\n");
    for i in 0..20 {
        let created = if i % 3 == 0 { "yesterday" } else { "2026-01-01T00:00:00Z" };
        text.push_str(&row(&format!("T{i}"), created));
        text.push('\n');
    }
    text.push_str("T99,2026-01-01T00:00:00Z,,,open,P2,billing,email,C1,standard,fo,,\"x\"y,b,,\n");
    text.push_str(&row("T100", "2026-01-01T00:00:00Z"));
    let options = ReadOptions { skip_invalid: true, ..ReadOptions::default() };
    let (ids, summary) = ids(&text, options).expect("skipping");
    assert_eq!(ids.len(), 14, "13 good rows of the 20, and the last");
    assert_eq!(ids.last().map(String::as_str), Some("T100"), "reading goes on after a malformed quote");
    assert_eq!(summary.skipped, 8);
    assert_eq!(summary.records, 22);
    let lines: Vec<u64> = summary.first_skipped.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 5, 8, 11, 14]);
    assert_eq!(summary.first_skipped[0].column, Some((2, "created_at".to_owned())));
    // the same in parallel, through the report
    let options = ReadOptions { skip_invalid: true, threads: 3, block_bytes: 300 };
    let report = report_of(&text, options).expect("skipping");
    assert_eq!(report.tickets_total, 14);
}

/// A history of `n` rows with long multi-line quoted bodies, doubled quotes and CRLF.
fn long_history(n: usize) -> String {
    let mut text = format!("{HEADER}\r\n");
    for i in 0..n {
        let body = format!("Hello,\r\n\r\n\"\"{}\"\" {}\r\nBye", "x".repeat(i % 97), i);
        let resolved = if i % 4 == 0 { String::new() } else { format!("2026-01-{:02}T12:00:00Z", 2 + i % 20) };
        let _ = write!(
            text,
            "T{i:06},2026-01-01T{:02}:{:02}:00Z,,{resolved},open,P{},cat{},email,C1,standard,team{},,\"s\",\"{body}\",{},tag\r\n",
            i % 24,
            i % 60,
            1 + i % 4,
            i % 7,
            i % 3,
            if i % 5 == 0 { "4" } else { "" }
        );
    }
    text
}

#[test]
fn block_cuts_never_change_what_is_read() {
    let text = long_history(1_500);
    let (whole, _) = ids(&text, ReadOptions::default()).expect("valid");
    assert_eq!(whole.len(), 1_500);
    let single = report_of(&text, ReadOptions { threads: 1, ..ReadOptions::default() }).expect("valid");
    for block_bytes in [64, 1_000, 4_096, 65_536] {
        let options = ReadOptions { block_bytes, ..ReadOptions::default() };
        assert_eq!(ids(&text, options).expect("valid").0, whole, "block size {block_bytes}");
        let options = ReadOptions { block_bytes, threads: 3, ..ReadOptions::default() };
        assert_eq!(report_of(&text, options).expect("valid"), single, "block size {block_bytes}");
    }
    // Stray quotes (found by the fuzzer: accepted as literals, they made the cutting change
    // what was read) are skipped the same way whatever the cutting.
    let mut stray = String::new();
    for (i, record) in long_history(400).split_inclusive(",tag\r\n").enumerate() {
        stray.push_str(record);
        if i % 37 == 5 {
            stray.push_str("T9,2026-01-01T00:00:00Z,,,open,P1,c,email,C1,standard,t,,a \"stray\" word,\"b\nc\"d,,\r\n");
        }
    }
    let skipping = |block_bytes, threads| {
        let options = ReadOptions { skip_invalid: true, block_bytes, threads };
        report_of(&stray, options).expect("skipping")
    };
    let reference = skipping(0, 1);
    assert_eq!(reference.tickets_total, 400);
    for block_bytes in [50, 333, 2_000] {
        assert_eq!(skipping(block_bytes, 2), reference, "block size {block_bytes}");
    }
    // A record whose quotes never balance cannot be skipped: where it ends cannot be told.
    let unbalanced = format!(
        "{}T9,2026-01-01T00:00:00Z,,,open,P1,c,email,C1,standard,t,,27\" screen,b,,\r\n{}",
        long_history(3),
        &long_history(50)[HEADER.len() + 2..]
    );
    let options = ReadOptions { skip_invalid: true, ..ReadOptions::default() };
    let error = report_of(&unbalanced, options).expect_err("unbalanced").to_string();
    assert!(error.contains("its quotes never balance"), "{error}");

    // A bad row far into the file is found at its line whatever the cutting.
    let mut bad = long_history(500);
    let line_of_bad = bad.matches('\n').count() + 1;
    bad.push_str("T999,2026-13-01T00:00:00Z,,,open,P1,c,email,C1,standard,t,,s,b,,\r\n");
    bad.push_str(&long_history(200)[HEADER.len() + 2..]);
    for block_bytes in [100, 5_000, 0] {
        let options = ReadOptions { block_bytes, threads: 2, ..ReadOptions::default() };
        let error = report_of(&bad, options).expect_err("bad month").to_string();
        assert!(error.starts_with(&format!("t:{line_of_bad}: column 2 (created_at)")), "{error}");
    }
}

/// The inputs the fuzzer (`fuzz/`, target `history_csv`) found, replayed with every block size
/// and thread count: the parallel reading and the reading in order must agree. Each file is a
/// fuzzer input: its first byte picks the options there, here they all run; the rest follows a
/// valid header.
#[test]
fn what_the_fuzzer_found_stays_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    for entry in std::fs::read_dir(&dir).expect("the regressions folder") {
        let path = entry.expect("an entry").path();
        let input = std::fs::read(&path).expect("read");
        let mut file = format!("{HEADER}\n").into_bytes();
        file.extend_from_slice(&input[1..]);
        for skip_invalid in [false, true] {
            for block_bytes in [16, 64, 1_000, 0] {
                for threads in [1, 2, 3] {
                    let options = ReadOptions { skip_invalid, block_bytes, threads };
                    let parallel = report::run(
                        &file[..],
                        "f.csv",
                        AsOf::Latest,
                        &SlaTable::default(),
                        &HandleTimes::default(),
                        options,
                        &|_| {},
                    );
                    let in_order = ids_of_bytes(&file, options);
                    let what = format!("{} with {options:?}", path.display());
                    match (parallel, in_order) {
                        (Ok(run), Ok((ids, summary))) => {
                            assert_eq!(run.report.tickets_total, ids.len() as u64, "{what}");
                            assert_eq!(run.summary.skipped, summary.skipped, "{what}");
                            assert_eq!(run.summary.records, summary.records, "{what}");
                        }
                        (Err(a), Err(b)) => {
                            assert_eq!(a.to_string(), b.to_string().replace("tickets.csv", "f.csv"), "{what}")
                        }
                        (a, b) => {
                            panic!("{what}: the readings disagree: {:?} / {:?}", a.map(|r| r.summary), b.map(|r| r.1))
                        }
                    }
                }
            }
        }
    }
}
