use axum::body::Body;
use axum::http::{Method, header};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const INVOICE: &str = "Since this morning I cannot download my invoice from the customer portal. When I click on the \
                       PDF link the page shows error E404 and nothing is downloaded. I tried two browsers and cleared \
                       the cache, same result. I need the document for my accounting this week.";

fn kinds(events: &Value) -> Vec<String> {
    events["items"].as_array().expect("items").iter().map(|e| e["kind"].as_str().expect("kind").to_owned()).collect()
}

async fn id_of(app: &TestApp, token: &str, overrides: Value) -> String {
    let created = app.create(token, overrides).await.expect(201);
    created.body["id"].as_str().expect("id").to_owned()
}

async fn a_resend_is_suggested_at_intake_and_on_demand(app: TestApp) {
    let original = id_of(&app, &app.agent, json!({"subject": "Cannot download invoice", "body": INVOICE})).await;
    let other = id_of(&app, &app.agent, json!({"subject": "Parcel late", "body": "My parcel has not arrived."})).await;
    let events = app.get(&format!("/api/v1/tickets/{original}/events"), &app.agent).await.expect(200);
    assert_eq!(kinds(&events.body), ["ticket_created"], "nothing alike was open");

    let resend = id_of(
        &app,
        &app.agent,
        json!({"subject": "RE: Cannot download invoice", "body": format!("Any update on this?\n\n{INVOICE}\n\nSent from my phone")}),
    )
    .await;
    let events = app.get(&format!("/api/v1/tickets/{resend}/events"), &app.agent).await.expect(200);
    assert_eq!(kinds(&events.body), ["ticket_created", "duplicates_suggested"]);
    assert_eq!(app.state.similar.handed_over(), 0, "each commit took the fingerprint its check computed");
    let suggestion = &events.body["items"][1]["change"]["similar"];
    assert_eq!(suggestion.as_array().expect("similar").len(), 1, "{suggestion}");
    assert_eq!(suggestion[0]["ticket"], original.as_str());
    let score = suggestion[0]["score"].as_f64().expect("score");
    assert!((0.7..=1.0).contains(&score), "{score}");

    let similar = app.get(&format!("/api/v1/tickets/{original}/similar"), &app.agent).await.expect(200);
    let listed: Vec<&str> =
        similar.body["similar"].as_array().expect("list").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(listed, [resend.as_str()], "{}", similar.body);
    assert_eq!(similar.body["similar"][0]["status"], "new");
    assert_eq!(similar.body["threshold"], 0.7);
    let none = app.get(&format!("/api/v1/tickets/{other}/similar"), &app.agent).await.expect(200);
    assert_eq!(none.body["similar"], json!([]));
    app.get("/api/v1/tickets/T-999999/similar", &app.agent).await.problem(404, None);

    // The event names only tickets of the new ticket's team (whoever reads its history may read
    // them); on demand, a lead sees every team's and an agent their own teams'.
    let elsewhere =
        id_of(&app, &app.lead, json!({"team": "back_office", "subject": "Cannot download invoice", "body": INVOICE}))
            .await;
    let events = app.get(&format!("/api/v1/tickets/{elsewhere}/events"), &app.lead).await.expect(200);
    assert_eq!(kinds(&events.body), ["ticket_created"], "the front office's copies are not named in its history");
    let seen = app.get(&format!("/api/v1/tickets/{original}/similar"), &app.agent).await.expect(200);
    assert_eq!(seen.body["similar"].as_array().map(Vec::len), Some(1), "{}", seen.body);
    let seen = app.get(&format!("/api/v1/tickets/{original}/similar"), &app.lead).await.expect(200);
    assert_eq!(seen.body["similar"].as_array().map(Vec::len), Some(2), "{}", seen.body);

    // A solved ticket is no longer suggested; after a restart the index is built from the store.
    app.patch(&format!("/api/v1/tickets/{resend}"), &app.lead, Some("\"1\""), json!({"status": "solved"}))
        .await
        .expect(200);
    let seen = app.get(&format!("/api/v1/tickets/{original}/similar"), &app.lead).await.expect(200);
    let listed: Vec<&str> =
        seen.body["similar"].as_array().expect("list").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(listed, [elsewhere.as_str()]);
    let restarted = app.restarted().await;
    assert_eq!(restarted.similar.len(), 3, "the open tickets");
    let lead = vigie_core::Actor { name: "lea".into(), role: vigie_core::Role::Lead, teams: Vec::new() };
    let found = restarted
        .similar
        .similar(&restarted.store, "Fwd: Cannot download invoice", INVOICE, &lead, None)
        .await
        .expect("read");
    let mut found: Vec<String> = found.into_iter().map(|(ticket, _)| ticket.id.to_string()).collect();
    found.sort();
    let mut want = vec![original, elsewhere];
    want.sort();
    assert_eq!(found, want);
}

