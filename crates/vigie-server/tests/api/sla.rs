use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use vigie_server::scheduler::run_due;

use crate::helpers::TestApp;

fn minutes_after(start: Timestamp, minutes: i64) -> Timestamp {
    start.checked_add(SignedDuration::from_mins(minutes)).expect("in range")
}

async fn event_kinds(app: &TestApp, id: &str) -> Vec<String> {
    let events = app.get(&format!("/api/v1/tickets/{id}/events"), &app.lead).await.expect(200);
    events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

/// The test rules: answer within 60 minutes, solve within 1,440, warned 10 minutes before, on
/// calendar time. The scheduler records each warning and breach once, at its instant; a
/// scheduler that slept through the instants (a restart) records what is due, once.
async fn scheduler_records_warnings_and_breaches_once(app: TestApp) {
    let start: Timestamp = "2026-06-01T08:00:00Z".parse().expect("valid");
    app.set_now(start);
    let a = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();

    assert_eq!(run_due(&app.state, minutes_after(start, 49)).await.n_recorded, 0, "not yet in the window");
    assert_eq!(run_due(&app.state, minutes_after(start, 50)).await.n_recorded, 1, "the warning, at 50 minutes");
    assert_eq!(run_due(&app.state, minutes_after(start, 55)).await.n_recorded, 0, "warned once");
    assert_eq!(run_due(&app.state, minutes_after(start, 60)).await.n_recorded, 0, "exactly at the deadline: not late");
    assert_eq!(run_due(&app.state, minutes_after(start, 61)).await.n_recorded, 1, "the breach");
    assert_eq!(run_due(&app.state, minutes_after(start, 62)).await.n_recorded, 0, "breached once");
    assert_eq!(event_kinds(&app, &a).await, ["ticket_created", "sla_at_risk", "sla_breached"]);
    let events = app.get(&format!("/api/v1/tickets/{a}/events"), &app.lead).await.expect(200).body;
    assert_eq!(events["items"][1]["change"], json!({"target": "first_response", "due_at": "2026-06-01T09:00:00Z"}));
    assert_eq!(events["items"][2]["actor"], "system");

    app.set_now(minutes_after(start, 70));
    let ticket = app.get(&format!("/api/v1/tickets/{a}"), &app.lead).await.expect(200);
    assert_eq!(ticket.body["version"], 1, "SLA bookkeeping does not move the version");
    assert_eq!(ticket.etag(), "\"1\"");
    assert_eq!(ticket.body["sla"]["state"], "breached");
    assert_eq!(ticket.body["sla"]["first_response"]["state"], "breached");
    assert_eq!(ticket.body["sla"]["first_response"]["minutes_left"], -10);
    assert_eq!(ticket.body["sla"]["resolution"]["state"], "running");
    assert_eq!(ticket.body["sla"]["resolution"]["due_at"], "2026-06-02T08:00:00Z");

    // A second ticket, then the server is down for two days: at the restart, every breach is
    // recorded once, and no warning for a deadline already past.
    app.set_now(minutes_after(start, 100));
    let b = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let restarted = app.restarted().await;
    let later = minutes_after(start, 3 * 24 * 60);
    let run = run_due(&restarted, later).await;
    assert_eq!((run.n_checked, run.n_recorded), (2, 3), "a's resolution, b's two targets");
    assert_eq!(run_due(&restarted, minutes_after(later, 1)).await.n_recorded, 0);
    assert_eq!(event_kinds(&app, &a).await, ["ticket_created", "sla_at_risk", "sla_breached", "sla_breached"]);
    // b says what a says: its likely duplicate was suggested as it arrived.
    assert_eq!(event_kinds(&app, &b).await, ["ticket_created", "duplicates_suggested", "sla_breached", "sla_breached"]);
    // And a third start finds nothing left to record.
    let again = app.restarted().await;
    assert_eq!(run_due(&again, minutes_after(later, 5)).await.n_recorded, 0);
}

/// Waiting on the customer stops the clock: nothing to warn about, the time left frozen; the
/// deadline moves by exactly the time paused.
async fn pending_customer_pauses_the_clock(app: TestApp) {
    let start: Timestamp = "2026-06-01T08:00:00Z".parse().expect("valid");
    app.set_now(start);
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tickets/{id}");
    app.post(&format!("{path}/comments"), &app.lead, json!({"body": "Which order?", "public": true})).await.expect(201);
    app.set_now(minutes_after(start, 30));
    app.patch(&path, &app.lead, Some("*"), json!({"status": "pending_customer"})).await.expect(200);
    app.set_now(minutes_after(start, 300));
    let paused = app.get(&path, &app.lead).await.expect(200).body;
    assert_eq!(paused["sla"]["state"], "paused");
    assert_eq!(paused["sla"]["resolution"]["state"], "paused");
    assert_eq!(paused["sla"]["resolution"]["due_at"], Value::Null);
    assert_eq!(paused["sla"]["resolution"]["minutes_left"], 1440 - 30);
    assert_eq!(paused["queue"]["class"], "paused");
    assert_eq!(run_due(&app.state, minutes_after(start, 2 * 24 * 60)).await.n_checked, 0, "nothing runs while paused");
    app.set_now(minutes_after(start, 330));
    app.patch(&path, &app.lead, Some("*"), json!({"status": "open"})).await.expect(200);
    let resumed = app.get(&path, &app.lead).await.expect(200).body;
    assert_eq!(resumed["sla"]["resolution"]["state"], "running");
    // 1,440 minutes of running time: 30 before the pause, the rest from 330 minutes on.
    assert_eq!(resumed["sla"]["resolution"]["due_at"], minutes_after(start, 330 + 1410).to_string());
    assert_eq!(resumed["sla"]["first_response"]["state"], "met");
}

/// The SLA filters of a list: the overall state now, and the deadline.
async fn lists_filter_by_sla_state_and_deadline(app: TestApp) {
    let start: Timestamp = "2026-06-01T08:00:00Z".parse().expect("valid");
    app.set_now(start);
    let old = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    app.set_now(minutes_after(start, 120));
    let fresh = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let paused = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    app.patch(&format!("/api/v1/tickets/{paused}"), &app.lead, Some("*"), json!({"status": "pending_third_party"}))
        .await
        .expect(200);
    let ids = |reply: crate::helpers::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_owned())
            .collect()
    };
    app.set_now(minutes_after(start, 125));
    assert_eq!(ids(app.get("/api/v1/tickets?sla_state=breached", &app.lead).await.expect(200)), [old.as_str()]);
    assert_eq!(ids(app.get("/api/v1/tickets?sla_state=running", &app.lead).await.expect(200)), [fresh.as_str()]);
    assert_eq!(ids(app.get("/api/v1/tickets?sla_state=paused", &app.lead).await.expect(200)), [paused.as_str()]);
    let both = app.get("/api/v1/tickets?sla_state=breached&sla_state=running&order=queue", &app.lead).await.expect(200);
    assert_eq!(ids(both), [old.as_str(), fresh.as_str()]);
    let due_soon = app.get("/api/v1/tickets?due_before=2026-06-01T10:30:00Z", &app.lead).await.expect(200);
    assert_eq!(ids(due_soon), [old.as_str()], "the fresh ticket is due at 11:00");
    let due_later = app.get("/api/v1/tickets?due_before=2026-06-01T12:00:00Z", &app.lead).await.expect(200);
    assert_eq!(ids(due_later), [old, fresh]);
    app.get("/api/v1/tickets?sla_state=late", &app.lead).await.problem(422, Some("sla_state"));
    app.get("/api/v1/tickets?due_before=tomorrow", &app.lead).await.problem(422, Some("due_before"));
    app.get("/api/v1/tickets?sla_state=met&status=closed", &app.lead).await.problem(422, Some("status"));
}

