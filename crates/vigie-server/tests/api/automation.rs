use jiff::Timestamp;
use serde_json::{Value, json};
use vigie_server::automation;

use crate::helpers::TestApp;

/// Monday 2026-03-02 at `hh:mm` Paris time (UTC+1), plus `days`.
fn paris(days: i64, hh: i64, mm: i64) -> Timestamp {
    let monday: Timestamp = "2026-03-02T00:00:00+01:00".parse().expect("instant");
    monday + jiff::SignedDuration::from_secs(days * 86_400 + hh * 3600 + mm * 60)
}

/// The shipped clean-up, on office hours: a reminder after 16 business hours pending, the
/// close (with its notice) after 40.
fn cleanup_rules(app: &TestApp) -> Value {
    let mut rules = serde_json::to_value(&*app.state.rules.snapshot().0).expect("JSON");
    rules["calendars"] = json!({"office": {"time_zone": "Europe/Paris",
        "monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"], "wednesday": ["09:00-17:00"],
        "thursday": ["09:00-17:00"], "friday": ["09:00-17:00"]}});
    rules["automations"] = json!([
        {"name": "pending-reminder", "on": ["time"],
         "conditions": [{"field": "status", "is": ["pending_customer"]},
                        {"since": "status_changed", "hours": 16, "calendar": "office"}],
         "actions": [{"message_customer": "reminder"}]},
        {"name": "pending-close", "on": ["time"],
         "conditions": [{"field": "status", "is": ["pending_customer"]},
                        {"since": "status_changed", "hours": 40, "calendar": "office"}],
         "actions": [{"message_customer": "closed"}, {"set": "status", "to": "closed"}]},
        {"name": "legal-escalation", "on": ["ticket_created", "fields_changed"],
         "conditions": [{"field": "legal_risk", "set": true}, {"no_tag": "escalated"}],
         "actions": [{"add_tag": "escalated"}, {"notify_team": "back_office", "template": "escalation"}]}
    ]);
    rules["templates"] = json!({
        "reminder": {"subject": "We are waiting for you: {{ ticket.subject }}",
                     "body": "Hello,\nticket {{ ticket.id }} waits for your answer."},
        "closed": {"subject": "Closed: {{ ticket.subject }}", "body": "We closed {{ ticket.id }}: {{ ticket.status }}."},
        "escalation": {"subject": "Legal risk on {{ ticket.id }}", "body": "{{ ticket.subject }} ({{ customer.id }})"}
    });
    rules
}

async fn outbox(app: &TestApp, ticket: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/outbox?ticket={ticket}"), &app.lead).await.expect(200);
    reply.body["items"].as_array().expect("items").clone()
}

