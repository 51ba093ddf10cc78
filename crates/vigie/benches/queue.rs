//! The queue at scale: with 1,000,000 open tickets loaded, how fast the live state is built
//! at start, and the latency of "next ticket" (a durable claim), of the first page of the
//! queue order and of the live backlog snapshot (`GET /api/v1/backlog`) — in process (the
//! router called directly, and the live state alone) and over HTTP on loopback. The bars
//! (issues 3 and 5): p99 under 1 ms in process for the queue, under 5 ms over HTTP for all.
//!
//! Run: `cargo bench -p vigie --bench queue` (SQLite); `VIGIE_TEST_PG_URL=postgres://...`
//! adds PostgreSQL. `VIGIE_BENCH_TICKETS` sets the size (default 1,000,000),
//! `VIGIE_BENCH_REQUESTS` the requests measured per operation (default 2,000). Requests are
//! sequential (one client): this is latency, not throughput (see `http_creates` and W6 for that).
//! "Next ticket" claims a ticket each time: 3,000 claims (with warm-up) of a million.

mod common;

use std::time::Instant;

use hdrhistogram::Histogram;
use jiff::Timestamp;
use tower::ServiceExt;
use vigie_core::{Role, TeamId};
use vigie_server::AppState;
use vigie_server::live::LiveQuery;
use vigie_server::rules::{RulesDocument, RulesHandle};
use vigie_store::{Store, TokenRecord};
use vigie_testdb::{Backend, TestDb};

const RULES: &str = include_str!("../src/rules.example.toml");
use common::{AGENTS_PER_TEAM, TEAMS};

