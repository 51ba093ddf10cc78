//! The cross-check of the live backlog against the offline report: a generated history is
//! imported with `vigie import` under rules equal to its `sla.csv` and `handle_time.csv` (24x7,
//! nothing pauses the clock: the report's definitions), a server is started on that store with
//! its clock at the history's export instant, and `GET /api/v1/backlog` over HTTP equals
//! `vigie report --as-of` that instant, field by field, for the "Backlog at T" and "SLA" parts
//! (figures to 1e-9 relative). On SQLite, and on PostgreSQL under `VIGIE_REQUIRE_PG=1`.
//!
//! Needs `VIGIE_PYTHON` (a Python with numpy, for the generator; `scripts/test` makes one).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;
use vigie_core::Role;
use vigie_server::AppState;
use vigie_server::rules::RulesHandle;
use vigie_testdb::{Backend, TestDb};

mod common;
use common::generate;

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

/// Rules equal to the history's tables: one 24x7 policy per `sla.csv` row, no pause.
fn rules_of(dir: &Path) -> String {
    let mut toml = String::from("[sla]\npause_statuses = []\n");
    let sla = std::fs::read_to_string(dir.join("sla.csv")).expect("sla.csv");
    for (idx, line) in sla.lines().skip(1).filter(|l| !l.is_empty()).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let _ = write!(
            toml,
            "[[sla.policies]]\nname = \"row{idx}\"\ncategory = \"{}\"\npriority = \"{}\"\n\
             first_response_minutes = {}\nresolution_minutes = {}\n",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
    toml.push_str("[handle_time]\n");
    let handle = std::fs::read_to_string(dir.join("handle_time.csv")).expect("handle_time.csv");
    for line in handle.lines().skip(1).filter(|l| !l.is_empty()) {
        let (category, minutes) = line.split_once(',').expect("two cells");
        let minutes: f64 = minutes.trim().parse().expect("minutes");
        let _ = writeln!(toml, "\"{category}\" = {minutes:?}");
    }
    toml
}

/// `a` and `b` are the same JSON, numbers to 1e-9 relative; the path of the first difference.
fn same(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            if (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) {
                Ok(())
            } else {
                Err(format!("{path}: {x} != {y}"))
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x.keys().collect();
            if keys != y.keys().collect::<Vec<_>>() {
                return Err(format!("{path}: keys {keys:?} != {:?}", y.keys().collect::<Vec<_>>()));
            }
            x.iter().try_for_each(|(k, v)| same(v, &y[k], &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: {} items != {}", x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().try_for_each(|(i, (v, w))| same(v, w, &format!("{path}[{i}]")))
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} != {b}")),
    }
}

async fn cross_check(backend: Backend) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path().join("h");
    generate(&dir, 30_000, 33);
    let config = scratch.path().join("rules.toml");
    let rules_text = rules_of(&dir);
    std::fs::write(&config, &rules_text).expect("write rules");
    let Some(db) = TestDb::create(backend).await else { return };

    let tickets = dir.join("tickets.csv");
    let imported = Command::new(BIN)
        .arg("import")
        .arg(&tickets)
        .args(["--db", db.url()])
        .arg("--config")
        .arg(&config)
        .output()
        .expect("import");
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let reported = Command::new(BIN).arg("report").arg(&tickets).args(["--format", "json"]).output().expect("report");
    assert!(reported.status.success(), "{}", String::from_utf8_lossy(&reported.stderr));
    let report: Value = serde_json::from_slice(&reported.stdout).expect("report JSON");
    let as_of: Timestamp = report["as_of"].as_str().expect("as_of").parse().expect("an instant");

    // A server on that store, its clock at the export instant.
    let store = db.open().await;
    let secret = common::token(&store, "checker", Role::Viewer, as_of).await;
    let rules = RulesHandle::load(&store, Some(("rules.toml", &rules_text)), as_of).await.expect("rules");
    let state = AppState::start(store, Arc::new(move || as_of), rules).await.expect("live state");
    let served = common::Served::start(state).await;
    let live: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/backlog", served.base))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("GET /api/v1/backlog")
        .json()
        .await
        .expect("JSON");
    served.stop().await;

    assert_eq!(live["as_of"], report["as_of"]);
    assert!(report["backlog"]["count"].as_u64().expect("count") > 300, "a backlog worth checking");
    same(&live["backlog"], &report["backlog"], "backlog").unwrap_or_else(|difference| panic!("{difference}"));
    let mut live_sla = live["sla"].clone();
    live_sla.as_object_mut().expect("object").remove("first_response_overdue");
    same(&live_sla, &report["sla"], "sla").unwrap_or_else(|difference| panic!("{difference}"));
    assert!(
        !report["sla"]["at_risk"].as_array().expect("list").is_empty()
            || report["sla"]["by_category_priority"].as_object().is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_snapshot_equals_the_report_on_sqlite() {
    cross_check(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_snapshot_equals_the_report_on_postgres() {
    cross_check(Backend::Postgres).await;
}
