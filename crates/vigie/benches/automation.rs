//! The time rules at scale (issue 8's bar): one pass of 50 time rules over 1,000,000 open
//! tickets must take under a second, so that evaluating them every minute holds at that size.
//!
//! Measured: the evaluation alone (every rule tried on every open ticket of the live state, in
//! memory: what each minute costs when nothing is due), then whole passes through
//! `vigie_server::automation::pass` on a real SQLite store holding the million tickets: the
//! first (every match fired: one `Automate` command each, through the write path) and the next
//! (nothing left to fire).
//!
//! Run: `cargo bench -p vigie --bench automation`. `VIGIE_BENCH_TICKETS` sets the size (default
//! 1,000,000).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use vigie_core::Ticket;
use vigie_core::automation::AutomationRule;
use vigie_server::AppState;
use vigie_server::rules::{RulesDocument, RulesHandle};
use vigie_testdb::{Backend, TestDb};

const RULES: &str = include_str!("../src/rules.example.toml");
use common::{AGENTS_PER_TEAM, CATEGORIES, TEAMS};

const N_RULES: usize = 50;

fn main() {
    let n_tickets: usize = std::env::var("VIGIE_BENCH_TICKETS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(bench(n_tickets));
}

/// Fifty time rules of five shapes, each shape with its own teams, categories and thresholds:
/// business-hours waits on the office calendar, calendar waits, tags, SLA states, flags.
fn rules_document() -> RulesDocument {
    let mut document = RulesDocument::from_toml(RULES).expect("the example rules parse");
    let rules: Vec<Value> = (0..N_RULES)
        .map(|i| {
            let (team, category) = (TEAMS[i % TEAMS.len()], CATEGORIES[i % CATEGORIES.len()]);
            let (conditions, actions) = match i % 5 {
                0 => (
                    json!([{"field": "status", "is": ["pending_customer"]},
                           {"since": "status_changed", "hours": 250 + i, "calendar": "paris-office"}]),
                    json!([{"message_customer": "pending-reminder"}]),
                ),
                1 => (
                    json!([{"field": "status", "is": ["new", "open"]}, {"field": "priority", "is": ["P4"]},
                           {"since": "created", "hours": 2000 + 10 * i}, {"no_tag": format!("stale-{i}")}]),
                    json!([{"add_tag": format!("stale-{i}")}]),
                ),
                2 => (
                    json!([{"field": "category", "is": [category]}, {"field": "team", "is": [team]},
                           {"since": "updated", "hours": 1000 + i, "calendar": "paris-office"}]),
                    json!([{"notify_team": "ticket", "template": "escalation"}]),
                ),
                3 => (
                    json!([{"sla": ["breached"]}, {"field": "customer_tier", "is": ["strategic"]},
                           {"field": "category", "is": [category]}, {"since": "created", "hours": 1},
                           {"no_tag": format!("breach-{i}")}]),
                    json!([{"add_tag": format!("breach-{i}")}, {"set": "priority", "to": "P1"}]),
                ),
                _ => (
                    json!([{"field": "status", "is_not": ["pending_customer"]}, {"field": "legal_risk", "set": true},
                           {"field": "team", "is": [team]}, {"since": "created", "hours": 720}]),
                    json!([{"notify_team": "legal", "template": "escalation"}]),
                ),
            };
            json!({"name": format!("rule-{i:02}"), "on": ["time"], "conditions": conditions, "actions": actions})
        })
        .collect();
    document.automations = serde_json::from_value(Value::Array(rules)).expect("rules");
    // The wait notices are measured apart (`waits_over`): a first pass would tell most of a
    // million customers, which is not what a minute costs.
    document.notices = Default::default();
    document
}

async fn bench(n_tickets: usize) {
    let document = rules_document();
    let rules = Arc::new(document.to_rules().expect("the bench's rules hold"));
    let time_rules: Vec<&AutomationRule> = rules.automations.time_rules().collect();
    assert_eq!(time_rules.len(), N_RULES);
    let now = Timestamp::now();
    let tickets: Vec<Ticket> = common::synthetic(&rules, n_tickets, now, "A", false).collect();

    // The evaluation alone, on a live state built from the tickets in memory.
    let live = vigie_server::live::LiveState::new(rules.clone());
    for ticket in &tickets {
        live.apply(ticket, 1, now);
    }
    let mut times = Vec::new();
    let mut matched = 0;
    for _ in 0..5 {
        let started = Instant::now();
        matched = live.automation_matches(&time_rules, now).len();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "evaluation of {N_RULES} time rules over {} open tickets: median {:.0} ms (min {:.0}, max {:.0}); {matched} \
         (ticket, rule) matches — bar: a pass under 1 s",
        live.len(),
        ms(times[2]),
        ms(times[0]),
        ms(times[4])
    );
    drop(live);

    // Whole passes, on a real store.
    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite");
    let store = db.open().await;
    common::directory(&store, None, now).await;
    let started = Instant::now();
    for chunk in tickets.chunks(10_000) {
        store.load_tickets(chunk, "bench").await.expect("loaded");
    }
    println!("loaded {} tickets into SQLite in {:.1} s", tickets.len(), started.elapsed().as_secs_f64());
    drop(tickets);
    let clock: vigie_server::Clock = Arc::new(move || now);
    let state = AppState::start(store.clone(), clock, RulesHandle::fixed(document).expect("valid"))
        .await
        .expect("the app starts");
    // The wait notices of the example rules: each team's queue walked in order.
    let example = RulesDocument::from_toml(RULES).expect("parses").to_rules().expect("holds");
    let mut times = Vec::new();
    let mut waiting = 0;
    for _ in 0..5 {
        let started = Instant::now();
        waiting = state.live.waits_over(&example.automations.notices, &rules, now).len();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "wait notices over {} open tickets ({} agents): median {:.0} ms; {waiting} customers would be told",
        state.live.len(),
        TEAMS.len() * AGENTS_PER_TEAM,
        ms(times[2])
    );
    for label in ["first pass (fires every match)", "next pass (nothing left to fire)"] {
        let started = Instant::now();
        let summary = vigie_server::automation::pass(&state, now).await.expect("a pass");
        println!(
            "{label}: {:.2} s in all ({:.0} ms evaluating); {} matched, {} fired, {} failed",
            started.elapsed().as_secs_f64(),
            ms(summary.evaluation),
            summary.matched,
            summary.fired,
            summary.failed
        );
    }
    let outbox = store.outbox(None, 1).await.expect("the outbox");
    println!("outbox: latest message {:?}", outbox.first().map(|m| (&m.delivery_key, &m.subject)));
    store.close().await;
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
