use serde_json::json;

use crate::helpers::TestApp;

async fn create(app: &TestApp, fields: serde_json::Value) -> String {
    app.create(&app.lead, fields).await.expect(201).body["id"].as_str().expect("id").to_owned()
}

/// A front office ticket, a back office one and a closed one.
async fn front_back_and_closed(app: &TestApp) -> (String, String, String) {
    let first = create(app, json!({})).await;
    let second = create(app, json!({"team": "back_office"})).await;
    let closed = create(app, json!({})).await;
    for status in ["solved", "closed"] {
        app.patch(&format!("/api/v1/tickets/{closed}"), &app.lead, Some("*"), json!({"status": status}))
            .await
            .expect(200);
    }
    (first, second, closed)
}

/// One change to many tickets, with a result per ticket: a refused ticket does not stop the
/// others.
async fn bulk_changes_report_each_ticket(app: TestApp) {
    let (first, second, closed) = front_back_and_closed(&app).await;
    let report = app
        .post(
            "/api/v1/tickets/bulk",
            &app.lead,
            json!({"ids": [first, second, closed, "T-404"], "changes": {"status": "pending_internal", "tags": ["batch"]}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (report["n_tickets"].as_u64(), report["n_changed"].as_u64(), report["n_failed"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    let results = report["results"].as_array().expect("results");
    assert_eq!(
        (results[0]["id"].as_str(), results[0]["status"].as_u64(), results[0]["version"].as_i64()),
        (Some(first.as_str()), Some(200), Some(2))
    );
    assert_eq!(results[1]["status"], 200);
    assert_eq!(results[2]["status"], 422);
    assert_eq!(results[2]["problem"]["errors"][0]["field"], "status");
    assert_eq!(results[3]["status"], 404);
    let ticket = app.get(&format!("/api/v1/tickets/{first}"), &app.lead).await.expect(200).body;
    assert_eq!((ticket["status"].as_str(), ticket["tags"].clone()), (Some("pending_internal"), json!(["batch"])));

    // The same again changes nothing.
    let again = app
        .post("/api/v1/tickets/bulk", &app.lead, json!({"ids": [first], "changes": {"status": "pending_internal"}}))
        .await
        .expect(200)
        .body;
    assert_eq!((again["n_changed"].as_u64(), again["n_unchanged"].as_u64()), (Some(0), Some(1)));

    // An agent changes only the tickets of their teams: the others are not found.
    let scoped = app
        .post("/api/v1/tickets/bulk", &app.agent, json!({"ids": [first, second], "changes": {"priority": "P1"}}))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (scoped["results"][0]["status"].as_u64(), scoped["results"][1]["status"].as_u64()),
        (Some(200), Some(404))
    );
}

/// Bulk changes by filter, with the filters of the list (the SLA ones included).
async fn bulk_changes_by_filter(app: TestApp) {
    let start: jiff::Timestamp = "2026-06-01T08:00:00Z".parse().expect("valid");
    app.set_now(start);
    let late = create(&app, json!({"priority": "P3"})).await;
    app.set_now(start.checked_add(jiff::SignedDuration::from_mins(120)).expect("in range"));
    let fresh = create(&app, json!({"priority": "P3"})).await;
    let other_team = create(&app, json!({"priority": "P3", "team": "back_office"})).await;
    let report = app
        .post(
            "/api/v1/tickets/bulk",
            &app.lead,
            json!({"filter": {"sla_state": "breached"}, "changes": {"priority": "P2"}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["n_changed"], 1);
    assert_eq!(report["results"][0]["id"], late.as_str());
    let report = app
        .post(
            "/api/v1/tickets/bulk",
            &app.lead,
            json!({"filter": {"team": "front_office", "priority": ["P3"]}, "changes": {"assignee": "ana"}}),
        )
        .await
        .expect(200)
        .body;
    let ids: Vec<&str> =
        report["results"].as_array().expect("results").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, [fresh.as_str()]);
    let _ = other_team;
    // Without a status, a filter changes open tickets only: a solved one keeps its history.
    let solved = create(&app, json!({"priority": "P3"})).await;
    app.patch(&format!("/api/v1/tickets/{solved}"), &app.lead, Some("*"), json!({"status": "solved"}))
        .await
        .expect(200);
    let report = app
        .post("/api/v1/tickets/bulk", &app.lead, json!({"filter": {"priority": "P3"}, "changes": {"tags": ["seen"]}}))
        .await
        .expect(200)
        .body;
    let ids: Vec<&str> =
        report["results"].as_array().expect("results").iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(!ids.contains(&solved.as_str()), "{ids:?}");
}

/// Every kind of bad bulk request is refused before anything changes.
async fn bad_bulk_requests_change_nothing(app: TestApp) {
    let id = create(&app, json!({})).await;
    let cases = [
        (json!({"ids": [id], "filter": {}, "changes": {}}), 422, Some("ids")),
        (json!({"changes": {"priority": "P1"}}), 422, Some("ids")),
        (json!({"ids": [], "changes": {"priority": "P1"}}), 422, Some("ids")),
        (json!({"ids": [id, id], "changes": {"priority": "P1"}}), 422, Some("ids[1]")),
        (json!({"ids": ["a b"], "changes": {"priority": "P1"}}), 422, Some("ids[0]")),
        (json!({"filter": {"colour": "red"}, "changes": {"priority": "P1"}}), 422, Some("filter.colour")),
        (json!({"filter": {"priority": "P9"}, "changes": {"priority": "P1"}}), 422, Some("filter.priority")),
        (json!({"filter": {"priority": 3}, "changes": {"priority": "P1"}}), 422, Some("filter.priority")),
        (
            json!({"filter": {"status": "closed", "sla_state": "met"}, "changes": {"priority": "P1"}}),
            422,
            Some("filter.status"),
        ),
        (json!({"ids": [id], "changes": {"priority": "P9"}}), 422, Some("changes.priority")),
        (json!({"ids": [id], "changes": {"colour": "red"}}), 400, Some("changes.colour")),
    ];
    for (body, status, field) in cases {
        app.post("/api/v1/tickets/bulk", &app.lead, body).await.problem(status, field);
    }
    let too_many: Vec<String> = (0..10_001).map(|n| format!("T-{n}")).collect();
    app.post("/api/v1/tickets/bulk", &app.lead, json!({"ids": too_many, "changes": {"priority": "P1"}}))
        .await
        .problem(422, Some("ids"));
    app.post("/api/v1/tickets/bulk", &app.viewer, json!({"ids": [id], "changes": {"priority": "P1"}}))
        .await
        .problem(403, None);
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), &app.lead).await.expect(200).body;
    assert_eq!((ticket["version"].as_i64(), ticket["priority"].as_str()), (Some(1), Some("P2")));
}

/// A batch of similar tickets answered with one reply: each ticket gets it as its own comment,
/// then the changes; a refused ticket does not stop the others.
async fn one_reply_answers_a_batch(app: TestApp) {
    let (first, second, closed) = front_back_and_closed(&app).await;
    let reply = "We know of the problem and a fix is on its way.";
    let report = app
        .post(
            "/api/v1/tickets/bulk",
            &app.lead,
            json!({"ids": [first, second, closed, "T-404"], "reply": {"body": reply, "public": true}, "changes": {"status": "pending_third_party"}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!((report["n_changed"].as_u64(), report["n_failed"].as_u64()), (Some(2), Some(2)), "{report}");
    let results = report["results"].as_array().expect("results");
    assert_eq!((results[2]["status"].as_u64(), results[3]["status"].as_u64()), (Some(422), Some(404)));
    for id in [&first, &second] {
        let events = app.get(&format!("/api/v1/tickets/{id}/events"), &app.lead).await.expect(200).body;
        let items = events["items"].as_array().expect("items");
        let comment = items.iter().find(|e| e["kind"] == "comment_added").expect("its own comment");
        assert_eq!(comment["change"]["body"], reply);
        assert_eq!(comment["change"]["first_response"], true);
        let ticket = app.get(&format!("/api/v1/tickets/{id}"), &app.lead).await.expect(200).body;
        assert_eq!(ticket["status"], "pending_third_party");
        assert!(ticket["first_response_at"].is_string());
    }
    // A reply alone; and what is refused names its field.
    let report = app
        .post(
            "/api/v1/tickets/bulk",
            &app.lead,
            json!({"ids": [first], "reply": {"body": "Still on it.", "public": false}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["n_changed"], 1);
    app.post("/api/v1/tickets/bulk", &app.lead, json!({"ids": [first]})).await.problem(422, Some("changes"));
    app.post("/api/v1/tickets/bulk", &app.lead, json!({"ids": [first], "reply": {"body": " "}}))
        .await
        .problem(422, Some("reply.body"));
    app.post("/api/v1/tickets/bulk", &app.viewer, json!({"ids": [first], "reply": {"body": "x"}}))
        .await
        .problem(403, None);
}

crate::on_both_backends!(
    bulk_changes_report_each_ticket,
    bulk_changes_by_filter,
    bad_bulk_requests_change_nothing,
    one_reply_answers_a_batch
);
