use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::json;
use vigie_core::{
    Channel, CustomerId, CustomerTier, Priority, SlaMarks, Status, StatusSince, TeamId, Ticket, TicketId,
};

use crate::helpers::TestApp;

async fn next(app: &TestApp, token: &str, body: serde_json::Value) -> crate::helpers::Reply {
    app.post("/api/v1/queue/next", token, body).await
}

/// "Next ticket" gives the best open, unassigned ticket the agent may take — their teams,
/// their skills — and claims it for them.
async fn next_ticket_follows_the_queue_and_the_skills(app: TestApp) {
    app.post(
        "/api/v1/agents",
        &app.admin,
        json!({"id": "bob", "name": "Bob", "teams": ["front_office", "back_office"],
        "skills": {"categories": ["billing"], "languages": ["fr"]}}),
    )
    .await
    .expect(201);
    let create = |fields: serde_json::Value| {
        let app = &app;
        async move { app.create(&app.lead, fields).await.expect(201).body["id"].as_str().expect("id").to_owned() }
    };
    let delivery = create(json!({"category": "delivery", "priority": "P3"})).await;
    let billing_en = create(json!({"category": "billing", "language": "en", "priority": "P3"})).await;
    let billing_fr = create(json!({"category": "billing", "language": "fr-CA", "priority": "P3"})).await;
    let urgent = create(json!({"category": "billing", "priority": "P1", "team": "back_office"})).await;
    let assigned = create(json!({"priority": "P1", "assignee": "ana"})).await;
    let pending = create(json!({"priority": "P1"})).await;
    app.patch(&format!("/api/v1/tickets/{pending}"), &app.lead, Some("*"), json!({"status": "pending_customer"}))
        .await
        .expect(200);

    // Ana (front office, any skill): the oldest deadline first; not the assigned or the
    // pending P1s, not the back office's.
    let first = next(&app, &app.agent, json!({"agent": "ana"})).await.expect(200);
    assert_eq!(first.body["id"], delivery.as_str());
    assert_eq!(first.body["assignee"], "ana");
    assert_eq!(first.body["status"], "open", "claiming a new ticket opens it");
    assert_eq!(first.body["version"], 2);
    assert_eq!(first.etag(), "\"2\"");
    // Bob (billing, French): the P1 of the back office first, then the French billing ticket;
    // never the English one, nor delivery.
    assert_eq!(next(&app, &app.lead, json!({"agent": "bob"})).await.expect(200).body["id"], urgent.as_str());
    assert_eq!(next(&app, &app.lead, json!({"agent": "bob"})).await.expect(200).body["id"], billing_fr.as_str());
    next(&app, &app.lead, json!({"agent": "bob"})).await.expect(204);
    // Only the back office's queue: nothing left there.
    next(&app, &app.lead, json!({"agent": "bob", "team": "back_office"})).await.expect(204);
    assert_eq!(next(&app, &app.agent, json!({"agent": "ana"})).await.expect(200).body["id"], billing_en.as_str());
    next(&app, &app.agent, json!({"agent": "ana"})).await.expect(204);
    let history = app.get(&format!("/api/v1/tickets/{billing_en}/events"), &app.lead).await.expect(200).body;
    let claimed = history["items"].as_array().and_then(|items| items.iter().find(|e| e["kind"] == "fields_changed"));
    let claimed = claimed.expect("the claim's event");
    assert_eq!(claimed["actor"], "ana");
    assert_eq!(claimed["change"], json!({"assignee": {"from": null, "to": "ana"}}));
    let _ = (assigned, pending);

    // Bad requests.
    next(&app, &app.viewer, json!({"agent": "ana"})).await.problem(403, None);
    next(&app, &app.agent, json!({"agent": "bob"})).await.problem(403, None);
    next(&app, &app.lead, json!({})).await.problem(422, Some("agent"));
    next(&app, &app.lead, json!({"agent": "nobody"})).await.problem(422, Some("agent"));
    next(&app, &app.lead, json!({"agent": "ana", "team": "back_office"})).await.problem(422, Some("team"));
    next(&app, &app.lead, json!({"agent": "ana", "skills": []})).await.problem(400, Some("skills"));
    next(&app, "", json!({"agent": "ana"})).await.problem(401, None);
}

const N_TICKETS: usize = 1_000;
const N_CALLERS: usize = 32;

