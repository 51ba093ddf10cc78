use axum::body::Body;
use axum::http::{Method, Request, header};
use jiff::Timestamp;
use serde_json::json;
use vigie_core::{Role, TeamId};
use vigie_store::UserRecord;

use crate::helpers::TestApp;

on_both_backends!(signing_in_and_refusing_forged_writes);

fn form(path: &str, body: &str, cookie: Option<&str>, site: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "vigie.example")
        .header("x-forwarded-proto", "https");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    if let Some(site) = site {
        builder = builder.header("sec-fetch-site", site);
    }
    builder.body(Body::from(body.to_owned())).expect("a request")
}

/// The form token of a page.
fn form_token(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form token")
        .to_owned()
}

const PASSWORD: &str = "a long enough secret";

/// The user `ana`, an agent of the front office, whose password is [`PASSWORD`].
async fn agent_ana(app: &TestApp) {
    let user = UserRecord {
        name: "ana".into(),
        password_hash: vigie_server::web::session::hash_password(PASSWORD).expect("hash"),
        role: Role::Agent,
        teams: vec![TeamId::parse("front_office").expect("id")],
    };
    app.store.create_user(&user, Timestamp::now()).await.expect("user");
}

fn page(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri(path).header(header::HOST, "vigie.example");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).expect("a request")
}

async fn signing_in_and_refusing_forged_writes(app: TestApp) {
    let password = PASSWORD;
    agent_ana(&app).await;
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();

    // Not signed in: to the sign-in page, and back after.
    let reply = app.send(page("/dashboard", None)).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.headers[header::LOCATION], "/login?next=%2Fdashboard");
    // A wrong password: 401, the page says so, no cookie.
    let reply = app.send(form("/login", "name=ana&password=nope&next=%2Fqueue", None, Some("same-origin"))).await;
    assert_eq!(reply.status, 401);
    assert!(reply.text.contains("Wrong name or password."));
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    // An unknown name: the same answer.
    let reply = app.send(form("/login", "name=bob&password=nope", None, Some("same-origin"))).await;
    assert_eq!(reply.status, 401);
    // A sign-in posted from another site is refused.
    let body = format!("name=ana&password={}", password.replace(' ', "+"));
    let reply = app.send(form("/login", &body, None, Some("cross-site"))).await;
    assert_eq!(reply.status, 403);
    // The right password: a session cookie, and only paths of ours to go back to.
    for next in ["%2F%2Fevil.example", "%2F%09%2Fevil.example", "%2F%5Cevil.example", "https%3A%2F%2Fevil.example"] {
        let reply = app.send(form("/login", &format!("{body}&next={next}"), None, Some("same-origin"))).await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.headers[header::LOCATION], "/dashboard", "next={next}");
    }
    let queue = format!("{body}&next=%2Fqueue%3Fteam%3Dfront_office");
    let reply = app.send(form("/login", &queue, None, Some("same-origin"))).await;
    assert_eq!(reply.headers[header::LOCATION], "/queue?team=front_office");
    // Behind an HTTPS proxy the cookie is Secure; over plain HTTP it could not be kept.
    let mut plain = form("/login", &body, None, Some("same-origin"));
    plain.headers_mut().remove("x-forwarded-proto");
    let reply = app.send(plain).await;
    assert!(!reply.headers[header::SET_COOKIE].to_str().expect("text").contains("Secure"));
    let reply = app.send(form("/login", &body, None, Some("same-origin"))).await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("text").to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing from {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let reply = app.send(page("/dashboard", Some(&cookie))).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.contains("data-figure=\"backlog_count\""));
    let reply = app.send(page(&format!("/tickets/{id}"), Some(&cookie))).await;
    assert_eq!(reply.status, 200);
    let csrf = form_token(&reply.text);

    // A session does not open the API: tokens are for machines.
    let request =
        Request::builder().uri("/api/v1/backlog").header(header::COOKIE, &cookie).body(Body::empty()).expect("request");
    assert_eq!(app.send(request).await.status, 401);

    // Writes without the form's token, or from another site, change nothing.
    let events_before =
        app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events").len();
    let path = format!("/tickets/{id}/reply");
    let reply = app.send(form(&path, "csrf=forged&body=Hello&public=true", Some(&cookie), Some("same-origin"))).await;
    assert_eq!(reply.status, 403);
    let reply =
        app.send(form(&path, &format!("csrf={csrf}&body=Hello&public=true"), Some(&cookie), Some("cross-site"))).await;
    assert_eq!(reply.status, 403);
    let events_after =
        app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events").len();
    assert_eq!(events_before, events_after);
    // With it: the reply is recorded, under the user's name.
    let reply =
        app.send(form(&path, &format!("csrf={csrf}&body=Hello&public=true"), Some(&cookie), Some("same-origin"))).await;
    assert_eq!(reply.status, 303);
    let events = app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events");
    assert!(
        events.iter().any(|e| e.actor == "ana"
            && matches!(&e.kind, vigie_core::EventKind::CommentAdded { body, .. } if body == "Hello"))
    );
    // An empty reply is refused with the field named, on the page.
    let reply =
        app.send(form(&path, &format!("csrf={csrf}&body=&public=true"), Some(&cookie), Some("same-origin"))).await;
    assert_eq!(reply.status, 303);
    assert!(reply.headers[header::LOCATION].to_str().expect("text").contains("kind=error"));

    // A form posted once the session is gone leads, after signing in, back to its page.
    let reply = app.send(form(&path, "csrf=x&body=Hello", None, Some("same-origin"))).await;
    assert_eq!(reply.headers[header::LOCATION], format!("/login?next=%2Ftickets%2F{id}").as_str());

    // Signing out ends the session.
    let reply = app.send(form("/logout", &format!("csrf={csrf}"), Some(&cookie), Some("same-origin"))).await;
    assert_eq!(reply.status, 303);
    assert_eq!(app.send(page("/dashboard", Some(&cookie))).await.status, 303);

    // A new password ends every session of the user.
    let reply = app.send(form("/login", &body, None, Some("same-origin"))).await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("text").to_owned();
    let cookie = set_cookie.split(';').next().expect("cookie").to_owned();
    assert_eq!(app.send(page("/dashboard", Some(&cookie))).await.status, 200);
    let new_hash = vigie_server::web::session::hash_password("another long secret").expect("hash");
    assert!(app.store.set_password("ana", &new_hash).await.expect("set"));
    assert_eq!(app.send(page("/dashboard", Some(&cookie))).await.status, 303);
}