async fn kinds(app: &TestApp, ticket: &str) -> Vec<(String, String)> {
    let events = app.get(&format!("/api/v1/tickets/{ticket}/events"), &app.lead).await.expect(200);
    events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (e["kind"].as_str().unwrap_or_default().to_owned(), e["actor"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

async fn time_rules_close_pending_tickets_once_across_business_hours_and_a_restart(app: TestApp) {
    app.set_now(paris(0, 9, 0));
    app.put("/api/v1/rules", &app.admin, cleanup_rules(&app)).await.expect(200);
    app.post("/api/v1/customers", &app.admin, json!({"id": "acme", "name": "Acme", "email": "help@acme.example"}))
        .await
        .expect(201);
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let other = app.create(&app.lead, json!({"subject": "Still open"})).await.expect(201).body["id"].clone();
    app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"status": "pending_customer"}))
        .await
        .expect(200);

    // The ticket went pending a few seconds after Monday 09:00 (the test clock moves a second
    // per reading): 16 business hours end a few seconds after Wednesday's opening, not at
    // Tuesday 17:00. Not yet on Monday evening, Tuesday noon or Tuesday night.
    for at in [paris(0, 18, 0), paris(1, 12, 0), paris(1, 23, 0)] {
        let pass = automation::pass(&app.state, at).await.expect("a pass");
        assert_eq!((pass.rules, pass.matched, pass.fired), (2, 0, 0), "at {at}");
    }
    // Wednesday 09:01: the reminder, once.
    let pass = automation::pass(&app.state, paris(2, 9, 1)).await.expect("a pass");
    assert_eq!((pass.matched, pass.fired), (1, 1));
    assert_eq!(automation::pass(&app.state, paris(2, 9, 2)).await.expect("a pass").fired, 0);
    let messages = outbox(&app, &id).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["subject"], "We are waiting for you: Charged twice for March");
    assert_eq!(messages[0]["body"], format!("Hello,\nticket {id} waits for your answer."));
    assert_eq!(messages[0]["audience"], "customer");
    assert_eq!(messages[0]["actor"], "rule:pending-reminder");
    assert_eq!(messages[0]["status"], "queued");
    assert!(kinds(&app, &id).await.contains(&("rule_applied".into(), "rule:pending-reminder".into())));

    // Not due on Friday evening (40 business hours end just after next Monday's opening).
    assert_eq!(automation::pass(&app.state, paris(4, 18, 0)).await.expect("a pass").matched, 0);
    // The server is down from Friday evening to Monday 10:00: the close came due meanwhile.
    // The restarted server's first pass closes it, once, with its notice.
    let restarted = app.restarted().await;
    let pass = automation::pass(&restarted, paris(7, 10, 0)).await.expect("a pass");
    assert_eq!((pass.matched, pass.fired), (1, 1));
    assert_eq!(automation::pass(&restarted, paris(7, 10, 1)).await.expect("a pass").matched, 0);
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), &app.lead).await.expect(200);
    assert_eq!(ticket.body["status"], "closed");
    let messages = outbox(&app, &id).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["subject"], "Closed: Charged twice for March");
    assert_eq!(messages[0]["body"], format!("We closed {id}: closed."));
    let moves: Vec<(String, String)> =
        kinds(&app, &id).await.into_iter().filter(|(_, actor)| actor == "rule:pending-close").collect();
    let names: Vec<&str> = moves.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(names, ["status_changed", "status_changed", "message_queued", "rule_applied"]);
    // The ticket that was never pending was left alone.
    let untouched = app.get(&format!("/api/v1/tickets/{}", other.as_str().expect("id")), &app.lead).await.expect(200);
    assert_eq!(untouched.body["status"], "new");

    // Without an SMTP server configured, the messages are held (not an attempt: they wait for
    // one, never given up).
    let client = reqwest::Client::new();
    assert_eq!(automation::deliver_due(&restarted, &client, paris(7, 10, 2)).await.expect("delivered"), 0);
    let messages = outbox(&app, &id).await;
    assert!(messages.iter().all(|m| m["status"] == "held" && m["attempts"] == 0), "{messages:?}");
    assert!(messages[0]["last_error"].as_str().expect("an error").contains("no SMTP server"), "{messages:?}");
    // Held for a quarter of an hour: not looked at again before.
    assert_eq!(automation::deliver_due(&restarted, &client, paris(7, 10, 3)).await.expect("delivered"), 0);
    assert!(outbox(&app, &id).await.iter().all(|m| m["attempts"] == 0));
}

async fn a_reply_starts_a_new_pending_episode(app: TestApp) {
    app.set_now(paris(0, 9, 0));
    app.put("/api/v1/rules", &app.admin, cleanup_rules(&app)).await.expect(200);
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    app.patch(&path, &app.lead, Some("*"), json!({"status": "pending_customer"})).await.expect(200);
    assert_eq!(automation::pass(&app.state, paris(2, 9, 1)).await.expect("a pass").fired, 1);
    // The customer answered on Wednesday; the agent asks again at 11:00.
    app.set_now(paris(2, 10, 0));
    app.patch(&path, &app.lead, Some("*"), json!({"status": "open"})).await.expect(200);
    app.set_now(paris(2, 11, 0));
    app.patch(&path, &app.lead, Some("*"), json!({"status": "pending_customer"})).await.expect(200);
    // A new episode: 16 business hours from Wednesday 11:00 end on Friday at 11:00.
    assert_eq!(automation::pass(&app.state, paris(4, 10, 59)).await.expect("a pass").fired, 0);
    assert_eq!(automation::pass(&app.state, paris(4, 11, 1)).await.expect("a pass").fired, 1);
    assert_eq!(outbox(&app, &id).await.len(), 2);
}