/// Calendars and policies through the API: a bad change is refused whole, naming the field,
/// and the rules in force stay as they were; a good one applies to new tickets, and on request
/// to the open ones.
async fn rules_change_through_the_api(app: TestApp) {
    let revision = |reply: &crate::helpers::Reply| reply.body["revision"].as_i64().expect("revision");
    assert_eq!(revision(&app.get("/api/v1/rules", &app.viewer).await.expect(200)), 0);
    let office = json!({"time_zone": "Europe/Paris", "monday": ["09:00-12:30", "13:30-18:00"], "tuesday": ["09:00-18:00"],
        "holidays": [{"date": "2026-12-25"}, {"date": "2026-12-24", "from": "12:00"}]});
    app.put("/api/v1/calendars/paris", &app.agent, office.clone()).await.problem(403, None);
    let created = app.put("/api/v1/calendars/paris", &app.admin, office.clone()).await.expect(201);
    assert_eq!(revision(&created), 1);
    // The same calendar again changes nothing: no new revision.
    assert_eq!(revision(&app.put("/api/v1/calendars/paris", &app.admin, office.clone()).await.expect(200)), 1);
    let mut longer = office.clone();
    longer["wednesday"] = json!(["09:00-18:00"]);
    let replaced = app.put("/api/v1/calendars/paris", &app.admin, longer).await.expect(200);
    assert_eq!((revision(&replaced), replaced.etag()), (2, "\"2\"".to_owned()));
    // A change made from an older revision (If-Match) is refused: 412, nothing lost.
    let stale = TestApp::request(axum::http::Method::PUT, "/api/v1/calendars/paris", &app.admin)
        .header("content-type", "application/json")
        .header("if-match", "\"1\"")
        .body(axum::body::Body::from(office.to_string()))
        .expect("a request");
    app.send(stale).await.problem(412, None);
    assert_eq!(app.get("/api/v1/rules", &app.viewer).await.expect(200).etag(), "\"2\"");
    // A forgotten `policies` does not remove every policy.
    app.put("/api/v1/sla", &app.admin, json!({"at_risk_minutes": 20})).await.problem(422, Some("policies"));
    let calendars = app.get("/api/v1/calendars", &app.viewer).await.expect(200).body;
    let names: Vec<&str> =
        calendars["items"].as_array().expect("items").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["24x7", "paris"]);

    // Bad calendars, each refused with its field; the rules stay at revision 2.
    for (body, field) in [
        (json!({"time_zone": "Europe/Paris", "monday": ["09:00-12:00", "11:00-18:00"]}), "calendars.bad.monday[1]"),
        (json!({"time_zone": "Europe/Paris", "monday": ["18:00-09:00"]}), "calendars.bad.monday[0]"),
        (json!({"time_zone": "Mars/Olympus", "monday": ["09:00-18:00"]}), "calendars.bad.time_zone"),
        (
            json!({"time_zone": "UTC", "monday": ["09:00-18:00"], "holidays": [{"date": "2026-02-30"}]}),
            "calendars.bad.holidays[0].date",
        ),
        (json!({"time_zone": "UTC"}), "calendars.bad.hours"),
    ] {
        app.put("/api/v1/calendars/bad", &app.admin, body).await.problem(422, Some(field));
    }
    app.put("/api/v1/calendars/bad", &app.admin, json!({"time_zone": "UTC", "mondey": ["09:00-18:00"]}))
        .await
        .problem(400, Some("mondey"));
    app.put("/api/v1/calendars/24x7", &app.admin, json!({"time_zone": "UTC", "always_open": true}))
        .await
        .problem(422, Some("calendars.24x7.name"));
    assert_eq!(revision(&app.get("/api/v1/rules", &app.viewer).await.expect(200)), 2);

    // Bad SLA settings.
    for (body, field) in [
        (json!({"policies": [{"name": "p", "first_response_minutes": -5}]}), "sla.policies[0].first_response_minutes"),
        (json!({"policies": [{"name": "p", "resolution_minutes": 99_999_999}]}), "sla.policies[0].resolution_minutes"),
        (
            json!({"policies": [{"name": "p", "resolution_minutes": 60, "calendar": "lyon"}]}),
            "sla.policies[0].calendar",
        ),
        (json!({"policies": [{"name": "p", "priority": "P7", "resolution_minutes": 60}]}), "sla.policies[0].priority"),
        (json!({"pause_statuses": ["waiting"], "policies": []}), "sla.pause_statuses[0]"),
        (json!({"at_risk_minutes": 0, "policies": []}), "sla.at_risk_minutes"),
    ] {
        app.put("/api/v1/sla", &app.admin, body).await.problem(422, Some(field));
    }
    assert_eq!(revision(&app.get("/api/v1/rules", &app.viewer).await.expect(200)), 2);

    // A team must work to a calendar that exists.
    app.post("/api/v1/teams", &app.admin, json!({"id": "nights", "name": "Nights", "calendar": "lyon"}))
        .await
        .problem(422, Some("calendar"));

    // A good change: billing tickets get their own policy on the office calendar. Tickets
    // already open keep their targets until the policies are applied to them.
    let before = app.create(&app.lead, json!({"category": "billing"})).await.expect(201).body;
    assert_eq!(before["sla"]["policy"], "standard");
    let sla = json!({"at_risk_minutes": 10, "policies": [
        {"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440},
        {"name": "billing", "category": "billing", "first_response_minutes": 120, "resolution_minutes": 960, "calendar": "paris"}
    ]});
    assert_eq!(revision(&app.put("/api/v1/sla", &app.admin, sla).await.expect(200)), 3);
    let after = app.create(&app.lead, json!({"category": "billing"})).await.expect(201).body;
    assert_eq!((after["sla"]["policy"].as_str(), after["sla"]["calendar"].as_str()), (Some("billing"), Some("paris")));
    let before_id = before["id"].as_str().expect("id");
    let unchanged = app.get(&format!("/api/v1/tickets/{before_id}"), &app.lead).await.expect(200).body;
    assert_eq!(unchanged["sla"]["policy"], "standard");
    app.post("/api/v1/sla/recompute", &app.lead, json!({})).await.problem(403, None);
    let report = app.post("/api/v1/sla/recompute", &app.admin, json!({})).await.expect(200).body;
    assert_eq!((report["n_tickets"].as_u64(), report["n_changed"].as_u64()), (Some(2), Some(1)));
    let moved = app.get(&format!("/api/v1/tickets/{before_id}"), &app.lead).await.expect(200).body;
    assert_eq!(moved["sla"]["policy"], "billing");
    assert!(event_kinds(&app, before_id).await.contains(&"sla_applied".to_owned()));

    // A calendar in use cannot go: not by DELETE, not by replacing the whole document.
    app.delete("/api/v1/calendars/paris", &app.admin).await.problem(409, None);
    let mut without_paris = app.get("/api/v1/rules", &app.viewer).await.expect(200).body["rules"].clone();
    without_paris["calendars"] = json!({});
    without_paris["sla"]["policies"] =
        json!([{"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440}]);
    let refused = app.put("/api/v1/rules", &app.admin, without_paris).await.problem(409, None);
    assert!(
        refused.body["detail"].as_str().is_some_and(|d| d.contains("open tickets run on calendar `paris`")),
        "{}",
        refused.body
    );
    app.delete("/api/v1/calendars/nowhere", &app.admin).await.problem(404, None);
}

/// The configuration file against the changes made through the API: a file not seen before
/// wins; the same file again leaves the API's changes in force.
async fn a_changed_configuration_file_wins(app: TestApp) {
    use vigie_server::rules::RulesHandle;
    let now: Timestamp = "2026-06-01T08:00:00Z".parse().expect("valid");
    let file_a = "[sla]\n[[sla.policies]]\nname = \"from-file\"\nresolution_minutes = 100\n";
    let loaded = RulesHandle::load(&app.store, Some(("a.toml", file_a)), now).await.expect("valid file");
    assert_eq!(loaded.snapshot().1, 1);
    assert_eq!(loaded.snapshot().0.sla.policies[0].name, "from-file");
    let mut document = (*loaded.snapshot().0).clone();
    document.sla.policies[0].name = "from-api".into();
    loaded.change(&app.store, 1, document.clone(), "root", now).await.map_err(|_| "refused").expect("a valid change");
    // A change made from an older revision is refused: the other change is not lost.
    let stale = loaded.change(&app.store, 1, document, "someone-else", now).await;
    assert!(matches!(stale, Err(vigie_server::rules::RulesChangeError::Store(vigie_store::StoreError::Conflict(_)))));
    let again = RulesHandle::load(&app.store, Some(("a.toml", file_a)), now).await.expect("valid file");
    assert_eq!((again.snapshot().1, again.snapshot().0.sla.policies[0].name.as_str()), (2, "from-api"));
    let without = RulesHandle::load(&app.store, None, now).await.expect("saved rules");
    assert_eq!(without.snapshot().0.sla.policies[0].name, "from-api");
    let file_b = file_a.replace("100", "200");
    let edited = RulesHandle::load(&app.store, Some(("a.toml", &file_b)), now).await.expect("valid file");
    assert_eq!((edited.snapshot().1, edited.snapshot().0.sla.policies[0].resolution_minutes), (3, Some(200)));
    // A bad file is refused with its key and line, and nothing is saved.
    let bad = RulesHandle::load(&app.store, Some(("c.toml", "[sla]\nat_risk_minutes = \"soon\"\n")), now).await;
    let error = bad.expect_err("refused");
    assert!(error.contains("c.toml") && error.contains("at_risk_minutes") && error.contains("line 2"), "{error}");
    let bad = RulesHandle::load(
        &app.store,
        Some(("d.toml", "[[sla.policies]]\nname = \"x\"\nresolution_minutes = -1\n")),
        now,
    )
    .await;
    let error = bad.expect_err("refused");
    assert!(error.contains("sla.policies[0].resolution_minutes"), "{error}");
    assert_eq!(RulesHandle::load(&app.store, None, now).await.expect("saved").snapshot().1, 3);
}

crate::on_both_backends!(
    scheduler_records_warnings_and_breaches_once,
    pending_customer_pauses_the_clock,
    lists_filter_by_sla_state_and_deadline,
    rules_change_through_the_api,
    a_changed_configuration_file_wins,
);
