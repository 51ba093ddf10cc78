//! `vigie report` against its oracle: the DuckDB peer of `bench/oracle/` (copied from
//! `shared/bench/`) on generated histories, at the export instant and at earlier instants; and
//! the command's behaviour on bad input.
//!
//! Needs `VIGIE_PYTHON`: a Python with duckdb and numpy (`scripts/test` makes one). The test
//! fails, rather than skips, without it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{generate, oracle, python, run};

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

fn peer_report(dir: &Path, out: &Path) {
    let output = run(Command::new(python()).arg(oracle("peer_report_duckdb.py")).arg(dir));
    std::fs::write(out, output.stdout).expect("write the peer's report");
}

#[test]
fn the_report_equals_the_duckdb_peer_at_the_export_instant_and_before() {
    let scratch = tempfile::tempdir().expect("temp dir");
    for seed in [11, 12] {
        let dir = scratch.path().join(format!("s{seed}"));
        generate(&dir, 20_000, seed);
        let peer = dir.join("peer.json");
        let ours = dir.join("vigie.json");
        peer_report(&dir, &peer);
        run(vigie().arg("report").arg(dir.join("tickets.csv")).args(["--format", "json", "--out"]).arg(&ours));
        let compared = run(Command::new(python()).arg(oracle("compare_reports.py")).arg(&peer).arg(&ours));
        assert!(String::from_utf8_lossy(&compared.stdout).starts_with("agree"));

        // Earlier instants: the report at T equals the peer's on the history as it stood at T.
        // T is a creation instant, so that it is the truncated file's export instant (the peer
        // reports at that instant only); instants between timestamps are left to the core's
        // tests.
        let tickets = std::fs::read_to_string(dir.join("tickets.csv")).expect("read");
        let creations: Vec<&str> = tickets
            .lines()
            .filter(|l| l.starts_with('T') && l.len() > 32 && l.as_bytes()[10] == b',')
            .map(|l| &l[11..31])
            .collect();
        for t in [creations[creations.len() / 2], creations[creations.len() * 9 / 10]] {
            let cut = dir.join(format!("cut-{}", t.replace(':', "")));
            run(Command::new(python()).arg(oracle("truncate_history.py")).arg(&dir).arg(t).arg(&cut));
            let peer = cut.join("peer.json");
            let ours = cut.join("vigie.json");
            peer_report(&cut, &peer);
            run(vigie()
                .arg("report")
                .arg(dir.join("tickets.csv"))
                .args(["--format", "json", "--as-of", t, "--out"])
                .arg(&ours));
            let compared = run(Command::new(python()).arg(oracle("compare_as_of.py")).arg(&peer).arg(&ours));
            assert!(String::from_utf8_lossy(&compared.stdout).starts_with("agree"), "as of {t}");
        }
    }
}

const HEADER: &str = "id,created_at,first_response_at,resolved_at,status,priority,category,channel,customer_id,customer_tier,team,assignee,subject,body,csat,tags";

#[test]
fn bad_input_is_named_and_exits_non_zero_and_skip_invalid_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tickets = dir.path().join("tickets.csv");
    let good = "T1,2026-01-01T08:00:00Z,2026-01-01T09:00:00Z,,open,P2,billing,email,C1,standard,fo,,s,b,,";
    let bad = "T2,2026-01-01T08:00:00Z,,,reopened,P2,billing,email,C1,standard,fo,,s,b,,";
    std::fs::write(&tickets, format!("{HEADER}\n{good}\n{bad}\n")).expect("write");

    let output = vigie().arg("report").arg(&tickets).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tickets.csv:3: column 5 (status): \"reopened\" must be one of `new`, `open`"), "{stderr}");
    assert!(output.stdout.is_empty(), "no partial report");

    let output = run(vigie().arg("report").arg(&tickets).args(["--skip-invalid", "--format", "json"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("skipped 1 invalid row(s) of 2"), "{stderr}");
    assert!(stderr.contains("tickets.csv:3: column 5 (status)"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["tickets_total"], 1);
    assert_eq!(report["backlog"]["count"], 1);

    let output = vigie().arg("report").arg(&tickets).args(["--as-of", "yesterday"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--as-of: \"yesterday\" is not an RFC 3339 timestamp"));

    std::fs::write(
        dir.path().join("sla.csv"),
        "category,priority,first_response_minutes,resolution_minutes\nbilling,P2,ten,20\n",
    )
    .expect("write");
    let output = vigie().arg("report").arg(&tickets).args(["--skip-invalid"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("sla.csv:2: column 3 (first_response_minutes): \"ten\" is not a number")
    );

    let output = vigie().arg("report").arg(dir.path().join("nowhere/missing.csv")).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open"));
}

#[test]
fn text_fits_80_columns_and_html_needs_no_network() {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(dir.path(), 3_000, 7);
    let tickets = dir.path().join("tickets.csv");
    let text = run(vigie().arg("report").arg(&tickets)).stdout;
    let text = String::from_utf8(text).expect("utf-8");
    for needle in ["BACKLOG", "URGENT", "oldest", "FLOW", "SLA COMPLIANCE", "net flow 7 d"] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    let page = dir.path().join("report.html");
    run(vigie().arg("report").arg(&tickets).args(["--format", "html", "--out"]).arg(&page));
    let html = std::fs::read_to_string(&page).expect("html");
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<svg").count(), 4, "flow, backlog, ages and SLA charts");
    for fetch in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(fetch), "the page fetches something: {fetch}");
    }
}
