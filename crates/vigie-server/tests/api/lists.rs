use std::collections::HashSet;

use serde_json::json;

use crate::helpers::TestApp;

async fn queue_order_and_keyset_pagination(app: TestApp) {
    let priorities = ["P3", "P1", "P4", "P2", "P1", "P3", "P2"];
    for priority in priorities {
        app.create(&app.lead, json!({"priority": priority})).await.expect(201);
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
            seen.push((
                item["priority"].as_str().expect("priority").to_owned(),
                item["id"].as_str().expect("id").to_owned(),
            ));
        }
        match page.body["next"].as_str() {
            Some(next) => url = format!("/api/v1/tickets?status=open&order=queue&limit=3&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), priorities.len(), "every open ticket once: {seen:?}");
    let ids: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len());
    assert!(!ids.contains(&solved_id));
    let order: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(order, ["P1", "P1", "P2", "P2", "P3", "P3", "P4"]);
    // Among equals, first come first served.
    assert_eq!(seen[0].1, "T-2");
    assert_eq!(seen[1].1, "T-5");

    let p1 = app.get("/api/v1/tickets?priority=P1", &app.lead).await.expect(200);
    assert_eq!(p1.body["items"].as_array().expect("items").len(), 3);
    let solved_list = app.get("/api/v1/tickets?status=solved", &app.lead).await.expect(200);
    assert_eq!(solved_list.body["items"][0]["id"], solved_id.as_str());
    let created = app.get("/api/v1/tickets?order=created&limit=500", &app.lead).await.expect(200);
    let created_ids: Vec<&str> =
        created.body["items"].as_array().expect("items").iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(created_ids, ["T-1", "T-2", "T-3", "T-4", "T-5", "T-6", "T-7", "T-8"]);
    assert!(created.body["next"].is_null());
}

crate::on_both_backends!(queue_order_and_keyset_pagination);