async fn odd_texts_never_fail_a_create(app: TestApp) {
    let html = format!("<html><body><p>{INVOICE}</p><script>alert(1)</script></body></html>");
    let big: String = (0..9000).map(|i| format!("w{i} ")).collect();
    for body in [html.as_str(), "", "🎉🎉🎉", "Привет, 你好, مرحبا", big.as_str()] {
        app.create(&app.agent, json!({"subject": "x", "body": body})).await.expect(201);
    }
    let first = id_of(&app, &app.agent, json!({"subject": "Cannot download invoice", "body": INVOICE})).await;
    let similar = app.get(&format!("/api/v1/tickets/{first}/similar"), &app.agent).await.expect(200);
    assert_eq!(similar.body["similar"].as_array().map(Vec::len), Some(1), "the HTML copy: {}", similar.body);
}

async fn a_duplicate_is_merged_into_the_ticket_that_carries_on(app: TestApp) {
    let original = id_of(&app, &app.agent, json!({"subject": "Cannot download invoice", "body": INVOICE})).await;
    let resend = id_of(&app, &app.agent, json!({"subject": "RE: Cannot download invoice", "body": INVOICE})).await;
    let elsewhere = id_of(&app, &app.lead, json!({"team": "back_office"})).await;
    app.post(&format!("/api/v1/tickets/{resend}/comments"), &app.agent, json!({"body": "Checking.", "public": true}))
        .await
        .expect(201);

    // Refusals name the field and change nothing.
    let merge = |id: &str| format!("/api/v1/tickets/{id}/merge");
    app.post(&merge(&resend), &app.agent, json!({})).await.problem(422, Some("into"));
    app.post(&merge(&resend), &app.agent, json!({"into": resend})).await.problem(422, Some("into"));
    app.post(&merge(&resend), &app.agent, json!({"into": "T-999999"})).await.problem(422, Some("into"));
    app.post(&merge(&resend), &app.agent, json!({"into": "not an id!"})).await.problem(422, Some("into"));
    app.post(&merge(&resend), &app.agent, json!({"into": elsewhere})).await.problem(422, Some("into"));
    app.post(&merge(&resend), &app.agent, json!({"into": original, "why": 1})).await.problem(400, Some("why"));
    app.post(&merge(&resend), &app.viewer, json!({"into": original})).await.problem(403, None);
    app.post(&merge("T-999999"), &app.agent, json!({"into": original})).await.problem(404, None);
    let before = app.get(&format!("/api/v1/tickets/{original}"), &app.agent).await.expect(200);
    assert_eq!(before.body["version"], 1);

    // The resend was commented on (version 2): a merge that names version 1 is refused.
    let with_if_match = |tag: &str| {
        TestApp::request(Method::POST, &merge(&resend), &app.agent)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, tag)
            .body(Body::from(json!({"into": original}).to_string()))
            .expect("a request")
    };
    app.send(with_if_match("\"1\"")).await.problem(412, None);
    app.send(with_if_match("not a tag")).await.problem(400, Some("If-Match"));
    let merged = app.send(with_if_match("\"2\"")).await.expect(200);
    assert_eq!(merged.body["status"], "closed");
    assert_eq!(merged.body["id"], resend.as_str());
    let events = app.get(&format!("/api/v1/tickets/{resend}/events"), &app.agent).await.expect(200);
    let history = kinds(&events.body);
    assert_eq!(&history[history.len() - 3..], ["merged_into", "status_changed", "status_changed"]);
    assert!(history.contains(&"comment_added".to_owned()), "its history stays");
    let merged_into =
        events.body["items"].as_array().expect("items").iter().find(|e| e["kind"] == "merged_into").expect("event");
    assert_eq!(merged_into["change"]["into"], original.as_str());
    let events = app.get(&format!("/api/v1/tickets/{original}/events"), &app.agent).await.expect(200);
    assert_eq!(kinds(&events.body).last().map(String::as_str), Some("merged_from"));
    assert_eq!(
        events.body["items"].as_array().and_then(|e| e.last()).map(|e| e["change"]["from"].clone()),
        Some(json!(resend))
    );
    let similar = app.get(&format!("/api/v1/tickets/{original}/similar"), &app.agent).await.expect(200);
    assert_eq!(similar.body["similar"], json!([]), "a merged ticket is closed, no longer suggested");

    // Closed is final; a closed ticket is no target either.
    app.post(&merge(&resend), &app.agent, json!({"into": original})).await.problem(422, None);
    app.post(&merge(&original), &app.agent, json!({"into": resend})).await.problem(422, Some("into"));
}

crate::on_both_backends!(
    a_resend_is_suggested_at_intake_and_on_demand,
    odd_texts_never_fail_a_create,
    a_duplicate_is_merged_into_the_ticket_that_carries_on
);
