use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use vigie_core::operations::{Level, Threshold};
use vigie_server::backlog::Dashboard;
use vigie_server::settings::{Figure, Operations};

use crate::helpers::TestApp;

on_both_backends!(the_backlog_follows_every_change, the_backlog_survives_a_restart, thresholds_set_the_levels);

async fn create(app: &TestApp, overrides: Value) -> String {
    app.create(&app.lead, overrides).await.expect(201).body["id"].as_str().expect("id").to_owned()
}

async fn the_backlog_follows_every_change(app: TestApp) {
    app.get("/api/v1/backlog", "nope").await.problem(401, None);
    let empty = app.get("/api/v1/backlog", &app.viewer).await.expect(200).body;
    assert_eq!(empty["schema"], "vigie.backlog.v1");
    assert_eq!(empty["backlog"]["count"], 0);
    assert_eq!(empty["backlog"]["age_minutes"]["p50"], Value::Null);
    assert_eq!(empty["backlog"]["age_buckets"], json!({"<4h": 0, "4h-24h": 0, "1d-3d": 0, "3d-7d": 0, ">=7d": 0}));

    let start = Timestamp::from_second(1_780_000_000).expect("valid");
    app.set_now(start);
    let first = create(&app, json!({"priority": "P2"})).await;
    create(&app, json!({"priority": "P3"})).await;
    create(&app, json!({"priority": "P3", "team": "back_office", "category": "access"})).await;
    app.post(&format!("/api/v1/tickets/{first}/comments"), &app.agent, json!({"body": "Refunded.", "public": true}))
        .await
        .expect(201);
    app.patch(&format!("/api/v1/tickets/{first}"), &app.lead, Some("*"), json!({"status": "solved"})).await.expect(200);

    let body = app.get("/api/v1/backlog", &app.viewer).await.expect(200).body;
    let backlog = &body["backlog"];
    assert_eq!(backlog["count"], 2);
    assert_eq!(backlog["by_priority"], json!({"P3": 2}));
    assert_eq!(backlog["by_team"], json!({"back_office": 1, "front_office": 1}));
    assert_eq!(backlog["by_category"], json!({"access": 1, "billing": 1}));
    assert_eq!(backlog["by_status"], json!({"new": 2}));
    assert_eq!(backlog["hours_of_work"], 1.0, "two tickets of 30 minutes");
    assert_eq!(backlog["age_buckets"]["<4h"], 2);
    assert_eq!(body["flow"]["today"]["inflow"], 3);
    assert_eq!(body["flow"]["today"]["outflow"], 1);
    assert_eq!(body["sla"]["by_category_priority"]["billing"]["P2"]["frt"]["met"], 1);
    assert_eq!(body["sla"]["by_category_priority"]["billing"]["P2"]["resolution"]["met"], 1);
    assert_eq!(body["sla"]["first_response_overdue"], 0);

    // Two hours on: both unanswered tickets are past their first-response hour.
    app.set_now(start + SignedDuration::from_hours(2));
    let body = app.get("/api/v1/backlog", &app.viewer).await.expect(200).body;
    assert_eq!(body["sla"]["first_response_overdue"], 2);
    assert_eq!(
        body["sla"]["by_category_priority"]["billing"]["P3"]["frt"],
        json!({"met": 0, "breached": 1, "running": 0, "compliance": 0.0})
    );
    assert_eq!(body["backlog"]["past_resolution_target"], Value::Null, "not a field of the report's backlog");
    // 23h30 after creation: within the hour of the resolution deadline (a day).
    app.set_now(start + SignedDuration::from_mins(23 * 60 + 30));
    let body = app.get("/api/v1/backlog", &app.viewer).await.expect(200).body;
    let at_risk = body["sla"]["at_risk"].as_array().expect("a list");
    assert_eq!(at_risk.len(), 2, "{at_risk:?}");
    let left = at_risk[0]["minutes_left"].as_f64().expect("minutes");
    assert!((30.0..31.0).contains(&left), "{left}");
    assert_eq!(body["backlog"]["age_buckets"]["4h-24h"], 2);
    // Four weeks and a day later the window holds none of them, and both are past target.
    let later = start + SignedDuration::from_hours(29 * 24);
    app.set_now(later);
    let body = app.get("/api/v1/backlog", &app.viewer).await.expect(200).body;
    assert_eq!(body["sla"]["by_category_priority"], json!({}));
    assert_eq!(body["backlog"]["age_buckets"][">=7d"], 2);
    let dashboard = Dashboard::at(&app.state, later);
    assert_eq!(dashboard.live.backlog.past_resolution_target, 2);
}

async fn the_backlog_survives_a_restart(app: TestApp) {
    let start = Timestamp::from_second(1_780_000_000).expect("valid");
    app.set_now(start);
    for priority in ["P1", "P2", "P3", "P4"] {
        create(&app, json!({"priority": priority})).await;
    }
    let solved = create(&app, json!({"priority": "P2", "team": "back_office"})).await;
    app.patch(&format!("/api/v1/tickets/{solved}"), &app.lead, Some("*"), json!({"status": "solved"}))
        .await
        .expect(200);
    let at = start + SignedDuration::from_hours(3);
    let before = Dashboard::at(&app.state, at);
    let restarted = app.restarted().await;
    let after = Dashboard::at(&restarted, at);
    assert_eq!(after, before, "rebuilt from the store: the open tickets and the ones resolved recently");
    assert_eq!(after.today.outflow, 1);
}

async fn thresholds_set_the_levels(app: TestApp) {
    let start = Timestamp::from_second(1_780_000_000).expect("valid");
    app.set_now(start);
    let mut operations = Operations::default();
    operations.thresholds.insert(Figure::BacklogCount, Threshold { amber: Some(2.0), red: Some(3.0) });
    let state = app.state.clone().with_operations(operations);
    let level = |state: &vigie_server::AppState| Dashboard::at(state, start).figures[&Figure::BacklogCount].1;
    create(&app, json!({})).await;
    assert_eq!(level(&state), Level::Ok);
    create(&app, json!({})).await;
    assert_eq!(level(&state), Level::Amber);
    create(&app, json!({})).await;
    assert_eq!(level(&state), Level::Red);
    // No roster: no capacity, and work waiting is as bad as it gets.
    let dashboard = Dashboard::at(&state, start);
    assert_eq!(dashboard.capacity.hours_of_work_vs_remaining, None);
    assert_eq!(dashboard.figures[&Figure::HoursOfWorkVsCapacity].0, f64::INFINITY);
    assert_eq!(dashboard.to_json()["figures"]["hours_of_work_vs_capacity"]["value"], Value::Null);
}