fn main() {
    let n_tickets: usize = env("VIGIE_BENCH_TICKETS", 1_000_000);
    let n_requests: usize = env("VIGIE_BENCH_REQUESTS", 2_000);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    println!("Queue latency with {n_tickets} open tickets, {n_requests} sequential requests per operation");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        runtime.block_on(bench(backend, n_tickets, n_requests));
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn bench(backend: Backend, n_tickets: usize, n_requests: usize) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = db.open().await;
    let document = RulesDocument::from_toml(RULES).expect("the example rules parse");
    let rules = document.to_rules().expect("the example rules hold");
    let now = Timestamp::now();

    let started = Instant::now();
    load(&store, &rules, n_tickets, now).await;
    println!("\n{backend:?}: loaded {n_tickets} open tickets in {:.1} s", started.elapsed().as_secs_f64());

    let rss_before = rss_mib();
    let started = Instant::now();
    let clock: vigie_server::Clock = std::sync::Arc::new(Timestamp::now);
    let state = AppState::start(store.clone(), clock, RulesHandle::fixed(document).expect("valid"))
        .await
        .expect("the live state builds");
    let rebuild = started.elapsed();
    println!(
        "live state rebuilt at start: {} open tickets in {:.2} s ({:.2} s reading the store, {:.2} s indexing); \
         resident memory {:.0} → {:.0} MiB (with the index of similar tickets: {} held)",
        state.live.len(),
        rebuild.as_secs_f64(),
        state.startup.reading.as_secs_f64(),
        state.startup.indexing.as_secs_f64(),
        rss_before,
        rss_mib(),
        state.similar.len()
    );

    // A second live state over the same store, now that the database's pages are cached: its
    // build time with a warm cache, and its own memory.
    let rss_before = rss_mib();
    let started = Instant::now();
    let second = vigie_server::live::LiveState::new(std::sync::Arc::new(rules.clone()));
    second.rebuild(&store, Timestamp::now()).await.expect("rebuilt");
    println!(
        "a second live state, warm cache: {:.2} s; its memory: {:.0} MiB ({:.0} bytes a ticket)",
        started.elapsed().as_secs_f64(),
        rss_mib() - rss_before,
        (rss_mib() - rss_before) * 1024.0 * 1024.0 / n_tickets.max(1) as f64
    );
    drop(second);

    let secret = vigie_server::auth::new_secret();
    let token = TokenRecord {
        hash: vigie_server::auth::hash_secret(&secret),
        name: "bench-lead".into(),
        role: Role::Lead,
        teams: Vec::new(),
    };
    store.create_token(&token, now).await.expect("a token");
    let router = vigie_server::app(state.clone());

    println!("| operation | where | p50 ms | p99 ms | max ms | bar |");
    println!("|---|---|---|---|---|---|");
    // The live state alone: the order's part of the work.
    let query = LiveQuery { limit: 50, ..LiveQuery::default() };
    let histogram = measure(n_requests, || {
        let state = state.clone();
        let query = query.clone();
        async move {
            let (items, _) = state.live.page(&query, Timestamp::now());
            assert_eq!(items.len(), 50);
        }
    })
    .await;
    report("first page of the queue (50)", "live state", &histogram, 1.0);
    let team = vec![TeamId::parse("front_office").expect("valid")];
    let skills = vigie_core::directory::Skills::default();
    let histogram = measure(n_requests, || {
        let state = state.clone();
        let team = team.clone();
        let skills = skills.clone();
        async move {
            let reservation = state.live.reserve_candidates(&team, &skills, 4);
            drop(reservation);
        }
    })
    .await;
    report("next ticket: candidates", "live state", &histogram, 1.0);
    let histogram = measure(n_requests, || {
        let state = state.clone();
        async move {
            let dashboard = vigie_server::backlog::Dashboard::at(&state, Timestamp::now());
            assert_eq!(dashboard.live.backlog.count, n_tickets as u64);
        }
    })
    .await;
    report("backlog snapshot", "live state", &histogram, 5.0);

    // The router in process: parsing, authentication, the live state, SQL, rendering, the
    // durable commit of a claim.
    let get = |uri: &'static str| {
        let router = router.clone();
        let secret = secret.clone();
        move || {
            let router = router.clone();
            let secret = secret.clone();
            async move {
                let request = axum::http::Request::get(uri)
                    .header("authorization", format!("Bearer {secret}"))
                    .body(axum::body::Body::empty())
                    .expect("a request");
                let response = router.oneshot(request).await.expect("an answer");
                assert_eq!(response.status(), 200);
                let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
            }
        }
    };
    let histogram = measure(n_requests, get("/api/v1/tickets?order=queue&limit=50")).await;
    report("first page of the queue (50)", "in process", &histogram, 1.0);
    let histogram =
        measure(n_requests, get("/api/v1/tickets?status=open&team=front_office&order=queue&limit=25")).await;
    report("first page of a team's queue (25)", "in process", &histogram, 1.0);
    let histogram = measure(n_requests, get("/api/v1/backlog")).await;
    report("backlog snapshot (GET /api/v1/backlog)", "in process", &histogram, 5.0);
    let mut agent_idx = 0;
    let histogram = measure(n_requests, || {
        agent_idx += 1;
        let router = router.clone();
        let secret = secret.clone();
        let team = TEAMS[agent_idx % TEAMS.len()];
        let agent = format!("{team}-{}", agent_idx % AGENTS_PER_TEAM);
        post_in_process(router, secret, "/api/v1/queue/next", format!("{{\"agent\": \"{agent}\"}}"), 200)
    })
    .await;
    report("next ticket (claim, durable)", "in process", &histogram, 1.0);
    // A create checks the new ticket against every open one (the loaded texts are all alike,
    // `Request N` / `The body of request N.`: the buckets are as crowded as they get).
    let mut created = 0;
    let histogram = measure(n_requests, || {
        created += 1;
        let router = router.clone();
        let secret = secret.clone();
        let body = create_body(created);
        post_in_process(router, secret, "/api/v1/tickets", body, 201)
    })
    .await;
    report("create a ticket (duplicate check, durable)", "in process", &histogram, 5.0);

    // Over HTTP on loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, vigie_server::app(state.clone())).await;
    });
    let client = reqwest::Client::builder().build().expect("a client");
    let base = format!("http://{address}");
    let http_get = |path: &'static str| {
        let client = client.clone();
        let url = format!("{base}{path}");
        let secret = secret.clone();
        move || {
            let client = client.clone();
            let url = url.clone();
            let secret = secret.clone();
            async move {
                let response = client.get(&url).bearer_auth(&secret).send().await.expect("an answer");
                assert_eq!(response.status(), 200);
                let _ = response.bytes().await.expect("a body");
            }
        }
    };
    let histogram = measure(n_requests, http_get("/api/v1/tickets?order=queue&limit=50")).await;
    report("first page of the queue (50)", "HTTP loopback", &histogram, 5.0);
    let histogram =
        measure(n_requests, http_get("/api/v1/tickets?status=open&team=front_office&order=queue&limit=25")).await;
    report("first page of a team's queue (25)", "HTTP loopback", &histogram, 5.0);
    let histogram = measure(n_requests, http_get("/api/v1/backlog")).await;
    report("backlog snapshot (GET /api/v1/backlog)", "HTTP loopback", &histogram, 5.0);
    let mut agent_idx = 0;
    let histogram = measure(n_requests, || {
        agent_idx += 1;
        let client = client.clone();
        let url = format!("{base}/api/v1/queue/next");
        let secret = secret.clone();
        let team = TEAMS[agent_idx % TEAMS.len()];
        let body = format!("{{\"agent\": \"{team}-{}\"}}", agent_idx % AGENTS_PER_TEAM);
        post_http(client, url, secret, body, 200)
    })
    .await;
    report("next ticket (claim, durable)", "HTTP loopback", &histogram, 5.0);
    let histogram = measure(n_requests, || {
        created += 1;
        let client = client.clone();
        let url = format!("{base}/api/v1/tickets");
        let secret = secret.clone();
        let body = create_body(created);
        post_http(client, url, secret, body, 201)
    })
    .await;
    report("create a ticket (duplicate check, durable)", "HTTP loopback", &histogram, 5.0);
    server.abort();
    store.close().await;
    db.destroy().await;
}

