//! The pages in a real browser: Debian's headless Chromium driven through chromedriver
//! (fantoccini), against a real server on loopback over a real SQLite file.
//!
//! - Signing in (a wrong password is refused; the right one opens the dashboard).
//! - The wall turns a tile red by itself: tickets created over the API push the backlog past
//!   its red threshold, and the tile changes without a reload (a marker set in the page
//!   survives).
//! - The agent takes the next ticket in one click and replies to it.
//!
//! Needs `VIGIE_CHROMEDRIVER` and `VIGIE_CHROMIUM` (`scripts/test` sets them and fails when
//! they are missing). `VIGIE_SCREENSHOTS=<dir>` keeps screenshots of the pages there.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use jiff::Timestamp;
use serde_json::json;
use vigie_core::Role;
use vigie_core::directory::{Agent, Team};
use vigie_core::operations::Threshold;
use vigie_core::{AgentId, TeamId};
use vigie_server::AppState;
use vigie_server::rules::{RulesDocument, RulesHandle};
use vigie_server::settings::{Figure, Operations};
use vigie_store::UserRecord;
use vigie_testdb::{Backend, TestDb};

fn required(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(name).unwrap_or_else(|| {
        panic!("{name} is not set: the browser tests need Chromium and chromedriver (run the tests with scripts/test)")
    }))
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    /// Kept for its lifetime: dropping it stops chromedriver.
    _process: common::Listening,
    url: String,
}

async fn driver() -> Driver {
    let process = common::Listening::start("chromedriver", |port| {
        let mut command = Command::new(required("VIGIE_CHROMEDRIVER"));
        command.arg(format!("--port={port}"));
        command
    })
    .await;
    let url = format!("http://127.0.0.1:{}", process.port);
    Driver { _process: process, url }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": required("VIGIE_CHROMIUM"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())],
        }),
    );
    ClientBuilder::rustls()
        .expect("TLS")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn screenshot(client: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("VIGIE_SCREENSHOTS") {
        let png = client.screenshot().await.expect("a screenshot");
        std::fs::write(PathBuf::from(dir).join(name), png).expect("write the screenshot");
    }
}

async fn text_of(client: &Client, css: &str) -> String {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.expect("text")
}