on_both_backends!(a_batch_is_answered_from_its_page);

/// The batches page lists the clusters of similar open tickets the user may see, and one reply
/// there reaches each of them as its own comment; a forged post changes nothing.
async fn a_batch_is_answered_from_its_page(app: TestApp) {
    let password = PASSWORD;
    agent_ana(&app).await;
    let said = "Mon paiement par carte est refusé sur votre site depuis ce matin, la banque dit que tout va bien.";
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = json!({"subject": "Paiement refusé", "body": format!("{said} Commande {n}.")});
        ids.push(app.create(&app.lead, body).await.expect(201).body["id"].as_str().expect("id").to_owned());
    }
    let elsewhere = json!({"team": "back_office", "subject": "Paiement refusé", "body": format!("{said} Commande 9.")});
    let hidden = app.create(&app.lead, elsewhere).await.expect(201).body["id"].as_str().expect("id").to_owned();

    let body = format!("name=ana&password={}", password.replace(' ', "+"));
    let reply = app.send(form("/login", &body, None, Some("same-origin"))).await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("text").to_owned();
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let reply = app.send(page("/batches", Some(&cookie))).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.contains("Reply to these 3 tickets"), "{}", reply.text);
    assert!(reply.text.contains("paiement"), "the batch is named");
    for id in &ids {
        assert!(reply.text.contains(&format!("/tickets/{id}\"")), "{id} listed");
    }
    assert!(!reply.text.contains(&hidden), "another team's ticket is not shown");
    let csrf = form_token(&reply.text);
    let posted_ids = format!("{},{hidden}", ids.join(","));
    let answer = "Un incident de paiement est en cours de correction.";
    let fields = format!("csrf={csrf}&ids={posted_ids}&public=true&body={}", answer.replace(' ', "+"));
    let forged = app.send(form("/batches/reply", &fields, Some(&cookie), Some("cross-site"))).await;
    assert_eq!(forged.status, 403);
    let reply = app.send(form("/batches/reply", &fields, Some(&cookie), Some("same-origin"))).await;
    assert_eq!(reply.status, 303);
    let location = reply.headers[header::LOCATION].to_str().expect("text").to_owned();
    assert!(location.contains("Replied+to+3+tickets") && location.contains("kind=error"), "{location}");
    for id in ids.iter().chain([&hidden]) {
        let events =
            app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events");
        let replies = events
            .iter()
            .filter(|e| matches!(&e.kind, vigie_core::EventKind::CommentAdded { body, .. } if body == answer))
            .count();
        assert_eq!(replies, usize::from(id != &hidden), "{id}: the back office's ticket is not the agent's to answer");
    }
    // An empty answer is refused, named on the page.
    let empty = format!("csrf={csrf}&ids={}&public=true&body=", ids.join(","));
    let reply = app.send(form("/batches/reply", &empty, Some(&cookie), Some("same-origin"))).await;
    assert!(reply.headers[header::LOCATION].to_str().expect("text").contains("kind=error"));
}

on_both_backends!(a_macro_is_applied_from_the_ticket_page);