async fn triggers_fire_in_the_command_and_dry_runs_list_what_rules_would_touch(app: TestApp) {
    app.set_now(paris(0, 9, 0));
    app.put("/api/v1/rules", &app.admin, cleanup_rules(&app)).await.expect(200);
    let legal = app.create(&app.lead, json!({"legal_risk": true})).await.expect(201);
    let id = legal.body["id"].as_str().expect("id").to_owned();
    // The trigger ran in the create: the answer already carries its tag.
    assert_eq!(legal.body["tags"], json!(["escalated"]));
    let messages = outbox(&app, &id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0]["audience"].as_str(), messages[0]["recipient"].as_str()),
        (Some("team"), Some("back_office"))
    );
    assert_eq!(messages[0]["subject"], format!("Legal risk on {id}"));
    // Once: a later change does not escalate it again (its tag says it was).
    app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"priority": "P1"})).await.expect(200);
    assert_eq!(outbox(&app, &id).await.len(), 1);

    // A dry run lists what a rule would touch now; nothing is written.
    for n in 0..3 {
        let pending = app.create(&app.lead, json!({"subject": format!("Pending {n}")})).await.expect(201);
        let path = format!("/api/v1/tickets/{}", pending.body["id"].as_str().expect("id"));
        app.patch(&path, &app.lead, Some("*"), json!({"status": "pending_customer"})).await.expect(200);
    }
    app.set_now(paris(3, 12, 0));
    let dry = app.get("/api/v1/automations/pending-reminder/dry-run?limit=2", &app.lead).await.expect(200);
    assert_eq!(dry.body["total"], 3);
    assert_eq!(dry.body["tickets"].as_array().expect("tickets").len(), 2);
    assert_eq!(dry.body["tickets"][0]["subject"], "Pending 0");
    let before = app.n_tickets().await;
    let draft = json!({"name": "stale-p3", "on": ["time"],
        "conditions": [{"field": "priority", "is": ["P2"]}, {"since": "created", "hours": 24}],
        "actions": [{"add_tag": "stale"}]});
    let dry = app.post("/api/v1/automations/dry-run", &app.lead, draft.clone()).await.expect(200);
    assert_eq!(dry.body["total"], 3, "{}", dry.body);
    assert_eq!(app.n_tickets().await, before);
    assert!(outbox(&app, &id).await.len() == 1);
    app.get("/api/v1/automations/pending-reminder/dry-run", &app.agent).await.problem(403, None);
    app.get("/api/v1/automations/nope/dry-run", &app.lead).await.problem(404, None);

    // Through the API: a rule added, listed, removed.
    app.put("/api/v1/automations/stale-p3", &app.agent, draft.clone()).await.problem(403, None);
    app.put("/api/v1/automations/stale-p3", &app.admin, draft.clone()).await.expect(201);
    let listed = app.get("/api/v1/automations", &app.agent).await.expect(200);
    let names: Vec<&str> =
        listed.body["items"].as_array().expect("items").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["pending-reminder", "pending-close", "legal-escalation", "stale-p3"]);
    app.delete("/api/v1/automations/stale-p3", &app.admin).await.expect(200);
    app.delete("/api/v1/automations/stale-p3", &app.admin).await.problem(404, None);
}