/// POSTs `body` through the router, in process; the answer must have `status`.
async fn post_in_process(router: axum::Router, secret: String, path: &str, body: String, status: u16) {
    let request = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let response = router.oneshot(request).await.expect("an answer");
    assert_eq!(response.status(), status);
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
}

/// POSTs `body` to `url` over HTTP; the answer must have `status`.
async fn post_http(client: reqwest::Client, url: String, secret: String, body: String, status: u16) {
    let response = client
        .post(&url)
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), status);
    let _ = response.bytes().await.expect("a body");
}

/// A new ticket like the loaded ones (so that its duplicate check meets crowded buckets).
fn create_body(n: usize) -> String {
    let team = TEAMS[n % TEAMS.len()];
    format!(
        "{{\"subject\": \"Request {n}\", \"body\": \"The body of request {n}.\", \"channel\": \"email\", \
         \"category\": \"billing\", \"priority\": \"P3\", \"customer_id\": \"c-{}\", \"team\": \"{team}\"}}",
        n % 5_000
    )
}

/// Runs `n` requests after `n / 2` of warm-up (the caches of a million tickets take a while to
/// settle: with less, whichever operation is measured first pays for it), one at a time; their
/// latencies.
async fn measure<F, Fut>(n: usize, mut request: F) -> Histogram<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..n / 2 {
        request().await;
    }
    let mut histogram = Histogram::<u64>::new(3).expect("a histogram");
    for _ in 0..n {
        let started = Instant::now();
        request().await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _ = histogram.record(micros.max(1));
    }
    histogram
}

fn report(operation: &str, place: &str, histogram: &Histogram<u64>, bar_ms: f64) {
    let ms = |micros: u64| micros as f64 / 1_000.0;
    let p99 = ms(histogram.value_at_quantile(0.99));
    let verdict = if p99 < bar_ms { "met" } else { "MISSED" };
    println!(
        "| {operation} | {place} | {:.3} | {p99:.3} | {:.3} | p99 < {bar_ms} ms: {verdict} |",
        ms(histogram.value_at_quantile(0.5)),
        ms(histogram.max())
    );
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// A backlog shaped like a busy desk: eight teams, nine categories, 5 % P1, a quarter waiting on
/// the customer, a third assigned, created over the last 60 days; each with the targets of the
/// example rules.
async fn load(store: &Store, rules: &vigie_core::Rules, n_tickets: usize, now: Timestamp) {
    common::directory(store, Some("paris-office"), now).await;
    let mut batch = Vec::with_capacity(10_000);
    for ticket in common::synthetic(rules, n_tickets, now, "Q", true) {
        batch.push(ticket);
        if batch.len() == batch.capacity() {
            store.load_tickets(&batch, "bench").await.expect("loaded");
            batch.clear();
        }
    }
    store.load_tickets(&batch, "bench").await.expect("loaded");
}
