//! `vigie forecast` on the W4 series (`gen_series.py`, copied into bench/oracle): the backtest's
//! MASE is no worse than the best statsforecast model's (PEER_BASELINES_QUEUEING.md, W4 table)
//! on the daily and hourly series of seed 1; a history's inflow is forecast in total and per
//! category; bad input is named.
//!
//! Needs `VIGIE_PYTHON` (numpy, for the generators).

mod common;

use std::process::Command;

use common::{generate, oracle, python, run};

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

fn series(dir: &std::path::Path, freq: &str, seed: u32) -> std::path::PathBuf {
    let path = dir.join(format!("series_{freq}_{seed}.csv"));
    run(Command::new(python())
        .arg(oracle("gen_series.py"))
        .args(["--freq", freq, "--seed", &seed.to_string(), "-o"])
        .arg(&path));
    path
}

fn backtest(path: &std::path::Path, freq: &str, horizon: &str) -> serde_json::Value {
    let out = run(vigie().arg("forecast").arg(path).args([
        "--freq",
        freq,
        "--horizon",
        horizon,
        "--backtest",
        "--format",
        "json",
    ]));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_backtest_is_no_worse_than_the_best_statsforecast_model() {
    let scratch = tempfile::tempdir().expect("temp dir");
    // Best peer MASE (W4 table): daily s1 MSTL 1.021; hourly s1 AutoETS(168) 0.391.
    let daily = backtest(&series(scratch.path(), "D", 1), "1d", "28");
    let mase = daily["mase"].as_f64().expect("mase");
    assert!(mase <= 1.021, "daily MASE {mase}");
    assert!(daily["smape"].as_f64().expect("smape") < 20.0);
    assert_eq!(daily["mase_season"], 7);
    let hourly = backtest(&series(scratch.path(), "H", 1), "1h", "168");
    let mase = hourly["mase"].as_f64().expect("mase");
    assert!(mase <= 0.391, "hourly MASE {mase}");
    assert_eq!(hourly["mase_season"], 24);
    // The forecast ahead has its 168 intervals, each inside its interval.
    let rows = hourly["forecast"].as_array().expect("rows");
    assert_eq!(rows.len(), 168);
    assert_eq!(rows[0]["interval_start"], "2026-03-02T00:00:00Z");
    for row in rows {
        let (l, p, u) = (row["lower"].as_f64(), row["point"].as_f64(), row["upper"].as_f64());
        assert!(l <= p && p <= u, "{row}");
    }
    // Every method was scored on the same held-out week.
    assert_eq!(hourly["backtest_methods"].as_object().map(|m| m.len()), Some(6));
}

#[test]
fn a_history_s_inflow_is_forecast_in_total_and_per_category() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let tickets = generate(scratch.path(), 20_000, 2);
    let page = scratch.path().join("forecast.html");
    let out = run(vigie().arg("forecast").arg("--from-history").arg(&tickets).args([
        "--freq",
        "1d",
        "--horizon",
        "14",
        "--by",
        "total,category",
        "--groups",
        "3",
        "--format",
        "json",
    ]));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let groups = doc["groups"].as_array().expect("groups");
    assert_eq!(groups[0]["series"], "total");
    assert_eq!(groups.len(), 5, "total, three categories, the rest");
    assert_eq!(groups[4]["series"], "category=other");
    let total: f64 =
        groups[0]["forecast"].as_array().expect("rows").iter().map(|r| r["point"].as_f64().unwrap_or(0.0)).sum();
    let parts: f64 = groups[1..]
        .iter()
        .flat_map(|g| g["forecast"].as_array().expect("rows").iter().map(|r| r["point"].as_f64().unwrap_or(0.0)))
        .sum();
    assert!((parts - total).abs() / total < 0.25, "the parts ({parts}) roughly add up to the total ({total})");
    run(vigie()
        .arg("forecast")
        .arg("--from-history")
        .arg(&tickets)
        .args(["--freq", "1d", "--horizon", "14", "--format", "html", "--out"])
        .arg(&page));
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.contains("<svg") && html.contains("polygon class=\"band s1\""), "the chart with its interval");
    for external in ["src=", "href=", "url("] {
        assert!(!html.contains(external), "the page fetches nothing ({external})");
    }
}

#[test]
fn bad_input_is_named_and_refused() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("arrivals.csv");
    let refused = |text: &str, extra: &[&str]| common::refused("forecast", &file, text, extra);
    let short = "interval_start,count\n2026-01-01T00:00:00Z,3\n2026-01-01T01:00:00Z,4\n";
    assert!(refused(short, &[]).contains("too few"), "a short series");
    assert!(refused(short, &["--freq", "fortnight"]).contains("--freq: \"fortnight\""));
    assert!(refused(short, &["--method", "magic"]).contains("--method: \"magic\" is not a method"));
    assert!(refused(short, &["--level", "95"]).contains("--level must be a share"));
    let daily = "interval_start,count\n2026-01-01T00:00:00Z,3\n2026-01-02T00:00:00Z,4\n2026-01-03T00:00:00Z,4\n";
    let said = refused(daily, &["--freq", "1h"]);
    assert!(said.contains("arrivals.csv:4: the rows are 1440 minutes apart, not 60"), "{said}");
    let twice = "interval_start,count\n2026-01-01T00:00:00Z,3\n2026-01-01T00:00:00Z,4\n";
    assert!(refused(twice, &[]).contains("arrivals.csv:3"), "a duplicate is named by its line");
}
