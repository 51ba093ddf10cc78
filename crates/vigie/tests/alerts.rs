//! Alerts delivered for real: a rule of the configuration fires as tickets arrive over the
//! API, its webhook is posted to an HTTP receiver on loopback (which fails the first attempt:
//! the delivery is retried, with the same delivery id, and signed with HMAC-SHA256), and its
//! e-mail reaches a real SMTP server on loopback (Python's aiosmtpd); the cooldown keeps the
//! rule quiet after that, and the history says how each delivery went.
//!
//! Needs `VIGIE_PYTHON` with aiosmtpd (`scripts/test` makes one).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};
use vigie_core::Role;
use vigie_core::directory::Team;
use vigie_core::{TeamId, alerts::AlertKind};
use vigie_server::AppState;
use vigie_server::rules::{RulesDocument, RulesHandle};
use vigie_server::settings::ConfigFile;
use vigie_testdb::{Backend, TestDb};

#[derive(Default)]
struct Received {
    calls: Vec<(HeaderMap, String)>,
}

async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().expect("lock");
                seen.calls.push((headers, body));
                // The first call fails: the delivery must be tried again.
                if seen.calls.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received)
}

/// aiosmtpd on a free port, writing what it receives into a maildir; stopped when dropped.
struct SmtpServer {
    process: common::Listening,
    maildir: tempfile::TempDir,
}

async fn smtp_server() -> SmtpServer {
    let maildir = tempfile::tempdir().expect("a maildir");
    let mailbox = maildir.path().join("box");
    let process = common::Listening::start("aiosmtpd", |port| {
        let mut command = std::process::Command::new(common::python());
        command
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(mailbox);
        command
    })
    .await;
    SmtpServer { process, maildir }
}

fn mails(server: &SmtpServer) -> Vec<String> {
    let new = server.maildir.path().join("box").join("new");
    std::fs::read_dir(new)
        .map(|entries| entries.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default()
}

async fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < within, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_signed_retried_mailed_and_then_quiet() {
    let (hook_url, received) = receiver().await;
    let smtp = smtp_server().await;
    let config = ConfigFile::from_toml(&format!(
        r#"
        [alerts]
        every_seconds = 1
        retry_seconds = 1
        [[alerts.rules]]
        name = "front-office-backlog"
        when = "backlog_count"
        team = "front_office"
        above = 2
        notify = ["ops", "leads"]
        [[alerts.webhooks]]
        name = "ops"
        url = "{hook_url}"
        secret = "s3cret"
        [[alerts.email]]
        name = "leads"
        smtp = "smtp://127.0.0.1:{port}"
        from = "vigie <vigie@example.org>"
        to = ["lead@example.org"]
        "#,
        port = smtp.process.port
    ))
    .expect("the configuration parses");
    let operations = config.operations().expect("valid operations");
    assert_eq!(operations.alerts.rules[0].kind, AlertKind::BacklogCount);

    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite");
    let store = db.open().await;
    let now = Timestamp::now();
    let team = Team { id: TeamId::parse("front_office").expect("id"), name: "Front office".into(), calendar: None };
    store.create_team(&team, now).await.expect("team");
    let secret = common::token(&store, "intake", Role::Lead, now).await;
    let state = AppState::start(
        store.clone(),
        AppState::system_clock(),
        RulesHandle::fixed(RulesDocument::default()).expect("rules"),
    )
    .await
    .expect("the app starts")
    .with_operations(operations);
    let served = common::Served::start(state).await;
    let base = served.base.clone();
    let api = reqwest::Client::new();
    for n in 0..3 {
        let response = api
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&secret)
            .json(
                &json!({"subject": format!("Outage {n}"), "body": "Down.", "channel": "email", "category": "incident",
                          "priority": "P2", "customer_id": "acme", "team": "front_office"}),
            )
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201);
    }

    // The webhook: refused once, then delivered, with the same delivery id, signed.
    eventually(Duration::from_secs(20), "the webhook's second attempt", || {
        received.lock().expect("lock").calls.len() >= 2
    })
    .await;
    let calls = received.lock().expect("lock").calls.clone();
    let id_of = |headers: &HeaderMap| headers["x-vigie-delivery"].to_str().expect("text").to_owned();
    assert_eq!(id_of(&calls[0].0), id_of(&calls[1].0), "a retry keeps its delivery id");
    let (headers, body) = &calls[1];
    let timestamp: i64 = headers["x-vigie-timestamp"].to_str().expect("text").parse().expect("a number");
    assert_eq!(
        headers["x-vigie-signature"].to_str().expect("text"),
        vigie_server::alerts::signature("s3cret", timestamp, body)
    );
    let payload: Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(payload["rule"], "front-office-backlog");
    assert_eq!(payload["value"], 3.0);
    assert!(payload["summary"].as_str().expect("text").contains("3 open of front_office tickets"), "{payload}");

    // The e-mail, through a real SMTP server.
    eventually(Duration::from_secs(20), "the e-mail", || !mails(&smtp).is_empty()).await;
    let mail = mails(&smtp).remove(0);
    assert!(mail.contains("Subject: [vigie] front-office-backlog: 3 open of front_office tickets"), "{mail}");
    assert!(mail.contains("To: lead@example.org"), "{mail}");

    // Quiet during its cooldown: three more evaluations record nothing new.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let history: Value = api
        .get(format!("{base}/api/v1/alerts"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("JSON");
    let items = history["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "one firing, two destinations: {history}");
    for item in items {
        assert_eq!(item["status"], "delivered", "{item}");
    }
    let hook = items.iter().find(|i| i["channel"] == "ops").expect("the webhook's row");
    assert_eq!(hook["attempts"], 2);
    assert_eq!(received.lock().expect("lock").calls.len(), 2, "nothing sent twice once delivered");

    served.stop().await;
}
