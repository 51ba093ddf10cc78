//! `vigie dedup` on generated histories, scored by the peers' own scorer against the planted
//! pairs, and on bad input.

mod common;

use std::process::Command;

use common::{generate, oracle, python, refused, run};

fn vigie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
}

#[test]
fn finds_the_planted_near_duplicates() {
    let scratch = tempfile::tempdir().expect("scratch");
    let tickets = generate(scratch.path(), 20_000, 2);
    let found = scratch.path().join("found.csv");
    let output = run(vigie().arg("dedup").arg(&tickets).arg("--output").arg(&found));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("dedup: 20000 tickets"), "{said}");
    let text = std::fs::read_to_string(&found).expect("pairs");
    assert!(text.starts_with("id_a,id_b,score\n"));
    for line in text.lines().skip(1).take(50) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert!(fields[0] < fields[1], "{line}");
        let score: f64 = fields[2].parse().expect("score");
        assert!((0.7..=1.0).contains(&score), "{line}");
    }
    let scored = run(Command::new(python())
        .arg(oracle("score_dedup.py"))
        .arg(&found)
        .arg(scratch.path().join("dup_pairs.csv"))
        .arg("--json"));
    let score: serde_json::Value = serde_json::from_slice(&scored.stdout).expect("score JSON");
    let (precision, recall) = (score["precision"].as_f64().expect("p"), score["recall"].as_f64().expect("r"));
    assert!(precision >= 0.95 && recall >= 0.9, "{score}");

    // The same pairs whatever the threads; JSON groups them.
    let one = run(vigie().arg("dedup").arg(&tickets).args(["--threads", "1"]));
    assert_eq!(String::from_utf8_lossy(&one.stdout), text);
    let json = run(vigie().arg("dedup").arg(&tickets).args(["--format", "json", "--threshold", "0.9"]));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(document["tickets"], 20_000);
    let groups = document["groups"].as_array().expect("groups");
    assert!(!groups.is_empty());
    let largest = &groups[0];
    assert!(largest["size"].as_u64().expect("size") >= 2);
    assert!(!largest["name"].as_str().expect("name").is_empty(), "{largest}");
    assert!(document["pairs"].as_array().expect("pairs").iter().all(|p| p["score"].as_f64() >= Some(0.9)));
}

#[test]
fn odd_bodies_are_compared_without_trouble() {
    let scratch = tempfile::tempdir().expect("scratch");
    let file = scratch.path().join("tickets.csv");
    let header = "id,created_at,first_response_at,resolved_at,status,priority,category,channel,customer_id,customer_tier,team,assignee,subject,body,csat,tags\n";
    let row = |id: &str, subject: &str, body: &str| {
        format!("{id},2025-01-01T00:00:00Z,,,new,P3,billing,email,C1,standard,,,{},{},,\n", quote(subject), quote(body))
    };
    let invoice = "I cannot download my invoice from the portal, the PDF link shows an error every time I try.";
    // Over a megabyte, every word another.
    let huge: String = (0..150_000).map(|i| format!("word{i} ")).collect();
    let mut text = header.to_owned();
    text += &row("T1", "Invoice download", invoice);
    text += &row(
        "T2",
        "RE: Invoice download",
        &format!("<html><body><p>{invoice}</p><blockquote>old</blockquote></body></html>"),
    );
    text += &row("T3", "", "");
    text += &row("T4", "Привет 🎉 你好", "مرحبا");
    text += &row("T5", "big", &huge);
    text += &row("T6", "big again", &huge);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(
        b"T7,2025-01-01T00:00:00Z,,,new,P3,billing,email,C1,standard,,,junk,\"\xff\xfe\x00\x01 binary\",,\n",
    );
    std::fs::write(&file, bytes).expect("write");
    let output = run(vigie().arg("dedup").arg(&file));
    let pairs = String::from_utf8_lossy(&output.stdout);
    assert!(pairs.contains("T1,T2,1.000"), "an HTML reply to the same text is the same text: {pairs}");
    assert!(pairs.contains("T5,T6,"), "{pairs}");
    assert_eq!(pairs.lines().count(), 3, "{pairs}");
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[test]
fn bad_arguments_and_files_are_refused_by_name() {
    let scratch = tempfile::tempdir().expect("scratch");
    let file = scratch.path().join("tickets.csv");
    let said = refused("dedup", &file, "id,subject\nT1,hello\n", &["--threshold", "1.5"]);
    assert!(said.contains("--threshold: 1.5 is not in (0, 1]"), "{said}");
    let said = refused("dedup", &file, "id,subject\nT1,hello\n", &["--threshold", "0"]);
    assert!(said.contains("--threshold"), "{said}");
    let said = refused("dedup", &file, "", &[]);
    assert!(said.contains("empty"), "{said}");
    let said = refused("dedup", &file, "subject,body\nhello,world\n", &[]);
    assert!(said.contains("id"), "{said}");
    let missing = scratch.path().join("missing.csv");
    let output = vigie().arg("dedup").arg(&missing).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open"));
}
