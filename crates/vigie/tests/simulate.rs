//! `vigie simulate` against its oracle (W3): the reference scenario's 100 replications agree
//! with the stored runs of Ciw and SimPy (500 replications each, `compare_sim.py`, both copied
//! into bench/oracle); the results do not depend on the threads; policies are compared on the
//! same tickets; a scenario built from a history runs and reads back; bad input is named.
//!
//! Needs `VIGIE_PYTHON` (numpy, for the history generator).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{generate, oracle, python, run};

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// The z statistics `compare_sim.py` prints, and its closing line.
fn compare(ours: &Path, peer: &str) -> (Vec<f64>, String) {
    let out = run(Command::new(python()).arg(oracle("compare_sim.py")).arg(ours).arg(oracle(peer)));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let zs = text
        .lines()
        .filter(|l| l.ends_with("agree") || l.ends_with("overlap-only") || l.ends_with("DISAGREE"))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            fields[fields.len() - 2].parse::<f64>().expect("a z")
        })
        .collect();
    (zs, text)
}

#[test]
fn the_reference_scenario_agrees_with_ciw_and_simpy() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let ours = scratch.path().join("vigie.json");
    run(vigie().arg("simulate").arg(oracle("scenario_w3.toml")).args(["--format", "json", "--out"]).arg(&ours));
    for peer in ["results/ciw_500.summary.json", "results/simpy_500.summary.json"] {
        let (zs, text) = compare(&ours, peer);
        assert_eq!(zs.len(), 25, "{text}");
        // The W3 rule: no z above 3.3, at most two above 1.96.
        assert!(zs.iter().all(|z| *z <= 3.3), "{text}");
        assert!(zs.iter().filter(|z| **z > 1.96).count() <= 2, "{text}");
    }
}

#[test]
fn the_results_depend_on_the_seeds_not_on_the_threads() {
    let scenario = oracle("scenario_w3.toml");
    let one =
        run(vigie().arg("simulate").arg(&scenario).args(["--replications", "6", "--threads", "1", "--format", "json"]));
    let three =
        run(vigie().arg("simulate").arg(&scenario).args(["--replications", "6", "--threads", "3", "--format", "json"]));
    assert_eq!(one.stdout, three.stdout);
    let other =
        run(vigie().arg("simulate").arg(&scenario).args(["--replications", "6", "--seed", "7", "--format", "json"]));
    assert_ne!(one.stdout, other.stdout);
    let doc = json(&one);
    assert_eq!(doc["peer"], "vigie");
    assert_eq!(doc["seeds"], serde_json::json!([1000, 1001, 1002, 1003, 1004, 1005]));
    assert_eq!(doc["summary"]["P4"]["mean_wait"]["n"], 6);
    assert_eq!(doc["daily_backlog"].as_array().map(Vec::len), Some(31));
}

#[test]
fn policies_are_compared_on_the_same_tickets() {
    let out = run(vigie().arg("simulate").arg(oracle("scenario_w3.toml")).args([
        "--replications",
        "4",
        "--policy",
        "all",
        "--format",
        "json",
    ]));
    let doc = json(&out);
    let runs = doc["comparison"].as_array().expect("a comparison");
    let names: Vec<&str> = runs.iter().map(|r| r["policy"].as_str().expect("name")).collect();
    assert_eq!(names, ["fifo", "priority", "edf", "vigie"]);
    let metric = |policy: usize, class: &str, metric: &str| {
        runs[policy]["summary"][class][metric]["mean"].as_f64().expect("a mean")
    };
    // The same tickets: the same arrivals under every policy.
    for p in 1..4 {
        assert_eq!(metric(p, "ALL", "arrived"), metric(0, "ALL", "arrived"));
    }
    // Priority and vigie serve P1 first: its waits are far below FIFO's.
    assert!(metric(1, "P1", "mean_wait") < metric(0, "P1", "mean_wait") / 10.0);
    assert!(metric(3, "P1", "mean_wait") < metric(0, "P1", "mean_wait") / 10.0);
    // EDF weighs the long P4 target: P4 misses fewer than under strict priority.
    assert!(metric(2, "P4", "sla_share") > metric(1, "P4", "sla_share"));
    // The first policy's results are also the top level's.
    assert_eq!(doc["policy"], "fifo");
    assert_eq!(doc["summary"], runs[0]["summary"]);

    let text = run(vigie().arg("simulate").arg(oracle("scenario_w3.toml")).args([
        "--replications",
        "2",
        "--policy",
        "priority,edf",
    ]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("policy priority") && text.contains("policy edf"), "{text}");
    assert!(text.contains("against priority on the same tickets"), "{text}");
    // The paired differences are in the JSON too.
    assert!(runs[1]["versus_first"]["sla_share"]["mean"].is_number());
    assert!(runs[0].get("versus_first").is_none());
    assert!(text.contains("open tickets at the start of each day (mean over the replications"), "{text}");
}

#[test]
fn a_history_becomes_a_what_if_with_a_threshold() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let tickets = generate(scratch.path(), 20_000, 2);
    std::fs::write(scratch.path().join("handle_time.csv"), "category,minutes\n*,20\nbilling,35\n").expect("write");
    let written = scratch.path().join("built.toml");
    let page = scratch.path().join("what-if.html");
    let out = run(vigie()
        .arg("simulate")
        .arg("--from-history")
        .arg(&tickets)
        .args(["--weeks", "4", "--horizon-days", "14", "--replications", "8", "--threshold", "50"])
        .args(["--add", "Mon-Fri 08:00-12:00 2", "--policy", "priority,vigie", "--format", "html", "--write-scenario"])
        .arg(&written)
        .arg("--out")
        .arg(&page));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("tickets.csv: no shifts given: the capacity the history shows"), "{said}");
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.contains("<svg") && html.contains("Open tickets, day by day"), "the chart");
    for external in ["src=", "href=", "url("] {
        assert!(!html.contains(external), "the page fetches nothing ({external})");
    }
    assert!(
        html.contains("Back to 50 open tickets or fewer") || html.contains("were above 50 at the end"),
        "the answer"
    );
    // The scenario written reads back, and runs to the same results.
    let scenario = std::fs::read_to_string(&written).expect("the scenario");
    assert!(
        scenario.contains("[[backlog]]") && scenario.contains("name = \"added Mon-Fri 08:00-12:00 2\""),
        "{scenario}"
    );
    let from_file = json(&run(vigie().arg("simulate").arg(&written).args([
        "--replications",
        "8",
        "--threshold",
        "50",
        "--format",
        "json",
    ])));
    let direct = json(&run(vigie()
        .arg("simulate")
        .arg("--from-history")
        .arg(&tickets)
        .args(["--weeks", "4", "--horizon-days", "14", "--replications", "8", "--threshold", "50"])
        .args(["--add", "Mon-Fri 08:00-12:00 2", "--format", "json"])));
    assert_eq!(from_file["summary"], direct["summary"]);
    assert_eq!(from_file["threshold"], direct["threshold"]);
    assert_eq!(direct["threshold"]["threshold"], 50);
    // Classes by category: the largest three and the rest, each with its resolution target.
    let by_category = json(&run(vigie()
        .arg("simulate")
        .arg("--from-history")
        .arg(&tickets)
        .args(["--classes", "category", "--groups", "3", "--sla-target", "resolution", "--replications", "2"])
        .args(["--format", "json"])));
    let classes = by_category["summary"].as_object().expect("classes");
    assert_eq!(classes.len(), 5, "three categories, the others, ALL: {:?}", classes.keys().collect::<Vec<_>>());
    assert!(classes.contains_key("other categories"));
    // The open tickets at the start are the history's open tickets at its export.
    let report = json(&run(vigie().arg("report").arg(&tickets).args(["--format", "json"])));
    let open = report["backlog"]["count"].as_f64().expect("open in the report");
    assert_eq!(direct["daily_backlog"][0]["mean"].as_f64(), Some(open));
}

