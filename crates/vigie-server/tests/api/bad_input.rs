use axum::body::Body;
use axum::http::{Method, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, stored_part, ticket_body};

/// Each refused create leaves the store as it was.
#[track_caller]
fn with(overrides: Value) -> Value {
    let mut body = ticket_body();
    for (key, value) in overrides.as_object().expect("an object") {
        body[key] = value.clone();
    }
    body
}

async fn raw_post(app: &TestApp, content_type: &str, bytes: Vec<u8>) -> crate::helpers::Reply {
    app.send(
        TestApp::request(Method::POST, "/api/v1/tickets", &app.lead)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes))
            .expect("a request"),
    )
    .await
}

async fn malformed_and_unreadable_bodies_are_400(app: TestApp) {
    raw_post(&app, "application/json", b"{\"subject\": ".to_vec()).await.problem(400, None);
    raw_post(&app, "application/json", b"[1, 2]".to_vec()).await.problem(400, None);
    raw_post(&app, "application/json", b"{\"subject\": \"a\xff\"}".to_vec()).await.problem(400, None);
    app.post("/api/v1/tickets", &app.lead, with(json!({"colour": "red"}))).await.problem(400, Some("colour"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"priority": 2}))).await.problem(400, Some("priority"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"tags": ["a", 3]}))).await.problem(400, Some("tags[1]"));
    raw_post(&app, "text/plain", ticket_body().to_string().into_bytes()).await.problem(415, None);
    assert_eq!(app.n_tickets().await, 0);
}

async fn out_of_range_values_are_422_naming_the_field(app: TestApp) {
    let cases = [
        (json!({"priority": "P9"}), "priority"),
        (json!({"channel": "fax"}), "channel"),
        (json!({"customer_tier": "gold"}), "customer_tier"),
        (json!({"subject": "   "}), "subject"),
        (json!({"subject": "x".repeat(501)}), "subject"),
        (json!({"subject": "two\nlines"}), "subject"),
        (json!({"body": "x".repeat(64 * 1024 + 1)}), "body"),
        (json!({"category": "two words"}), "category"),
        (json!({"customer_id": "a b"}), "customer_id"),
        (json!({"team": "nowhere"}), "team"),
        (json!({"assignee": "ghost"}), "assignee"),
        (json!({"tags": ["ok", "semi;colon"]}), "tags[1]"),
    ];
    for (overrides, field) in cases {
        app.post("/api/v1/tickets", &app.lead, with(overrides)).await.problem(422, Some(field));
    }
    let mut missing = ticket_body();
    missing.as_object_mut().expect("object").remove("channel");
    app.post("/api/v1/tickets", &app.lead, missing).await.problem(422, Some("channel"));
    assert_eq!(app.n_tickets().await, 0);
}

async fn a_body_over_the_limit_is_413(app: TestApp) {
    let huge = with(json!({"body": "x".repeat(vigie_server::MAX_BODY_BYTES + 10)}));
    app.post("/api/v1/tickets", &app.lead, huge).await.problem(413, None);
    assert_eq!(app.n_tickets().await, 0);
}

