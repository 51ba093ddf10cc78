use axum::body::Body;
use axum::http::{Method, header};
use serde_json::json;

use crate::helpers::TestApp;

async fn missing_or_wrong_tokens_are_401(app: TestApp) {
    let reply = app.get("/api/v1/tickets", "").await.problem(401, None);
    assert_eq!(reply.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Bearer"));
    app.get("/api/v1/tickets", "vigie_not-a-real-token").await.problem(401, None);
    let basic = TestApp::request(Method::GET, "/api/v1/tickets", "")
        .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .expect("a request");
    app.send(basic).await.problem(401, None);
    app.create("", json!({})).await.problem(401, None);
    assert_eq!(app.n_tickets().await, 0);
}

async fn viewers_read_but_do_not_write(app: TestApp) {
    app.create(&app.viewer, json!({})).await.problem(403, None);
    app.get("/api/v1/tickets", &app.viewer).await.expect(200);
    assert_eq!(app.n_tickets().await, 0);
}

async fn agents_see_and_change_only_their_teams_tickets(app: TestApp) {
    let theirs = app.create(&app.lead, json!({"team": "back_office"})).await.expect(201);
    let theirs_id = theirs.body["id"].as_str().expect("id").to_owned();
    let mine = app.create(&app.agent, json!({})).await.expect(201);
    let mine_id = mine.body["id"].as_str().expect("id").to_owned();

    app.get(&format!("/api/v1/tickets/{theirs_id}"), &app.agent).await.problem(404, None);
    app.get(&format!("/api/v1/tickets/{theirs_id}/events"), &app.agent).await.problem(404, None);
    app.patch(&format!("/api/v1/tickets/{theirs_id}"), &app.agent, Some("*"), json!({"status": "open"}))
        .await
        .problem(404, None);
    app.post(&format!("/api/v1/tickets/{theirs_id}/comments"), &app.agent, json!({"body": "hi"}))
        .await
        .problem(404, None);
    app.create(&app.agent, json!({"team": "back_office"})).await.problem(422, Some("team"));

    let list = app.get("/api/v1/tickets", &app.agent).await.expect(200);
    let ids: Vec<&str> =
        list.body["items"].as_array().expect("items").iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, [mine_id.as_str()]);
    let all = app.get("/api/v1/tickets", &app.lead).await.expect(200);
    assert_eq!(all.body["items"].as_array().expect("items").len(), 2);

    // An agent can hand a ticket over to another team; it then leaves their view.
    app.patch(&format!("/api/v1/tickets/{mine_id}"), &app.agent, Some("*"), json!({"team": "back_office"}))
        .await
        .expect(200);
    app.get(&format!("/api/v1/tickets/{mine_id}"), &app.agent).await.problem(404, None);
}

crate::on_both_backends!(
    missing_or_wrong_tokens_are_401,
    viewers_read_but_do_not_write,
    agents_see_and_change_only_their_teams_tickets
);
