use axum::body::Body;
use axum::http::{Method, header};
use serde_json::json;

use crate::helpers::{TestApp, stored_part, ticket_body};

async fn create_then_get_with_etag(app: TestApp) {
    let created = app.create(&app.agent, json!({"tags": ["refund"], "legal_risk": true})).await.expect(201);
    let id = created.body["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("T-"));
    assert_eq!(created.body["status"], "new");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["customer_tier"], "standard");
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(
        created.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/tickets/{id}").as_str())
    );
    let fetched = app.get(&format!("/api/v1/tickets/{id}"), &app.viewer).await.expect(200);
    assert_eq!(stored_part(&fetched.body), stored_part(&created.body));
    assert_eq!(fetched.etag(), "\"1\"");
}

async fn idempotency_key_returns_the_first_result(app: TestApp) {
    // A trigger changes the ticket in the creating command: the repeat answers that result.
    let mut rules = serde_json::to_value(&*app.state.rules.snapshot().0).expect("JSON");
    rules["automations"] = json!([{"name": "tag-new", "on": ["ticket_created"], "conditions": [{"no_tag": "seen"}],
        "actions": [{"add_tag": "seen"}]}]);
    app.put("/api/v1/rules", &app.admin, rules).await.expect(200);
    let send = |body: serde_json::Value| {
        TestApp::request(Method::POST, "/api/v1/tickets", &app.agent)
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "order-42")
            .body(Body::from(body.to_string()))
            .expect("a request")
    };
    let first = app.send(send(ticket_body())).await.expect(201);
    assert_eq!(first.body["tags"], json!(["seen"]));
    let again = app.send(send(ticket_body())).await.expect(201);
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(stored_part(&again.body), stored_part(&first.body));
    assert_eq!(again.etag(), first.etag());
    assert_eq!(app.n_tickets().await, 1);
    // The same request re-serialised (other key order and spacing) is the same request.
    let mut reordered = String::from("{ ");
    let fields: Vec<String> = ticket_body()
        .as_object()
        .expect("object")
        .iter()
        .rev()
        .map(|(key, value)| format!("\"{key}\" :  {value}"))
        .collect();
    reordered.push_str(&fields.join(" ,\n"));
    reordered.push('}');
    let raw = TestApp::request(Method::POST, "/api/v1/tickets", &app.agent)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "order-42")
        .body(Body::from(reordered))
        .expect("a request");
    assert_eq!(app.send(raw).await.expect(201).body["id"], first.body["id"]);

    // A repeat answers the first result, not the ticket as it is now...
    let id = first.body["id"].as_str().expect("id").to_owned();
    app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"priority": "P1"})).await.expect(200);
    let repeat = app.send(send(ticket_body())).await.expect(201);
    assert_eq!(stored_part(&repeat.body), stored_part(&first.body));
    // ...unless the ticket has left the caller's sight.
    app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"team": "back_office"})).await.expect(200);
    app.send(send(ticket_body())).await.problem(404, None);

    let mut other = ticket_body();
    other["subject"] = json!("Something else");
    app.send(send(other)).await.problem(422, Some("Idempotency-Key"));
    assert_eq!(app.n_tickets().await, 1);
}

async fn patch_with_if_match(app: TestApp) {
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    let changed = app
        .patch(&path, &app.lead, Some("\"1\""), json!({"status": "open", "priority": "P1", "assignee": "ana"}))
        .await
        .expect(200);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.body["priority"], "P1");
    assert_eq!(changed.etag(), "\"2\"");
    app.patch(&path, &app.lead, Some("\"1\""), json!({"status": "solved"})).await.problem(412, None);
    app.patch(&path, &app.lead, None, json!({"status": "solved"})).await.problem(428, None);
    let solved =
        app.patch(&path, &app.lead, Some("*"), json!({"status": "solved", "assignee": null})).await.expect(200);
    assert_eq!(solved.body["version"], 3);
    assert!(solved.body["resolved_at"].is_string());
    assert!(solved.body["assignee"].is_null());

    let events = app.get(&format!("{path}/events"), &app.lead).await.expect(200);
    let kinds: Vec<&str> =
        events.body["items"].as_array().expect("items").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["ticket_created", "fields_changed", "status_changed", "fields_changed", "status_changed"]);
    let first_change = &events.body["items"][1];
    assert_eq!(first_change["actor"], "lea");
    assert_eq!(first_change["change"]["priority"], json!({"from": "P2", "to": "P1"}));
}

async fn public_agent_comment_is_the_first_response(app: TestApp) {
    let id = app.create(&app.agent, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    app.post(&format!("{path}/comments"), &app.agent, json!({"body": "internal note", "public": false}))
        .await
        .expect(201);
    assert!(app.get(&path, &app.agent).await.body["first_response_at"].is_null());
    let comment = app
        .post(&format!("{path}/comments"), &app.agent, json!({"body": "We are on it.", "public": true}))
        .await
        .expect(201);
    assert_eq!(comment.body["kind"], "comment_added");
    assert_eq!(comment.body["change"]["first_response"], true);
    let ticket = app.get(&path, &app.agent).await.expect(200);
    assert_eq!(ticket.body["first_response_at"], comment.body["at"]);
    assert_eq!(ticket.body["version"], 3);
    assert_eq!(ticket.body["status"], "open", "answering a new ticket opens it");
}

async fn unknown_customer_is_created_and_known_tier_applies(app: TestApp) {
    app.post("/api/v1/customers", &app.admin, json!({"id": "bigco", "name": "Big Co", "tier": "strategic"}))
        .await
        .expect(201);
    let ticket = app.create(&app.agent, json!({"customer_id": "bigco"})).await.expect(201);
    assert_eq!(ticket.body["customer_tier"], "strategic");
    app.create(&app.agent, json!({"customer_id": "newco"})).await.expect(201);
    let customers = app.get("/api/v1/customers", &app.viewer).await.expect(200);
    let ids: Vec<&str> =
        customers.body["items"].as_array().expect("items").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["bigco", "newco"]);
}

async fn health_endpoints(app: TestApp) {
    app.get("/healthz", "").await.expect(200);
    app.get("/readyz", "").await.expect(200);
}

crate::on_both_backends!(
    create_then_get_with_etag,
    idempotency_key_returns_the_first_result,
    patch_with_if_match,
    public_agent_comment_is_the_first_response,
    unknown_customer_is_created_and_known_tier_applies,
    health_endpoints
);