async fn a_macro_is_applied_from_the_ticket_page(app: TestApp) {
    agent_ana(&app).await;
    let mut rules = serde_json::to_value(&*app.state.rules.snapshot().0).expect("JSON");
    rules["macros"] = json!({"ask-invoice": {"title": "Ask for the invoice",
        "reply": "Could you send the invoice of {{ ticket.id }}? {{ agent }}",
        "actions": [{"set": "status", "to": "pending_customer"}]}});
    app.put("/api/v1/rules", &app.admin, rules).await.expect(200);
    let id = app.create(&app.lead, json!({})).await.expect(201).body["id"].as_str().expect("id").to_owned();
    let body = format!("name=ana&password={}", PASSWORD.replace(' ', "+"));
    let reply = app.send(form("/login", &body, None, Some("same-origin"))).await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("text").to_owned();
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let page_text = app.send(page(&format!("/tickets/{id}"), Some(&cookie))).await.text;
    assert!(page_text.contains("<option value=\"ask-invoice\">Ask for the invoice</option>"), "{page_text}");
    let csrf = form_token(&page_text);
    let path = format!("/tickets/{id}/macro");
    // A forged post changes nothing; a stale version is refused on the page.
    let fields = format!("csrf={csrf}&name=ask-invoice&version=1");
    assert_eq!(app.send(form(&path, &fields, Some(&cookie), Some("cross-site"))).await.status, 403);
    let stale = app
        .send(form(&path, &format!("csrf={csrf}&name=ask-invoice&version=7"), Some(&cookie), Some("same-origin")))
        .await;
    assert!(stale.headers[header::LOCATION].to_str().expect("text").contains("kind=error"));
    let applied = app.send(form(&path, &fields, Some(&cookie), Some("same-origin"))).await;
    assert_eq!(applied.status, 303);
    assert!(!applied.headers[header::LOCATION].to_str().expect("text").contains("kind=error"));
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), &app.lead).await.expect(200);
    assert_eq!(ticket.body["status"], "pending_customer");
    let events = app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events");
    assert!(events.iter().any(|e| e.actor == "ana"
        && matches!(&e.kind, vigie_core::EventKind::CommentAdded { body, public: true, .. }
            if *body == format!("Could you send the invoice of {id}? ana"))));
}

on_both_backends!(a_ticket_is_handed_over_from_its_page);

/// The ticket page shows where the request is on its path and hands it over: the next team
/// gets it, the agent goes back to the queue (the ticket is out of their sight), the history
/// says why; a check not met is named on the page.
async fn a_ticket_is_handed_over_from_its_page(app: TestApp) {
    agent_ana(&app).await;
    let mut rules = serde_json::to_value(&*app.state.rules.snapshot().0).expect("JSON");
    rules["workflows"] = json!({"billing_dispute": {"steps": [
        {"name": "qualify", "team": "front_office", "sla_hours": 4, "requires": [{"tag": "qualified"}]},
        {"name": "investigate", "team": "back_office"}
    ]}});
    app.put("/api/v1/rules", &app.admin, rules).await.expect(200);
    let id = app.create(&app.lead, json!({"category": "billing_dispute"})).await.expect(201).body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = format!("name=ana&password={}", PASSWORD.replace(' ', "+"));
    let reply = app.send(form("/login", &body, None, Some("same-origin"))).await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().expect("text").to_owned();
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let page_text = app.send(page(&format!("/tickets/{id}"), Some(&cookie))).await.text;
    assert!(page_text.contains("data-step=\"qualify\""), "{page_text}");
    assert!(
        page_text.contains("<option value=\"investigate\">next: investigate (back_office)</option>"),
        "{page_text}"
    );
    let csrf = form_token(&page_text);
    let path = format!("/tickets/{id}/handoff");
    let fields = format!("csrf={csrf}&to_step=investigate&version=1&reason=amount+checked");
    assert_eq!(app.send(form(&path, &fields, Some(&cookie), Some("cross-site"))).await.status, 403);
    // Not qualified: refused, named on the page.
    let refused = app.send(form(&path, &fields, Some(&cookie), Some("same-origin"))).await;
    let location = refused.headers[header::LOCATION].to_str().expect("text").to_owned();
    assert!(location.contains("kind=error") && location.contains("qualified"), "{location}");
    app.patch(&format!("/api/v1/tickets/{id}"), &app.agent, Some("*"), json!({"tags": ["qualified"]}))
        .await
        .expect(200);
    let fields = format!("csrf={csrf}&to_step=investigate&version=2&reason=amount+checked");
    let handed = app.send(form(&path, &fields, Some(&cookie), Some("same-origin"))).await;
    let location = handed.headers[header::LOCATION].to_str().expect("text").to_owned();
    assert!(location.starts_with("/queue") && !location.contains("kind=error"), "{location}");
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), &app.lead).await.expect(200);
    assert_eq!(
        (ticket.body["step"].as_str(), ticket.body["team"].as_str()),
        (Some("investigate"), Some("back_office"))
    );
    let events = app.store.ticket_events(&vigie_core::TicketId::parse(id.clone()).expect("id")).await.expect("events");
    assert!(events.iter().any(|e| e.actor == "ana"
        && matches!(&e.kind, vigie_core::EventKind::HandedOver { reason, .. } if reason == "amount checked")));
}
