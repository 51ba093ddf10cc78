//! `vigie import` on a real store (SQLite, and PostgreSQL under `VIGIE_REQUIRE_PG=1`): the same
//! file twice adds nothing, an import killed with SIGKILL is finished by running it again, the
//! imported backlog is the report's, and a bad row stops it before anything is written.
//!
//! Needs `VIGIE_PYTHON` (a Python with numpy, for the generator; `scripts/test` makes one).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::generate;
use vigie_testdb::{Backend, TestDb};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn import(file: &Path, db: &str) -> Output {
    Command::new(BIN).arg("import").arg(file).args(["--db", db]).output().expect("vigie import starts")
}

fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The report's backlog count of a history, at its export instant.
fn report_backlog(file: &Path) -> i64 {
    let output = Command::new(BIN).arg("report").arg(file).args(["--format", "json"]).output().expect("report");
    assert!(output.status.success(), "{}", said(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    report["backlog"]["count"].as_i64().expect("a count")
}

async fn counts(db: &TestDb) -> (i64, usize) {
    let store = db.open().await;
    let tickets = store.count_tickets().await.expect("count");
    let mut open = 0;
    let mut cursor = None;
    loop {
        let page = store.open_tickets_page(cursor.as_ref(), 5_000).await.expect("open tickets");
        open += page.0.len();
        match page.1 {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    store.close().await;
    (tickets, open)
}

async fn story(backend: Backend) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = generate(&scratch.path().join("h"), 8_000, 21);
    let Some(db) = TestDb::create(backend).await else { return };

    // The same file twice: the second adds nothing.
    let first = import(&file, db.url());
    assert!(first.status.success(), "{}", said(&first));
    assert!(said(&first).contains("8000 new tickets"), "{}", said(&first));
    let after_first = counts(&db).await;
    assert_eq!(after_first.0, 8_000);
    assert_eq!(after_first.1 as i64, report_backlog(&file), "the imported backlog is the report's");
    let again = import(&file, db.url());
    assert!(again.status.success(), "{}", said(&again));
    assert!(said(&again).contains("0 new tickets (0 events), 8000 already in the store"), "{}", said(&again));
    assert_eq!(counts(&db).await, after_first);
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_twice_adds_nothing_sqlite() {
    story(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_twice_adds_nothing_postgres() {
    story(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_midway_is_finished_by_running_it_again() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = generate(&scratch.path().join("h"), 40_000, 22);
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let mut child = Command::new(BIN)
        .arg("import")
        .arg(&file)
        .args(["--db", db.url()])
        .stderr(Stdio::null())
        .spawn()
        .expect("vigie import starts");
    // Kill it once some batches are in, not all.
    let started = Instant::now();
    let mut killed_at = None;
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        let store = db.open().await;
        let stored = store.count_tickets().await.unwrap_or(0);
        store.close().await;
        if stored > 0 {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            killed_at = Some(stored);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.wait().expect("the import has ended");
    let killed_at = killed_at.expect("the import was killed after its first batches");
    let partial = counts(&db).await.0;
    assert!(partial >= killed_at && partial < 40_000, "killed with {partial} of 40000 stored");
    assert_eq!(partial % 1_000, 0, "whole batches only: each is one transaction");

    let rerun = import(&file, db.url());
    assert!(rerun.status.success(), "{}", said(&rerun));
    let told = said(&rerun);
    assert!(told.contains(&format!("{} new tickets", 40_000 - partial)), "{told}");
    assert!(told.contains(&format!("{partial} already in the store")), "{told}");
    let (tickets, open) = counts(&db).await;
    assert_eq!(tickets, 40_000);
    assert_eq!(open as i64, report_backlog(&file));
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_stops_the_import_before_anything_is_written() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = generate(&scratch.path().join("h"), 3_000, 23);
    let text = std::fs::read_to_string(&file).expect("read");
    // Break the status of the first ticket (line 2; long resolved): it says it is still open.
    let first = text.find("\nT000000001,").expect("a first row") + 1;
    let row_line = 2;
    let broken = format!("{}{}", &text[..first], text[first..].replacen(",closed,", ",open,", 1));
    let bad = scratch.path().join("bad.csv");
    std::fs::write(&bad, &broken).expect("write");
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let output = import(&bad, db.url());
    if broken == text {
        panic!("the first ticket is not closed; pick another seed");
    }
    assert_eq!(output.status.code(), Some(1));
    assert!(
        said(&output).contains(&format!(
            "bad.csv:{row_line}: column 5 (status): \"open\" is an open status but resolved_at is set"
        )),
        "{}",
        said(&output)
    );
    assert_eq!(counts(&db).await.0, 0, "nothing written");
    // With --skip-invalid the rest goes in.
    let output =
        Command::new(BIN).arg("import").arg(&bad).args(["--db", db.url(), "--skip-invalid"]).output().expect("runs");
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("2999 new tickets"), "{}", said(&output));
    assert!(said(&output).contains("1 skipped as invalid"), "{}", said(&output));
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_id_is_told_and_a_reply_after_the_resolution_keeps_time_order() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("tickets.csv");
    std::fs::write(
        &file,
        "id,created_at,first_response_at,resolved_at,status,priority,category,channel,customer_id,customer_tier,team,assignee,subject,body,csat,tags\n\
         T1,2026-02-01T09:00:00Z,,,open,P2,billing,email,C1,standard,fo,,s,b,,\n\
         T1,2026-02-01T09:00:00Z,,2026-02-02T09:00:00Z,solved,P2,billing,email,C1,standard,fo,,s,b,,\n\
         T2,2026-02-01T09:00:00Z,2026-02-03T09:00:00Z,2026-02-02T09:00:00Z,closed,P2,billing,email,C2,premium,fo,a1,s,b,5,\n",
    )
    .expect("write");
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let output = import(&file, db.url());
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("2 new tickets"), "{}", said(&output));
    assert!(said(&output).contains("1 row(s) repeat the id of an earlier row"), "{}", said(&output));
    let store = db.open().await;
    let t2 = vigie_core::TicketId::parse("T2").expect("id");
    let events = store.ticket_events(&t2).await.expect("events");
    assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at), "events in time order: {events:#?}");
    let ticket = store.ticket(&t2).await.expect("read").expect("stored");
    assert_eq!(ticket.status, vigie_core::Status::Closed);
    assert_eq!(ticket.first_response_at.map(|t| t.to_string()), Some("2026-02-03T09:00:00Z".to_owned()));
    store.close().await;
    db.destroy().await;
}
