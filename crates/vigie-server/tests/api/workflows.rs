use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Billing disputes: the front office qualifies (4 h, hands over once tagged `qualified`), the
/// back office investigates (8 h), the front office answers; the new team is told of each
/// handoff.
fn dispute_rules(app: &TestApp) -> Value {
    let mut rules = serde_json::to_value(&*app.state.rules.snapshot().0).expect("JSON");
    rules["workflows"] = json!({"billing_dispute": {"steps": [
        {"name": "qualify", "team": "front_office", "sla_hours": 4, "requires": [{"tag": "qualified"}]},
        {"name": "investigate", "team": "back_office", "sla_hours": 8},
        {"name": "answer", "team": "front_office"}
    ]}});
    rules["automations"] = json!([
        {"name": "tell-the-next-team", "on": ["handed_over"], "conditions": [{"field": "step", "set": true}],
         "actions": [{"notify_team": "ticket", "template": "handed"}]}
    ]);
    rules["templates"] = json!({"handed": {"subject": "{{ ticket.id }} is yours", "body": "{{ ticket.subject }}"}});
    rules
}

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/tickets/{id}/events"), &app.lead).await.expect(200);
    reply.body["items"].as_array().expect("items").clone()
}

async fn a_request_follows_its_path_across_teams(app: TestApp) {
    app.put("/api/v1/rules", &app.admin, dispute_rules(&app)).await.expect(200);
    let created = app.create(&app.lead, json!({"category": "billing_dispute", "team": null})).await.expect(201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.body["team"], "front_office", "the first step's team");
    assert_eq!(created.body["step"], "qualify");
    assert_eq!(created.body["path"]["current_step"], "qualify");
    let states: Vec<&str> = created.body["path"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["current", "ahead", "ahead"]);
    assert_eq!(created.body["path"]["steps"][0]["sla_minutes"], 240);
    let handoff = format!("/api/v1/tickets/{id}/handoff");

    // No reason: refused, named. Not qualified yet: refused, the missing check named.
    app.post(&handoff, &app.agent, json!({})).await.problem(422, Some("reason"));
    let refused = app.post(&handoff, &app.agent, json!({"reason": "checked"})).await.problem(422, Some("requires[0]"));
    assert!(refused.text.contains("has tag `qualified`"), "{}", refused.text);
    let unknown = app.post(&handoff, &app.agent, json!({"reason": "x", "extra": 1})).await;
    assert_eq!(unknown.status, 400);
    // An array is not an object filled by position.
    app.post(&handoff, &app.agent, json!(["x", "qualify"])).await.problem(400, None);
    app.post(&handoff, &app.agent, json!({"reason": "x", "to_step": ""})).await.problem(422, Some("to_step"));
    app.patch(&format!("/api/v1/tickets/{id}"), &app.agent, Some("*"), json!({"tags": ["qualified"]}))
        .await
        .expect(200);
    // A stale version is refused; the agent hands it over with the version read.
    let read = app.get(&format!("/api/v1/tickets/{id}"), &app.agent).await.expect(200);
    let stale = TestApp::request(axum::http::Method::POST, &handoff, &app.agent)
        .header("If-Match", "\"1\"")
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(json!({"reason": "x"}).to_string()))
        .expect("request");
    assert_eq!(app.send(stale).await.status, 412);
    let handed = TestApp::request(axum::http::Method::POST, &handoff, &app.agent)
        .header("If-Match", read.etag())
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(json!({"reason": "amount confirmed: refund to check"}).to_string()))
        .expect("request");
    let handed = app.send(handed).await.expect(200);
    assert_eq!(handed.body["team"], "back_office");
    assert_eq!(handed.body["step"], "investigate");
    let steps = handed.body["path"]["steps"].as_array().expect("steps").clone();
    assert_eq!(steps[0]["state"], "done");
    assert_eq!(steps[0]["visits"], 1);
    assert!(steps[0]["left_at"].is_string());
    assert_eq!(steps[1]["state"], "current");
    assert!(steps[1]["due_at"].is_string(), "the step's clock started");
    // Out of the front office's sight now.
    app.get(&format!("/api/v1/tickets/{id}"), &app.agent).await.expect(404);

    // The history: who handed what to whom and why; the back office was told.
    let log = events(&app, &id).await;
    let handed_over: Vec<&Value> = log.iter().filter(|e| e["kind"] == "handed_over").collect();
    assert_eq!(handed_over.len(), 1, "{log:?}");
    assert_eq!(handed_over[0]["actor"], "ana");
    assert_eq!(
        handed_over[0]["change"],
        json!({"from": "qualify", "to": "investigate", "team": "back_office", "reason": "amount confirmed: refund to check"})
    );
    assert!(log.iter().any(|e| e["kind"] == "fields_changed" && e["change"]["team"]["to"] == "back_office"));
    let outbox = app.get(&format!("/api/v1/outbox?ticket={id}"), &app.admin).await.expect(200);
    let notices: Vec<&Value> = outbox.body["items"].as_array().expect("items").iter().collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["recipient"], "back_office");

    // Never a skip; back is allowed; past the end is a conflict.
    let skip = app.post(&handoff, &app.lead, json!({"reason": "x", "to_step": "nowhere"})).await;
    skip.problem(422, Some("to_step"));
    let back = app.post(&handoff, &app.lead, json!({"reason": "the invoice number is missing", "to_step": "qualify"}));
    let back = back.await.expect(200);
    assert_eq!((back.body["step"].as_str(), back.body["team"].as_str()), (Some("qualify"), Some("front_office")));
    app.post(&handoff, &app.lead, json!({"reason": "found it", "to_step": "answer"}))
        .await
        .problem(422, Some("to_step"));
    app.post(&handoff, &app.lead, json!({"reason": "found it"})).await.expect(200);
    let answering = app.post(&handoff, &app.lead, json!({"reason": "refund made"})).await.expect(200);
    assert_eq!(answering.body["path"]["steps"][0]["visits"], 2);
    let end = app.post(&handoff, &app.lead, json!({"reason": "again"})).await.expect(409);
    assert_eq!(end.body["code"], "cannot_hand_over", "{}", end.text);
    // A viewer cannot; a category without a workflow cannot.
    app.post(&handoff, &app.viewer, json!({"reason": "x"})).await.expect(403);
    let plain = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let off = app.post(&format!("/api/v1/tickets/{plain}/handoff"), &app.lead, json!({"reason": "x"})).await;
    assert!(off.expect(409).text.contains("no workflow"));

    // The workflows in force, with the work in each step now; the weekly review's bottleneck.
    let other = app.create(&app.lead, json!({"category": "billing_dispute", "team": null})).await.expect(201);
    assert_eq!(other.body["step"], "qualify");
    // The back office gets it by a handoff, not by a change of team that would skip the checks.
    let other_id = other.body["id"].as_str().expect("id");
    let skipped = app
        .patch(&format!("/api/v1/tickets/{other_id}"), &app.lead, Some("*"), json!({"team": "back_office"}))
        .await
        .problem(422, Some("team"));
    assert!(skipped.text.contains("handoff"), "{}", skipped.text);
    let workflows = app.get("/api/v1/workflows", &app.viewer).await.expect(200);
    let steps = &workflows.body["items"][0]["steps"];
    assert_eq!(steps[0]["requires"], json!(["it has tag `qualified`"]));
    let waiting: Vec<u64> =
        steps.as_array().expect("steps").iter().map(|s| s["waiting"].as_u64().expect("n")).collect();
    assert_eq!(waiting, [1, 0, 1]);
    let weekly = app.get("/api/v1/reports/weekly", &app.lead).await.expect(200);
    let figures = weekly.body["workflow_steps"].as_array().expect("steps");
    assert_eq!(figures.len(), 3);
    assert_eq!(figures[0]["done_minutes"]["count"], 2, "qualify was left twice this week");
    assert_eq!(figures[1]["done_minutes"]["count"], 2);
    assert!(weekly.body["bottleneck"]["most_waiting"]["step"].is_string(), "{}", weekly.text);

    // Recategorised off the path: the path ends, the record stays.
    let moved = app
        .patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"category": "billing"}))
        .await
        .expect(200);
    assert_eq!(moved.body["step"], Value::Null);
    assert_eq!(moved.body["path"], Value::Null);
    // Replaying the log gives the stored ticket (the steps included).
    let stored = app.store.ticket(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("read");
    let log = app.store.ticket_events(&vigie_core::TicketId::parse(id).expect("id")).await.expect("events");
    let replayed = vigie_core::event::replay(&log).expect("replays");
    assert_eq!(replayed, stored);
}

