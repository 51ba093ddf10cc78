use crate::helpers::TestApp;

/// Every route the server answers is described in the served OpenAPI document.
async fn every_route_is_in_the_openapi_document(app: TestApp) {
    let doc = app.get("/api/v1/openapi.json", "").await.expect(200).body;
    let routes = [
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/{id}"),
        ("patch", "/api/v1/tickets/{id}"),
        ("post", "/api/v1/tickets/{id}/comments"),
        ("get", "/api/v1/tickets/{id}/events"),
        ("get", "/api/v1/tickets/{id}/similar"),
        ("post", "/api/v1/tickets/{id}/merge"),
        ("get", "/api/v1/clusters"),
        ("post", "/api/v1/teams"),
        ("get", "/api/v1/teams"),
        ("post", "/api/v1/agents"),
        ("get", "/api/v1/agents"),
        ("post", "/api/v1/customers"),
        ("get", "/api/v1/customers"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("post", "/api/v1/tickets/bulk"),
        ("post", "/api/v1/queue/next"),
        ("get", "/api/v1/rules"),
        ("put", "/api/v1/rules"),
        ("get", "/api/v1/calendars"),
        ("put", "/api/v1/calendars/{name}"),
        ("delete", "/api/v1/calendars/{name}"),
        ("get", "/api/v1/sla"),
        ("put", "/api/v1/sla"),
        ("post", "/api/v1/sla/recompute"),
        ("get", "/api/v1/backlog"),
        ("get", "/api/v1/backlog/history"),
        ("get", "/metrics"),
        ("get", "/api/v1/reports/morning"),
        ("get", "/api/v1/events/stream"),
        ("get", "/api/v1/alerts"),
        ("get", "/api/v1/reports/weekly"),
        ("get", "/api/v1/outbox"),
        ("get", "/api/v1/automations"),
        ("put", "/api/v1/automations/{name}"),
        ("delete", "/api/v1/automations/{name}"),
        ("get", "/api/v1/automations/{name}/dry-run"),
        ("post", "/api/v1/automations/dry-run"),
        ("put", "/api/v1/templates/{name}"),
        ("get", "/api/v1/macros"),
        ("get", "/status"),
        ("post", "/api/v1/tickets/{id}/macros/{name}"),
        ("post", "/api/v1/tickets/{id}/handoff"),
        ("get", "/api/v1/workflows"),
        ("post", "/api/v1/outbox/{id}/retry"),
    ];
    for (method, path) in routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is missing from the OpenAPI document");
    }
    // Every response has a description (OpenAPI requires one).
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("an item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                assert!(
                    response["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
    // And nothing is documented that the server does not serve.
    let documented: usize =
        doc["paths"].as_object().expect("paths").values().map(|item| item.as_object().map_or(0, |m| m.len())).sum();
    assert_eq!(documented, routes.len());
    // Every documented route is served: none falls through to the "no such route" fallback.
    app.create(&app.lead, serde_json::json!({})).await.expect(201);
    for (method, path) in routes {
        let uri = path.replace("{id}", "T-1").replace("{name}", "nowhere");
        let request = TestApp::request(method.to_uppercase().parse().expect("a method"), &uri, &app.admin)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .expect("a request");
        if path == "/api/v1/events/stream" {
            // An endless body: its status and type say it is served.
            use tower::ServiceExt;
            let response = app.router.clone().oneshot(request).await.expect("an answer");
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "text/event-stream");
            continue;
        }
        let reply = app.send(request).await;
        assert_ne!(reply.body["detail"], "no such route", "{method} {path} is documented but not served");
    }
}

crate::on_both_backends!(every_route_is_in_the_openapi_document);