async fn refused_changes_leave_the_ticket_as_it_was(app: TestApp) {
    let created = app.create(&app.lead, json!({})).await.expect(201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    let before = app.get(&path, &app.lead).await.expect(200).body;

    app.patch(&path, &app.lead, Some("\"1\""), json!({"status": "closed"})).await.problem(422, Some("status"));
    app.patch(&path, &app.lead, Some("\"1\""), json!({"status": "done"})).await.problem(422, Some("status"));
    app.patch(&path, &app.lead, Some("\"1\""), json!({"csat": 9})).await.problem(422, Some("csat"));
    app.patch(&path, &app.lead, Some("\"1\""), json!({"team": "nowhere"})).await.problem(422, Some("team"));
    app.patch(&path, &app.lead, Some("\"1\""), json!({"subject": "no"})).await.problem(400, Some("subject"));
    app.patch(&path, &app.lead, Some("\"7\""), json!({"priority": "P1"})).await.problem(412, None);
    app.patch(&path, &app.lead, Some("banana"), json!({"priority": "P1"})).await.problem(400, Some("If-Match"));
    app.patch(&path, &app.lead, None, json!({"priority": "P1"})).await.problem(428, None);
    app.patch(&path, &app.viewer, Some("*"), json!({"priority": "P1"})).await.problem(403, None);
    app.post(&format!("{path}/comments"), &app.lead, json!({"body": " "})).await.problem(422, Some("body"));
    assert_eq!(stored_part(&app.get(&path, &app.lead).await.body), stored_part(&before));
    let events = app.get(&format!("{path}/events"), &app.lead).await.expect(200);
    assert_eq!(events.body["items"].as_array().expect("items").len(), 1);

    // Closed is final.
    app.patch(&path, &app.lead, Some("*"), json!({"status": "solved"})).await.expect(200);
    app.patch(&path, &app.lead, Some("*"), json!({"status": "closed"})).await.expect(200);
    app.patch(&path, &app.lead, Some("*"), json!({"status": "open"})).await.problem(422, Some("status"));
}

async fn unknown_ids_and_routes_are_404(app: TestApp) {
    app.get("/api/v1/tickets/T-999", &app.lead).await.problem(404, None);
    app.get("/api/v1/tickets/not%20an%20id", &app.lead).await.problem(404, None);
    app.patch("/api/v1/tickets/T-999", &app.lead, Some("*"), json!({"status": "open"})).await.problem(404, None);
    app.post("/api/v1/tickets/T-999/comments", &app.lead, json!({"body": "hi"})).await.problem(404, None);
    app.get("/api/v1/tickets/T-999/events", &app.lead).await.problem(404, None);
    app.get("/api/v1/nothing-here", &app.lead).await.problem(404, None);
}

async fn bad_list_parameters(app: TestApp) {
    app.get("/api/v1/tickets?limit=0", &app.lead).await.problem(422, Some("limit"));
    app.get("/api/v1/tickets?limit=501", &app.lead).await.problem(422, Some("limit"));
    app.get("/api/v1/tickets?status=later", &app.lead).await.problem(422, Some("status"));
    app.get("/api/v1/tickets?order=random", &app.lead).await.problem(422, Some("order"));
    app.get("/api/v1/tickets?after=garbage", &app.lead).await.problem(422, Some("after"));
    app.get("/api/v1/tickets?colour=red", &app.lead).await.problem(400, Some("colour"));
}

async fn directory_refusals(app: TestApp) {
    app.post("/api/v1/teams", &app.admin, json!({"id": "front_office", "name": "Again"})).await.problem(409, None);
    app.post("/api/v1/teams", &app.admin, json!({"id": "", "name": "x"})).await.problem(422, Some("id"));
    app.post("/api/v1/teams", &app.lead, json!({"id": "t2", "name": "x"})).await.problem(403, None);
    app.post("/api/v1/agents", &app.admin, json!({"id": "bo", "name": "Bo", "teams": ["ghosts"]}))
        .await
        .problem(422, Some("teams[0]"));
    app.post("/api/v1/customers", &app.admin, json!({"id": "c1", "name": "C", "tier": "gold"}))
        .await
        .problem(422, Some("tier"));
    let teams = app.get("/api/v1/teams", &app.viewer).await.expect(200);
    assert_eq!(teams.body["items"].as_array().expect("items").len(), 2);
}

/// NUL and other control characters never reach the database (PostgreSQL refuses NUL in text).
async fn control_characters_are_refused_by_name(app: TestApp) {
    app.post("/api/v1/tickets", &app.lead, with(json!({"subject": "a\u{0}b"}))).await.problem(422, Some("subject"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"subject": "a\u{1b}b"}))).await.problem(422, Some("subject"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"body": "a\u{0}b"}))).await.problem(422, Some("body"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"tags": ["a\u{0}"]}))).await.problem(422, Some("tags[0]"));
    app.get("/api/v1/tickets?category=%00", &app.lead).await.problem(422, Some("category"));
    app.get("/api/v1/tickets?assignee=a%00", &app.lead).await.problem(422, Some("assignee"));
    let cursor = "cXwxfDF8VC0xAA"; // base64url of "q|1|1|T-1\0"
    app.get(&format!("/api/v1/tickets?order=queue&after={cursor}"), &app.lead).await.problem(422, Some("after"));
    app.post("/api/v1/teams", &app.admin, json!({"id": "t9", "name": "a\u{0}"})).await.problem(422, Some("name"));
    assert_eq!(app.n_tickets().await, 0);
}

async fn nulls_and_odd_headers(app: TestApp) {
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    app.patch(&path, &app.lead, Some("*"), json!({"status": null})).await.problem(422, Some("status"));
    app.patch(&path, &app.lead, Some("*"), json!({"priority": null, "tags": null})).await.problem(422, Some("tags"));
    // If-Match compares strongly: a weak tag never matches; a list matches any of its tags.
    app.patch(&path, &app.lead, Some("W/\"1\""), json!({"priority": "P1"})).await.problem(412, None);
    app.patch(&path, &app.lead, Some("\"7\", \"1\""), json!({"priority": "P1"})).await.expect(200);
    let twice = TestApp::request(Method::POST, "/api/v1/tickets", &app.lead)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "a1")
        .header("Idempotency-Key", "a2")
        .body(Body::from(ticket_body().to_string()))
        .expect("a request");
    app.send(twice).await.problem(400, Some("Idempotency-Key"));
    let wrong_method = TestApp::request(Method::DELETE, &path, &app.lead).body(Body::empty()).expect("a request");
    let reply = app.send(wrong_method).await.problem(405, None);
    assert!(reply.headers.get(header::ALLOW).is_some(), "405 keeps its Allow header");
    assert_eq!(app.get(&path, &app.lead).await.body["version"], 2);
}

async fn assignees_work_for_the_tickets_team(app: TestApp) {
    app.create(&app.lead, json!({"team": "back_office", "assignee": "ana"})).await.problem(422, Some("assignee"));
    let mut no_team = ticket_body();
    no_team.as_object_mut().expect("object").remove("team");
    no_team["assignee"] = json!("ana");
    app.post("/api/v1/tickets", &app.lead, no_team).await.problem(422, Some("assignee"));
    let id =
        app.create(&app.lead, json!({"assignee": "ana"})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    // Handing it to a team Ana does not work for unassigns it.
    let handed = app
        .patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"team": "back_office"}))
        .await
        .expect(200);
    assert!(handed.body["assignee"].is_null());
    assert_eq!(app.n_tickets().await, 1);
}

crate::on_both_backends!(
    control_characters_are_refused_by_name,
    nulls_and_odd_headers,
    assignees_work_for_the_tickets_team,
    malformed_and_unreadable_bodies_are_400,
    out_of_range_values_are_422_naming_the_field,
    a_body_over_the_limit_is_413,
    refused_changes_leave_the_ticket_as_it_was,
    unknown_ids_and_routes_are_404,
    bad_list_parameters,
    directory_refusals
);