async fn bad_rules_are_refused_by_name_and_field_and_change_nothing(app: TestApp) {
    app.put("/api/v1/rules", &app.admin, cleanup_rules(&app)).await.expect(200);
    let before = app.get("/api/v1/automations", &app.lead).await.expect(200).body;
    let cases = [
        (
            json!({"on": ["time"], "conditions": [{"field": "colour", "is": ["red"]}, {"since": "created", "hours": 1}],
                "actions": [{"add_tag": "x"}]}),
            "automations[3] (bad).conditions[0].field",
        ),
        (
            json!({"on": ["time"], "conditions": [{"field": "status", "is": ["open"]}, {"field": "status", "is": ["solved"]},
                {"since": "created", "hours": 1}], "actions": [{"add_tag": "x"}]}),
            "automations[3] (bad).conditions[1]",
        ),
        (
            json!({"on": ["status_changed"], "actions": [{"set": "status", "to": "open"}]}),
            "automations[3] (bad).actions[0]",
        ),
        (
            json!({"on": ["ticket_created"], "actions": [{"message_customer": "nope"}]}),
            "automations[3] (bad).actions[0].message_customer",
        ),
        (
            json!({"on": ["ticket_created"], "actions": [{"set": "team", "to": "ghosts"}]}),
            "automations[3] (bad).actions[0].to",
        ),
        (
            json!({"on": ["time"], "conditions": [{"field": "status", "is": ["open"]}], "actions": [{"add_tag": "x"}]}),
            "automations[3] (bad).conditions",
        ),
        (json!({"on": ["whenever"], "actions": [{"add_tag": "x"}]}), "automations[3] (bad).on[0]"),
    ];
    for (rule, field) in cases {
        app.put("/api/v1/automations/bad", &app.admin, rule).await.problem(422, Some(field));
    }
    let mut rules = cleanup_rules(&app);
    rules["templates"]["reminder"]["body"] = json!("Dear {{ customer.name }}");
    app.put("/api/v1/rules", &app.admin, rules.clone()).await.problem(422, Some("templates.reminder.body"));
    rules["templates"]["reminder"]["body"] = json!("{% for %}");
    app.put("/api/v1/rules", &app.admin, rules).await.problem(422, Some("templates.reminder.body"));
    app.put("/api/v1/templates/reminder", &app.admin, json!({"subject": "{{ ticket.nope }}", "body": "x"}))
        .await
        .problem(422, Some("templates.reminder.subject"));
    app.put("/api/v1/automations/bad", &app.admin, json!({"on": ["time"], "actions": [], "extra": 1}))
        .await
        .problem(400, None);
    // The running configuration stayed as it was.
    assert_eq!(app.get("/api/v1/automations", &app.lead).await.expect(200).body, before);
    // Bad outbox parameters are named.
    app.get("/api/v1/outbox?limit=0", &app.lead).await.problem(400, Some("limit"));
    app.get("/api/v1/outbox?ticket=a%20b", &app.lead).await.problem(400, Some("ticket"));
    app.get("/api/v1/outbox", &app.agent).await.problem(403, None);
}

