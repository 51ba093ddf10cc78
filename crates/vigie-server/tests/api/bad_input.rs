use axum::body::Body;
use axum::http::{Method, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_body};

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

#[tokio::test]
async fn malformed_and_unreadable_bodies_are_400() {
    let app = TestApp::new().await;
    raw_post(&app, "application/json", b"{\"subject\": ".to_vec()).await.problem(400, None);
    raw_post(&app, "application/json", b"[1, 2]".to_vec()).await.problem(400, None);
    raw_post(&app, "application/json", b"{\"subject\": \"a\xff\"}".to_vec()).await.problem(400, None);
    app.post("/api/v1/tickets", &app.lead, with(json!({"colour": "red"}))).await.problem(400, Some("colour"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"priority": 2}))).await.problem(400, Some("priority"));
    app.post("/api/v1/tickets", &app.lead, with(json!({"tags": ["a", 3]}))).await.problem(400, Some("tags[1]"));
    raw_post(&app, "text/plain", ticket_body().to_string().into_bytes()).await.problem(415, None);
    assert_eq!(app.n_tickets().await, 0);
}

#[tokio::test]
async fn out_of_range_values_are_422_naming_the_field() {
    let app = TestApp::new().await;
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

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::new().await;
    let huge = with(json!({"body": "x".repeat(vigie_server::MAX_BODY_BYTES + 10)}));
    app.post("/api/v1/tickets", &app.lead, huge).await.problem(413, None);
    assert_eq!(app.n_tickets().await, 0);
}

#[tokio::test]
async fn refused_changes_leave_the_ticket_as_it_was() {
    let app = TestApp::new().await;
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
    assert_eq!(app.get(&path, &app.lead).await.body, before);
    let events = app.get(&format!("{path}/events"), &app.lead).await.expect(200);
    assert_eq!(events.body["items"].as_array().expect("items").len(), 1);

    // Closed is final.
    app.patch(&path, &app.lead, Some("*"), json!({"status": "solved"})).await.expect(200);
    app.patch(&path, &app.lead, Some("*"), json!({"status": "closed"})).await.expect(200);
    app.patch(&path, &app.lead, Some("*"), json!({"status": "open"})).await.problem(422, Some("status"));
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let app = TestApp::new().await;
    app.get("/api/v1/tickets/T-999", &app.lead).await.problem(404, None);
    app.get("/api/v1/tickets/not%20an%20id", &app.lead).await.problem(404, None);
    app.patch("/api/v1/tickets/T-999", &app.lead, Some("*"), json!({"status": "open"})).await.problem(404, None);
    app.post("/api/v1/tickets/T-999/comments", &app.lead, json!({"body": "hi"})).await.problem(404, None);
    app.get("/api/v1/tickets/T-999/events", &app.lead).await.problem(404, None);
    app.get("/api/v1/nothing-here", &app.lead).await.problem(404, None);
}

#[tokio::test]
async fn bad_list_parameters() {
    let app = TestApp::new().await;
    app.get("/api/v1/tickets?limit=0", &app.lead).await.problem(422, Some("limit"));
    app.get("/api/v1/tickets?limit=501", &app.lead).await.problem(422, Some("limit"));
    app.get("/api/v1/tickets?status=later", &app.lead).await.problem(422, Some("status"));
    app.get("/api/v1/tickets?order=random", &app.lead).await.problem(422, Some("order"));
    app.get("/api/v1/tickets?after=garbage", &app.lead).await.problem(422, Some("after"));
    app.get("/api/v1/tickets?colour=red", &app.lead).await.problem(400, Some("colour"));
}

#[tokio::test]
async fn directory_refusals() {
    let app = TestApp::new().await;
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
