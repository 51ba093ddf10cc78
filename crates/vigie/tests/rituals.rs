//! `vigie morning` and `vigie weekly` on a real store: the demo backlog's reports, as text and
//! JSON, with the example roster's capacity; a bad configuration is refused with the field named.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn example_rules(dir: &std::path::Path) -> std::path::PathBuf {
    let output = Command::new(BIN).args(["rules", "example"]).output().expect("vigie rules example");
    let path = dir.join("rules.toml");
    std::fs::write(&path, output.stdout).expect("write the rules");
    path
}

#[test]
fn the_morning_report_of_the_demo_backlog() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("vigie.db");
    let db = db.to_str().expect("a path");
    let demo = Command::new(BIN).args(["demo", "--db", db, "--tickets", "3000"]).output().expect("vigie demo");
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let rules = example_rules(scratch.path());

    let text = Command::new(BIN).args(["morning", "--db", db, "--config"]).arg(&rules).output().expect("morning");
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let text = String::from_utf8_lossy(&text.stdout);
    for heading in ["Morning report", "Backlog", "Capacity", "Urgent", "The oldest"] {
        assert!(text.contains(heading), "{heading} missing from:\n{text}");
    }

    let json = Command::new(BIN)
        .args(["morning", "--db", db, "--format", "json", "--config"])
        .arg(&rules)
        .output()
        .expect("morning");
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert!(report["backlog"]["count"].as_u64().expect("count") > 0);
    assert_eq!(report["oldest"].as_array().expect("list").len(), 10);
    // The example roster works weekdays: every weekday has capacity.
    let weekday = jiff::Zoned::now().weekday().to_monday_one_offset();
    if weekday <= 5 {
        assert!(report["capacity"]["today_hours"].as_f64().expect("hours") > 0.0, "{report}");
    }

    let weekly = Command::new(BIN).args(["weekly", "--db", db, "--format", "json"]).output().expect("weekly");
    assert!(weekly.status.success(), "{}", String::from_utf8_lossy(&weekly.stderr));
    let review: serde_json::Value = serde_json::from_slice(&weekly.stdout).expect("JSON");
    assert!(review["this_week"]["inflow"].as_u64().expect("inflow") > 0, "{review}");
    assert!(review["last_week"]["sla"]["frt"]["compliance"].as_f64().is_some(), "{review}");
    let text = Command::new(BIN).args(["weekly", "--db", db]).output().expect("weekly");
    assert!(String::from_utf8_lossy(&text.stdout).contains("Weekly review"));

    let bad = scratch.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[roster.shifts]]\nteam = \"support\"\nagents = 2\ndays = [\"someday\"]\nhours = \"09:00-17:00\"\n",
    )
    .expect("write");
    let refused = Command::new(BIN).args(["morning", "--db", db, "--config"]).arg(&bad).output().expect("morning");
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("roster.shifts[0].days[0]") && said.contains("someday"), "{said}");
}