#[test]
fn bad_input_is_named_and_refused() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("scenario.toml");
    let w3 = std::fs::read_to_string(oracle("scenario_w3.toml")).expect("W3");
    let refused = |text: &str, extra: &[&str]| common::refused("simulate", &file, text, extra);
    // The first rate of P1 made negative.
    let negative = {
        let list = w3.find("arrivals_per_hour = [").expect("rates");
        let first = list + w3[list..].find("3.2861").expect("the first rate");
        format!("{}-2.5{}", &w3[..first], &w3[first + "3.2861".len()..])
    };
    let said = refused(&negative, &[]);
    assert!(said.contains("scenario.toml: class[0] (P1).arrivals_per_hour[0] (Mon 00:00): a rate must be"), "{said}");
    let said = refused(&format!("{w3}\n[[backlog]]\nclass = \"P7\"\ncount = 1\nage_minutes = 5\n"), &[]);
    assert!(said.contains("backlog[0].class: \"P7\" is not a class of the scenario (P1, P2, P3, P4)"), "{said}");
    let said = refused("format = \"vigie-sim-scenario/1\"\nname = [", &[]);
    assert!(said.contains("line 2"), "{said}");
    let said = refused(&w3, &["--policy", "random"]);
    assert!(said.contains("--policy: \"random\" is not a policy"), "{said}");
    let said = refused(&w3, &["--replications", "0"]);
    assert!(said.contains("--replications must be from 1 to 100000 (found 0)"), "{said}");
    let missing = vigie().args(["simulate", "/nonexistent/scenario.toml"]).output().expect("runs");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/scenario.toml"));

    // A shift added to a scenario file shortens the waits; shifts are read from a scenario.
    let base = json(&run(vigie().arg("simulate").arg(oracle("scenario_w3.toml")).args([
        "--replications",
        "4",
        "--format",
        "json",
    ])));
    let more = json(&run(vigie().arg("simulate").arg(oracle("scenario_w3.toml")).args([
        "--replications",
        "4",
        "--format",
        "json",
        "--add",
        "Mon-Fri 08:00-12:00 4",
    ])));
    let wait = |doc: &serde_json::Value| doc["summary"]["P4"]["mean_wait"]["mean"].as_f64().expect("a wait");
    assert!(wait(&more) < wait(&base) * 0.8, "{} vs {}", wait(&more), wait(&base));
    let said = refused(&w3, &["--add", "Mon 08:00-12:00"]);
    assert!(said.contains("--add \"Mon 08:00-12:00\": three parts are needed"), "{said}");

    // Warnings to a standard error nobody reads (a closed pipe) do not turn into a panic.
    std::fs::write(&file, w3.replace("days = [\"Sat\", \"Sun\"]", "days = [\"Sat\"]")).expect("write");
    let mut child = vigie()
        .arg("simulate")
        .arg(&file)
        .args(["--replications", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vigie simulate");
    drop(child.stderr.take());
    assert!(child.wait().expect("exit").success(), "a closed standard error is not a failure");

    // A day nobody works is allowed, and said.
    let no_sunday = w3
        .replace(
            "days = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]",
            "days = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\"]",
        )
        .replace("days = [\"Sat\", \"Sun\"]", "days = [\"Sat\"]");
    std::fs::write(&file, no_sunday).expect("write");
    let output = vigie().arg("simulate").arg(&file).args(["--replications", "2"]).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("warning: ") && said.contains("shift (Sun): no agent is on duty at any time on Sun"),
        "{said}"
    );
}