async fn macros_reply_and_change_in_one_action_also_in_bulk(app: TestApp) {
    let mut rules = cleanup_rules(&app);
    rules["macros"] = json!({
        "ask-details": {"title": "Ask for the missing details",
            "reply": "Hello,\ncould you send us the invoice for {{ ticket.id }}?\n{{ agent }}",
            "actions": [{"set": "status", "to": "pending_customer"}, {"add_tag": "waiting-details"}]},
        "to-back-office": {"reply": "Handed over by {{ agent }}: {{ ticket.category }}", "public": false,
            "actions": [{"set": "team", "to": "back_office"}]}
    });
    app.put("/api/v1/rules", &app.admin, rules.clone()).await.expect(200);
    let listed = app.get("/api/v1/macros", &app.agent).await.expect(200);
    assert_eq!(listed.body["items"][0]["name"], "ask-details");
    assert_eq!(listed.body["items"][0]["title"], "Ask for the missing details");

    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let applied =
        app.post(&format!("/api/v1/tickets/{id}/macros/ask-details"), &app.agent, json!(null)).await.expect(200);
    assert_eq!(applied.body["status"], "pending_customer");
    assert_eq!(applied.body["tags"], json!(["waiting-details"]));
    assert!(applied.body["first_response_at"].is_string(), "a public reply by an agent answers: {}", applied.body);
    let events = app.get(&format!("/api/v1/tickets/{id}/events"), &app.lead).await.expect(200).body;
    let comment =
        events["items"].as_array().expect("items").iter().find(|e| e["kind"] == "comment_added").expect("the reply");
    assert_eq!(comment["actor"], "ana");
    assert_eq!(comment["change"]["body"], format!("Hello,\ncould you send us the invoice for {id}?\nana"));
    assert_eq!(comment["change"]["public"], true);

    // A stale version, an unknown macro, a closed ticket: refused, nothing written.
    let stale =
        TestApp::request(axum::http::Method::POST, &format!("/api/v1/tickets/{id}/macros/ask-details"), &app.agent)
            .header("if-match", "\"1\"")
            .body(axum::body::Body::empty())
            .expect("request");
    app.send(stale).await.problem(412, None);
    app.post(&format!("/api/v1/tickets/{id}/macros/nope"), &app.agent, json!(null)).await.problem(422, Some("macro"));
    app.post(&format!("/api/v1/tickets/{id}/macros/ask-details"), &app.viewer, json!(null)).await.problem(403, None);

    // In bulk: each ticket its own rendered reply; an internal note and a handover.
    let a = app.create(&app.lead, json!({"category": "refund"})).await.expect(201).body["id"].clone();
    let b = app.create(&app.lead, json!({"category": "refund"})).await.expect(201).body["id"].clone();
    let report = app
        .post("/api/v1/tickets/bulk", &app.lead, json!({"ids": [a, b], "macro": "to-back-office"}))
        .await
        .expect(200);
    assert_eq!(report.body["n_changed"], 2, "{}", report.body);
    for id in [&a, &b] {
        let ticket = app.get(&format!("/api/v1/tickets/{}", id.as_str().expect("id")), &app.lead).await.expect(200);
        assert_eq!(ticket.body["team"], "back_office");
        assert!(ticket.body["first_response_at"].is_null(), "an internal note is not an answer");
    }
    app.post("/api/v1/tickets/bulk", &app.lead, json!({"ids": [a], "macro": "nope"})).await.problem(422, Some("macro"));

    // A bad macro is refused with its field, and the macros in force stay.
    rules["macros"]["broken"] = json!({"reply": "{{ customer.name }}", "actions": [{"set": "colour", "to": "red"}]});
    let refused = app.put("/api/v1/rules", &app.admin, rules.clone()).await.problem(422, Some("macros.broken.reply"));
    assert!(
        refused.body["detail"].as_str().expect("detail").contains("macros.broken.actions[0].set"),
        "{}",
        refused.body
    );
    rules["macros"]["broken"] = json!({"reply": "x", "actions": [{"set": "team", "to": "ghosts"}]});
    app.put("/api/v1/rules", &app.admin, rules).await.problem(422, Some("macros.broken.actions[0].to"));
    assert_eq!(app.get("/api/v1/macros", &app.agent).await.expect(200).body, listed.body);
}

async fn customers_are_told_once_when_their_wait_is_unusual_and_the_status_page_shows_the_banner(app: TestApp) {
    app.set_now(paris(0, 9, 0));
    let mut rules = cleanup_rules(&app);
    rules["templates"]["wait"] = json!({"subject": "Your request {{ ticket.id }}",
        "body": "We will answer in {{ expected.wait }} (around {{ expected.start_at }})."});
    rules["notices"] = json!({"template": "wait", "tolerance_minutes": {"chat": 60},
        "banners": [{"team": "front_office", "above": 3, "text": "We are busier than usual."}]});
    app.put("/api/v1/rules", &app.admin, rules.clone()).await.expect(200);
    let status = app.get("/status", "").await.expect(200);
    assert_eq!(status.body, json!({"status": "normal", "banners": []}));
    // Ana alone works the front office, half an hour a ticket: the fourth chat in the queue
    // waits an hour and a half, the fifth two hours; the e-mails tolerate any wait.
    let mut ids = Vec::new();
    for n in 0..5 {
        let created =
            app.create(&app.lead, json!({"channel": "chat", "subject": format!("Chat {n}"), "priority": "P3"})).await;
        ids.push(created.expect(201).body["id"].as_str().expect("id").to_owned());
    }
    app.create(&app.lead, json!({"channel": "email", "subject": "Mail", "priority": "P4"})).await.expect(201);
    let pass = automation::pass(&app.state, paris(0, 9, 5)).await.expect("a pass");
    assert_eq!(pass.notices, 2, "{pass:?}");
    for (n, id) in ids.iter().enumerate() {
        let messages = outbox(&app, id).await;
        assert_eq!(messages.len(), usize::from(n >= 3), "ticket {n}: {messages:?}");
    }
    let notice = &outbox(&app, &ids[4]).await[0];
    assert_eq!(notice["subject"], format!("Your request {}", ids[4]));
    assert!(notice["body"].as_str().expect("body").starts_with("We will answer in about 2 hours (around "), "{notice}");
    assert_eq!(notice["actor"], "notice:wait");
    let ticket = app.get(&format!("/api/v1/tickets/{}", ids[4]), &app.lead).await.expect(200);
    assert_eq!(ticket.body["tags"], json!(["wait-notified"]));
    // Once: the next pass, and a restart, tell nobody again.
    assert_eq!(automation::pass(&app.state, paris(0, 9, 6)).await.expect("a pass").notices, 0);
    let restarted = app.restarted().await;
    assert_eq!(automation::pass(&restarted, paris(0, 9, 7)).await.expect("a pass").notices, 0);
    // Six open tickets for the front office, above 3: the public status shows the banner.
    let status = app.get("/status", "").await.expect(200);
    assert_eq!(status.body["status"], "busy");
    assert_eq!(status.body["banners"], json!([{"team": "front_office", "text": "We are busier than usual."}]));
    // Bad notices are named.
    rules["notices"] = json!({"template": "nope", "tolerance_minutes": {"pigeon": 5, "chat": -1},
        "banners": [{"team": "ghosts", "above": 1, "text": "x"}]});
    let refused = app.put("/api/v1/rules", &app.admin, rules.clone()).await.problem(422, Some("notices.template"));
    for field in ["notices.tolerance_minutes.pigeon", "notices.tolerance_minutes.chat"] {
        assert!(refused.body["detail"].as_str().expect("detail").contains(field), "{field}: {}", refused.body);
    }
    rules["notices"] = json!({"banners": [{"team": "ghosts", "above": 1, "text": "x"}]});
    app.put("/api/v1/rules", &app.admin, rules).await.problem(422, Some("notices.banners[0].team"));
}