/// 32 callers ask for their next ticket at once, again and again, over 1,000 tickets: every
/// ticket goes to exactly one of them.
async fn concurrent_callers_never_get_the_same_ticket(app: TestApp) {
    let rules = app.state.rules.rules();
    let origin: Timestamp = "2026-05-01T00:00:00Z".parse().expect("valid");
    let tickets: Vec<Ticket> = (0..N_TICKETS)
        .map(|i| {
            let n = i64::try_from(i).expect("small");
            let created_at = origin.checked_add(jiff::SignedDuration::from_secs(n * 37)).expect("in range");
            let priority = Priority::ALL[i % 4];
            Ticket {
                id: TicketId::parse(format!("L-{i}")).expect("valid"),
                version: 1,
                created_at,
                updated_at: created_at,
                first_response_at: None,
                resolved_at: None,
                status: if i % 2 == 0 { Status::New } else { Status::Open },
                priority,
                category: "billing".into(),
                channel: Channel::Email,
                customer_id: CustomerId::parse("acme").expect("valid"),
                customer_tier: CustomerTier::ALL[i % 3],
                team: Some(TeamId::parse("front_office").expect("valid")),
                assignee: None,
                subject: format!("Loaded {i}"),
                body: "Body".into(),
                csat: None,
                tags: Vec::new(),
                legal_risk: i % 7 == 0,
                blocking: false,
                language: None,
                status_history: vec![StatusSince { status: Status::New, since: created_at }],
                sla_targets: rules.sla.select("billing", priority, Channel::Email),
                sla_marks: SlaMarks::default(),
                rules_applied: Vec::new(),
                steps: Vec::new(),
            }
        })
        .collect();
    app.store.load_tickets(&tickets, "load").await.expect("loaded");
    app.state.live.rebuild(&app.store, app.state.now()).await.expect("rebuilt");
    for idx in 0..N_CALLERS {
        app.post(
            "/api/v1/agents",
            &app.admin,
            json!({"id": format!("agent-{idx}"), "name": "Agent", "teams": ["front_office"]}),
        )
        .await
        .expect(201);
    }
    let mut callers = tokio::task::JoinSet::new();
    for idx in 0..N_CALLERS {
        let router = app.router.clone();
        let lead = app.lead.clone();
        callers.spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let request = TestApp::request(axum::http::Method::POST, "/api/v1/queue/next", &lead)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(json!({"agent": format!("agent-{idx}")}).to_string()))
                    .expect("a request");
                let response = tower::ServiceExt::oneshot(router.clone(), request).await.expect("an answer");
                match response.status().as_u16() {
                    204 => break,
                    200 => {
                        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
                        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
                        assert_eq!(body["assignee"], format!("agent-{idx}").as_str());
                        claimed.push(body["id"].as_str().expect("id").to_owned());
                    }
                    status => panic!("unexpected status {status}"),
                }
            }
            claimed
        });
    }
    let mut all = Vec::new();
    while let Some(claimed) = callers.join_next().await {
        all.extend(claimed.expect("a caller finished"));
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a ticket went to two callers");
    assert_eq!(all.len(), N_TICKETS, "every ticket was claimed once");
    let unassigned = app.get("/api/v1/tickets?status=new", &app.lead).await.expect(200);
    assert_eq!(unassigned.body["items"].as_array().expect("items").len(), 0, "claiming opens every new ticket");

    // The live state kept by the commits equals one built again from the store.
    let restarted = app.restarted().await;
    let now = app.state.now();
    let query = vigie_server::live::LiveQuery { limit: N_TICKETS, ..Default::default() };
    let ids = |state: &vigie_server::AppState| -> Vec<String> {
        state.live.page(&query, now).0.into_iter().map(|item| item.id.to_string()).collect()
    };
    assert_eq!(ids(&app.state), ids(&restarted));
    assert_eq!(ids(&restarted).len(), N_TICKETS);
}

crate::on_both_backends!(next_ticket_follows_the_queue_and_the_skills, concurrent_callers_never_get_the_same_ticket);

/// Two instances on one database: each follows the other's commits through the log, and only
/// one runs the scheduler.
async fn instances_follow_each_other(app: TestApp) {
    let other = app.second_instance().await;
    let mut tail = vigie_server::tail::Tail::from_end(&other).await.expect("the log");
    let created = app.create(&app.lead, json!({"priority": "P1"})).await.expect(201).body;
    let id = TicketId::parse(created["id"].as_str().expect("id")).expect("valid");
    assert!(other.live.standing(&id).is_none(), "not seen before following the log");
    assert_eq!(tail.follow(&other).await.expect("followed"), 1);
    assert_eq!(other.live.standing(&id).map(|s| s.position), Some(1));
    // Claimed through the first instance: the second stops proposing it.
    let claimed = app.post("/api/v1/queue/next", &app.lead, json!({"agent": "ana"})).await.expect(200);
    assert_eq!(claimed.body["id"], id.as_str());
    tail.follow(&other).await.expect("followed");
    let reservation =
        other.live.reserve_candidates(&[TeamId::parse("front_office").expect("valid")], &Default::default(), 4);
    assert!(reservation.ids.is_empty(), "{:?}", reservation.ids);
    drop(reservation);
    // Solved through the first: gone from the second, and not brought back by an older copy.
    app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("*"), json!({"status": "solved"})).await.expect(200);
    tail.follow(&other).await.expect("followed");
    assert!(other.live.standing(&id).is_none());
    let stale = Ticket { status: Status::Open, ..app.store.ticket(&id).await.expect("read").expect("stored") };
    other.live.apply(&stale, 1, other.now());
    assert!(other.live.standing(&id).is_none(), "an older state does not bring it back");

    // The scheduler's lease: one holder at a time on PostgreSQL; SQLite has one server per file.
    let first = app.store.scheduler_lease().await.expect("asked");
    let second = other.store.scheduler_lease().await.expect("asked");
    if app.store.is_shared() {
        assert!(second.is_none(), "one holder");
        first.expect("the first asked holds it").release().await;
        let taken_over = other.store.scheduler_lease().await.expect("asked");
        assert!(taken_over.is_some(), "the lease passes on when its holder goes");
    } else {
        assert!(first.is_some() && second.is_some());
    }
    other.store.close().await;
}

/// An agent token asks for itself by default; a token whose teams are none of the agent's is
/// refused rather than answered "nothing".
async fn next_ticket_for_agent_tokens(app: TestApp) {
    app.create(&app.lead, json!({})).await.expect(201);
    let claimed = app.post("/api/v1/queue/next", &app.agent, json!({})).await.expect(200);
    assert_eq!(claimed.body["assignee"], "ana");
    let elsewhere = app.token(vigie_core::Role::Agent, &["back_office"], "ana-back").await;
    app.post("/api/v1/agents", &app.admin, json!({"id": "ana-back", "name": "Ana", "teams": ["front_office"]}))
        .await
        .expect(201);
    app.post("/api/v1/queue/next", &elsewhere, json!({})).await.problem(403, None);
}

crate::on_both_backends!(instances_follow_each_other, next_ticket_for_agent_tokens);