async fn a_workflow_naming_an_unknown_team_is_refused_and_the_rules_stay(app: TestApp) {
    let before = app.get("/api/v1/rules", &app.admin).await.expect(200);
    let mut rules = dispute_rules(&app);
    rules["workflows"]["billing_dispute"]["steps"][1]["team"] = json!("billing_ops");
    let refused = app.put("/api/v1/rules", &app.admin, rules).await;
    refused.problem(422, Some("workflows.billing_dispute.steps[1] (investigate).team"));
    let mut rules = dispute_rules(&app);
    rules["workflows"]["billing_dispute"]["steps"][0]["requires"] = json!([{"field": "colour", "is": ["red"]}]);
    rules["workflows"]["billing_dispute"]["steps"][2]["sla_hours"] = json!(0);
    let refused = app.put("/api/v1/rules", &app.admin, rules).await.expect(422);
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        [
            "workflows.billing_dispute.steps[0] (qualify).requires[0].field",
            "workflows.billing_dispute.steps[2] (answer).sla_hours"
        ]
    );
    let after = app.get("/api/v1/rules", &app.admin).await.expect(200);
    assert_eq!(after.body, before.body, "the rules in force stay as they were");
    assert_eq!(after.etag(), before.etag());
    // Nothing of the refused workflow runs: a dispute gets no step.
    let created = app.create(&app.lead, json!({"category": "billing_dispute"})).await.expect(201);
    assert_eq!(created.body["step"], Value::Null);
}

crate::on_both_backends!(
    a_request_follows_its_path_across_teams,
    a_workflow_naming_an_unknown_team_is_refused_and_the_rules_stay
);