/// Waits until `check` holds (at most `within`).
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks what submits a form, and waits until the page it leads to has loaded (a click does
/// not wait for the navigation it starts).
async fn submit(client: &Client, css: &str) {
    client.execute("window.vigieLeaving = true;", Vec::new()).await.expect("mark the page");
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
    eventually(Duration::from_secs(10), "the next page", || async {
        let state = client
            .execute("return [window.vigieLeaving === undefined, document.readyState];", Vec::new())
            .await
            .expect("read the page");
        state == json!([true, "complete"])
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_watch_the_wall_turn_red_take_the_next_ticket_and_reply() {
    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite is always there");
    let store = db.open().await;
    let now = Timestamp::now();
    let team = Team { id: TeamId::parse("front_office").expect("id"), name: "Front office".into(), calendar: None };
    store.create_team(&team, now).await.expect("team");
    let agent = Agent {
        id: AgentId::parse("ana").expect("id"),
        name: "Ana".into(),
        teams: vec![team.id.clone()],
        skill_categories: Vec::new(),
        skill_languages: Vec::new(),
    };
    store.create_agent(&agent, now).await.expect("agent");
    let password = "correct horse battery";
    let user = UserRecord {
        name: "ana".into(),
        password_hash: vigie_server::web::session::hash_password(password).expect("hash"),
        role: Role::Agent,
        teams: vec![team.id.clone()],
    };
    store.create_user(&user, now).await.expect("user");
    let secret = common::token(&store, "intake", Role::Lead, now).await;

    let rules: RulesDocument = serde_json::from_value(json!({
        "sla": {"policies": [{"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440}]},
        "handle_time": {"*": 30.0}
    }))
    .expect("rules");
    let mut operations = Operations::default();
    operations.thresholds.insert(Figure::BacklogCount, Threshold { amber: Some(2.0), red: Some(3.0) });
    let state = AppState::start(store, AppState::system_clock(), RulesHandle::fixed(rules).expect("valid"))
        .await
        .expect("the app starts")
        .with_operations(operations);
    let served = common::Served::start(state.clone()).await;
    let base = served.base.clone();
    let api = reqwest::Client::new();
    let create = |subject: &str| {
        let request = api.post(format!("{base}/api/v1/tickets")).bearer_auth(&secret).json(&json!({
            "subject": subject, "body": "It does not work.", "channel": "email", "category": "billing",
            "priority": "P3", "customer_id": "acme", "team": "front_office"
        }));
        async move {
            let response = request.send().await.expect("POST /api/v1/tickets");
            assert_eq!(response.status(), 201);
        }
    };
    create("Charged twice for March").await;

    let profile = tempfile::tempdir().expect("a profile");
    let driver = driver().await;
    let client = browser(&driver, profile.path()).await;

    // Signing in: the dashboard sends to the sign-in page, a wrong password is refused.
    client.goto(&format!("{base}/dashboard")).await.expect("goto");
    assert!(client.current_url().await.expect("url").path().ends_with("/login"));
    client.find(Locator::Css("#name")).await.expect("name").send_keys("ana").await.expect("type");
    client.find(Locator::Css("#password")).await.expect("password").send_keys("not it").await.expect("type");
    submit(&client, "#sign-in").await;
    assert_eq!(text_of(&client, "#login-error").await, "Wrong name or password.");
    client.find(Locator::Css("#password")).await.expect("password").send_keys(password).await.expect("type");
    submit(&client, "#sign-in").await;
    assert_eq!(client.current_url().await.expect("url").path(), "/dashboard");
    let count = text_of(&client, "[data-figure=backlog_count] b").await;
    assert_eq!(count, "1");
    screenshot(&client, "dashboard.png").await;

    // The wall: one ticket is below the thresholds; two more over the API turn it red, live.
    client.goto(&format!("{base}/wall")).await.expect("goto");
    let tile = client.find(Locator::Css("[data-figure=backlog_count]")).await.expect("tile");
    assert_eq!(tile.attr("data-level").await.expect("attr").as_deref(), Some("ok"));
    client.execute("window.vigieMarker = 'no reload';", Vec::new()).await.expect("mark the page");
    create("Refund not received").await;
    create("Invoice address wrong").await;
    eventually(Duration::from_secs(10), "the backlog tile turning red", || async {
        let tile = client.find(Locator::Css("[data-figure=backlog_count]")).await.expect("tile");
        tile.attr("data-level").await.expect("attr").as_deref() == Some("red")
    })
    .await;
    assert_eq!(text_of(&client, "[data-figure=backlog_count] b").await, "3");
    let marker = client.execute("return window.vigieMarker;", Vec::new()).await.expect("read the mark");
    assert_eq!(marker, json!("no reload"), "the wall changed without reloading");
    screenshot(&client, "wall.png").await;

    // The agent's screen: the next ticket in one click, then a reply.
    client.goto(&format!("{base}/queue")).await.expect("goto");
    assert!(text_of(&client, "#queue").await.contains("Charged twice for March"));
    submit(&client, "#take-next").await;
    let path = client.current_url().await.expect("url").path().to_owned();
    assert!(path.starts_with("/tickets/"), "{path}: {}", text_of(&client, "main").await);
    assert_eq!(text_of(&client, "#assignee").await, "ana");
    assert!(text_of(&client, "#flash").await.contains("yours now"));
    // The oldest of equals first: the first ticket created.
    assert!(text_of(&client, "h1").await.contains("Charged twice for March"));
    client
        .find(Locator::Css("#reply-body"))
        .await
        .expect("reply")
        .send_keys("We refunded the second charge.")
        .await
        .expect("type");
    submit(&client, "#send-reply").await;
    assert_eq!(text_of(&client, "#flash").await, "Reply sent.");
    let history = text_of(&client, "#history").await;
    assert!(history.contains("We refunded the second charge.") && history.contains("the first answer"), "{history}");
    assert_eq!(text_of(&client, "#status").await, "open", "the first answer opens a new ticket");
    screenshot(&client, "ticket.png").await;

    // Batches: two tickets that say one thing, answered at once from their page.
    create("Cannot download my invoice as PDF").await;
    create("Cannot download my invoice as PDF").await;
    state.clusters.refresh(&state).await.expect("the clusters");
    client.goto(&format!("{base}/batches")).await.expect("goto");
    let batch = text_of(&client, ".batch h2").await;
    assert!(batch.contains("download") && batch.contains("2 open"), "{batch}");
    client
        .find(Locator::Css(".batch-reply textarea"))
        .await
        .expect("the batch's reply")
        .send_keys("A fix for the PDF download is on its way.")
        .await
        .expect("type");
    submit(&client, ".batch-reply button").await;
    assert_eq!(text_of(&client, "#flash").await, "Replied to 2 tickets.");

    client.close().await.expect("close the browser");
    served.stop().await;
}

/// The screenshots of the README, on the demo backlog: `VIGIE_SCREENSHOTS=docs cargo test -p
/// vigie --test browser -- --ignored` (with the variables of `scripts/test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "makes the README's screenshots; run by hand"]
async fn screenshots_of_the_demo() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("demo.db");
    let db = db.to_str().expect("a path");
    let demo = Command::new(env!("CARGO_BIN_EXE_vigie")).args(["demo", "--db", db]).output().expect("vigie demo");
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let example = Command::new(env!("CARGO_BIN_EXE_vigie")).args(["rules", "example"]).output().expect("rules");
    let text = String::from_utf8(example.stdout).expect("UTF-8");
    let file = vigie_server::settings::ConfigFile::from_toml(&text).expect("the example parses");
    let store = vigie_store::Store::open(db).await.expect("the demo store");
    let password = "a demo password";
    let user = UserRecord {
        name: "claire.moreau".into(),
        password_hash: vigie_server::web::session::hash_password(password).expect("hash"),
        role: Role::Agent,
        teams: vec![TeamId::parse("front_office").expect("id"), TeamId::parse("outsourced").expect("id")],
    };
    store.create_user(&user, Timestamp::now()).await.expect("user");
    let rules = RulesHandle::load(&store, None, Timestamp::now()).await.expect("the demo's rules");
    let state = AppState::start(store, AppState::system_clock(), rules)
        .await
        .expect("the app starts")
        .with_operations(file.operations().expect("valid operations"));
    let served = common::Served::start(state).await;
    let base = served.base.clone();
    let profile = tempfile::tempdir().expect("a profile");
    let driver = driver().await;
    let client = browser(&driver, profile.path()).await;
    client.goto(&format!("{base}/login")).await.expect("goto");
    client.find(Locator::Css("#name")).await.expect("name").send_keys("claire.moreau").await.expect("type");
    client.find(Locator::Css("#password")).await.expect("password").send_keys(password).await.expect("type");
    submit(&client, "#sign-in").await;
    screenshot(&client, "dashboard.png").await;
    client.goto(&format!("{base}/wall")).await.expect("goto");
    screenshot(&client, "wall.png").await;
    client.goto(&format!("{base}/queue")).await.expect("goto");
    screenshot(&client, "queue.png").await;
    submit(&client, "#take-next").await;
    screenshot(&client, "ticket.png").await;
    // A complaint on its path, at the front office's step.
    let token = common::admin_token(db, "screenshots");
    let api = reqwest::Client::new();
    let list: serde_json::Value = api
        .get(format!("{base}/api/v1/tickets?category=complaint&team=front_office&status=open&limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/v1/tickets")
        .json()
        .await
        .expect("JSON");
    let id = list["items"][0]["id"].as_str().expect("an open complaint of the front office");
    client.goto(&format!("{base}/tickets/{id}")).await.expect("goto");
    screenshot(&client, "ticket-path.png").await;
    client.goto(&format!("{base}/reports/weekly")).await.expect("goto");
    screenshot(&client, "weekly.png").await;
    client.goto(&format!("{base}/reports/morning")).await.expect("goto");
    screenshot(&client, "morning.png").await;
    client.goto(&format!("{base}/batches")).await.expect("goto");
    screenshot(&client, "batches.png").await;
    client.close().await.expect("close");
    served.stop().await;
}