on_both_backends!(
    customers_are_told_once_when_their_wait_is_unusual_and_the_status_page_shows_the_banner,
    macros_reply_and_change_in_one_action_also_in_bulk,
    time_rules_close_pending_tickets_once_across_business_hours_and_a_restart,
    a_reply_starts_a_new_pending_episode,
    triggers_fire_in_the_command_and_dry_runs_list_what_rules_would_touch,
    bad_rules_are_refused_by_name_and_field_and_change_nothing,
);

/// A message given up is sent again on an admin's word, once; a delivered one never is.
async fn a_message_given_up_is_queued_again_on_request(app: TestApp) {
    app.put("/api/v1/rules", &app.admin, cleanup_rules(&app)).await.expect(200);
    let id = app.create(&app.lead, json!({"legal_risk": true})).await.expect(201).body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let messages = outbox(&app, &id).await;
    assert_eq!(messages.len(), 1, "the escalation: {messages:?}");
    let message = messages[0]["id"].as_i64().expect("an id");
    let retry = format!("/api/v1/outbox/{message}/retry");
    // Still queued: nothing to retry.
    assert_eq!(app.post(&retry, &app.admin, json!({})).await.expect(409).body["code"], "not_given_up");
    let failed = vigie_store::DeliveryOutcome::Failed { error: "connection refused".into(), retry_at: None };
    app.store.record_message_delivery(message, &failed, Some("https://hooks.example/x")).await.expect("recorded");
    assert_eq!(outbox(&app, &id).await[0]["status"], "failed");
    app.post(&retry, &app.agent, json!({})).await.problem(403, None);
    app.post("/api/v1/outbox/abc/retry", &app.admin, json!({})).await.problem(400, Some("id"));
    app.post("/api/v1/outbox/999999/retry", &app.admin, json!({})).await.problem(404, None);
    let queued = app.post(&retry, &app.lead, json!({})).await.expect(200);
    assert_eq!(queued.body, json!({"id": message, "status": "queued"}));
    let again = &outbox(&app, &id).await[0];
    assert_eq!((again["status"].as_str(), again["attempts"].as_i64()), (Some("queued"), Some(0)), "{again}");
    let delivered = vigie_store::DeliveryOutcome::Delivered { at: app.state.now() };
    app.store.record_message_delivery(message, &delivered, None).await.expect("recorded");
    assert_eq!(app.post(&retry, &app.admin, json!({})).await.expect(409).body["code"], "already_delivered");
}

on_both_backends!(a_message_given_up_is_queued_again_on_request);
