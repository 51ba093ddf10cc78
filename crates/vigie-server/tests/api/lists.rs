use std::collections::HashSet;

use serde_json::json;

use crate::helpers::TestApp;

/// The queue order: P1 first, then the effective deadline (the SLA deadline moved earlier by
/// boosts), then first come first served; each item says why it stands where it stands.
async fn queue_order_and_keyset_pagination(app: TestApp) {
    // Every ticket runs on the same policy (answer within 60 minutes), so without boosts the
    // deadlines follow the creations, a second apart.
    let tickets = [
        json!({"priority": "P3"}),
        json!({"priority": "P1"}),
        json!({"priority": "P4", "legal_risk": true}),
        json!({"priority": "P2"}),
        json!({"priority": "P1"}),
        json!({"priority": "P3", "customer_tier": "strategic"}),
        json!({"priority": "P2"}),
    ];
    for ticket in &tickets {
        app.create(&app.lead, ticket.clone()).await.expect(201);
    }
    let solved = app.create(&app.lead, json!({"priority": "P1"})).await.expect(201);
    let solved_id = solved.body["id"].as_str().expect("id").to_owned();
    app.patch(&format!("/api/v1/tickets/{solved_id}"), &app.lead, Some("*"), json!({"status": "solved"}))
        .await
        .expect(200);

    let mut seen = Vec::new();
    let mut url = "/api/v1/tickets?status=open&order=queue&limit=3".to_owned();
    loop {
        let page = app.get(&url, &app.lead).await.expect(200);
        for item in page.body["items"].as_array().expect("items") {
            seen.push(item.clone());
        }
        match page.body["next"].as_str() {
            Some(next) => url = format!("/api/v1/tickets?status=open&order=queue&limit=3&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), tickets.len(), "every open ticket once: {seen:?}");
    let ids: Vec<&str> = seen.iter().map(|item| item["id"].as_str().expect("id")).collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    assert!(!ids.contains(&solved_id.as_str()));
    // P1s first (first come, first served); then the legal risk (8 business hours earlier) and
    // the strategic customer (4 hours earlier) ahead of the others, which follow their
    // deadlines, that is their creation.
    assert_eq!(ids, ["T-2", "T-5", "T-3", "T-6", "T-1", "T-4", "T-7"]);
    assert_eq!(seen[0]["queue"]["class"], "p1");
    assert_eq!(seen[2]["queue"]["class"], "deadline");
    assert_eq!(seen[2]["queue"]["deadline_of"], "first_response");
    assert_eq!(seen[2]["queue"]["boosts"], json!([{"reason": "legal_risk", "minutes": 480}]));
    assert_eq!(seen[3]["queue"]["boosts"], json!([{"reason": "strategic", "minutes": 240}]));
    assert_eq!(seen[2]["queue"]["deadline"], seen[2]["sla"]["first_response"]["due_at"]);
    assert!(seen[2]["queue"]["effective_deadline"].as_str() < seen[2]["queue"]["deadline"].as_str());

    // The queue order covers open tickets only.
    app.get("/api/v1/tickets?status=solved&order=queue", &app.lead).await.problem(422, Some("status"));

    let p1 = app.get("/api/v1/tickets?priority=P1", &app.lead).await.expect(200);
    assert_eq!(p1.body["items"].as_array().expect("items").len(), 3);
    let solved_list = app.get("/api/v1/tickets?status=solved", &app.lead).await.expect(200);
    assert_eq!(solved_list.body["items"][0]["id"], solved_id.as_str());
    let created = app.get("/api/v1/tickets?order=created&limit=500", &app.lead).await.expect(200);
    let created_ids: Vec<&str> =
        created.body["items"].as_array().expect("items").iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(created_ids, ["T-1", "T-2", "T-3", "T-4", "T-5", "T-6", "T-7", "T-8"]);
    // A cursor of one order is refused by the other.
    let queue_page = app.get("/api/v1/tickets?order=queue&limit=1", &app.lead).await.expect(200);
    let next = queue_page.body["next"].as_str().expect("a next page");
    app.get(&format!("/api/v1/tickets?order=created&after={next}"), &app.lead).await.problem(422, Some("after"));
    assert!(created.body["next"].is_null());
}

crate::on_both_backends!(queue_order_and_keyset_pagination);
