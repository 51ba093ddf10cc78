//! `vigie staffing` against its oracle, `erlangc_reference.py` (W2, copied into bench/oracle):
//! on the year of half-hour arrivals of `gen_arrivals.py --seed 1`, every interval's raw agents
//! and agents with shrinkage are equal (the output is byte for byte the reference's); and bad
//! input is refused with the place named.
//!
//! Needs `VIGIE_PYTHON` (numpy, for the generator).

mod common;

use std::process::Command;

use common::{oracle, python, run};

const ARGS: [&str; 12] = [
    "--aht-seconds",
    "300",
    "--target-sl",
    "0.8",
    "--target-seconds",
    "20",
    "--interval-minutes",
    "30",
    "--shrinkage",
    "0.3",
    "--max-occupancy",
    "0.85",
];

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

#[test]
fn every_interval_of_a_year_is_staffed_as_the_reference_does() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let arrivals = scratch.path().join("arrivals.csv");
    run(Command::new(python()).arg(oracle("gen_arrivals.py")).args(["--seed", "1", "-o"]).arg(&arrivals));
    let ours = scratch.path().join("vigie.csv");
    run(vigie().arg("staffing").arg(&arrivals).args(ARGS).args(["--format", "csv", "--out"]).arg(&ours));
    let reference = scratch.path().join("reference.csv");
    let compared = run(Command::new(python())
        .arg(oracle("erlangc_reference.py"))
        .arg(&arrivals)
        .args(ARGS)
        .arg("-o")
        .arg(&reference)
        .arg("--compare")
        .arg(&ours));
    let said = String::from_utf8_lossy(&compared.stdout);
    assert!(said.contains("17520 intervals, raw_agents differ in 0, agents_with_shrinkage differ in 0"), "{said}");
    let (ours, reference) =
        (std::fs::read_to_string(&ours).expect("ours"), std::fs::read_to_string(&reference).expect("ref"));
    assert!(ours == reference, "the outputs differ");
    // No arrivals, no agent.
    assert!(ours.lines().filter(|l| l.contains(",0,0.0,0,0,")).count() >= 1);
}

#[test]
fn bad_input_is_named_and_refused() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("arrivals.csv");
    let refused = |text: &str, extra: &[&str]| common::refused("staffing", &file, text, extra);
    let said = refused("interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:00:00Z,4\n", &[]);
    assert!(said.contains("arrivals.csv:3: interval 2025-01-01T00:00:00Z is listed twice"), "{said}");
    let said = refused("interval_start,count\n2025-01-01T00:00:00Z,-2\n", &[]);
    assert!(said.contains("arrivals.csv:2: count `-2`"), "{said}");
    let said = refused("interval_start,count\n2025-01-01T00:00:00Z,2\n", &["--shrinkage", "1.2"]);
    assert!(said.contains("--shrinkage"), "{said}");
    let said = refused("interval_start,count\n2025-01-01T00:00:00Z,2\n", &["--target-sl=-0.8"]);
    assert!(said.contains("--target-sl") && said.contains("-0.8"), "{said}");
    // A gap is told, and staffed as nothing.
    std::fs::write(
        &file,
        "interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T00:30:00Z,2\n2025-01-01T01:30:00Z,0\n",
    )
    .expect("write");
    let output = vigie().arg("staffing").arg(&file).args(["--format", "json"]).output().expect("vigie staffing");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("warning: "), "a gap is told");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["intervals"][2]["agents_with_shrinkage"], 0);
    // Rows never one interval apart: another interval than the one given, refused.
    let said = refused("interval_start,count\n2025-01-01T00:00:00Z,3\n2025-01-01T01:00:00Z,0\n", &[]);
    assert!(said.contains("no two rows are one interval (30 min) apart (the first two are 60 min)"), "{said}");
}

#[test]
fn back_office_work_is_staffed_against_its_deadlines() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("daily.csv");
    // Monday 36 one-hour tickets, Tuesday none, Wednesday 72: due 24 h after the middle of the day.
    std::fs::write(
        &file,
        "interval_start,count\n2026-03-02T00:00:00Z,36\n2026-03-03T00:00:00Z,0\n2026-03-04T00:00:00Z,72\n",
    )
    .expect("write");
    let args = ["--model", "workload", "--aht-seconds", "3600", "--interval-minutes", "1440", "--shrinkage", "0"];
    let out = run(vigie().arg("staffing").arg(&file).args(args).args(["--sla-hours", "24", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Wednesday's 72 hours from Wednesday 00:00 to Thursday 12:00 (36 hours): 2 agents.
    assert_eq!(doc["agents"], 2);
    assert_eq!(doc["binding"], "2026-03-04T00:00:00Z");
    // Tuesday has no work of its own; the window from Monday to its deadline (60 h) has 36.
    assert_eq!(doc["intervals"][1]["agents_needed"], 0.6);
    // Open 08:00-16:00 only, the SLA in calendar hours: Wednesday 8 h + Thursday 08:00-12:00
    // 4 h = 12 h: 6 agents.
    let office = ["--open", "Mon-Fri 08:00-16:00"];
    let out =
        run(vigie().arg("staffing").arg(&file).args(args).args(office).args(["--sla-hours", "24", "--sla-calendar"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("6 agents on duty whenever the team is open (40 hours a week"), "{text}");
    // In open hours (the default with --open), Wednesday's work is due 24 open hours after
    // its middle: Monday 12:00; 8 + 8 + 8 + 4 = 28 open hours for 72: 3 agents.
    let out = run(vigie().arg("staffing").arg(&file).args(args).args(office).args(["--sla-hours", "24"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 agents on duty") && text.contains("24 open hours"), "{text}");
    // Work due while the team is closed is said; a bad opening is refused.
    let out = run(vigie().arg("staffing").arg(&file).args(args).args(["--open", "Sat 08:00-16:00", "--sla-calendar"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no number of agents meets that deadline"));
    let said = common::refused(
        "staffing",
        &file,
        "interval_start,count\n2026-03-02T00:00:00Z,1\n",
        &["--model", "workload", "--open", "Someday 08:00-16:00"],
    );
    assert!(said.contains("--open \"Someday 08:00-16:00\": \"Someday\" is not a day"), "{said}");
}
