//! W6 "create": durable ticket creates over HTTP with 32 concurrent clients (closed loop), on
//! SQLite and on PostgreSQL, against the real `vigie serve` binary. Prints creates/s and the
//! p50/p99 latency, and the ratio to django-helpdesk's figure on this machine
//! (shared/bench/PEER_BASELINES_SERVER.md: 112.8 creates/s at best, 50–120 typical).
//!
//! Run: `cargo bench -p vigie --bench http_creates` (SQLite); add
//! `VIGIE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test` for PostgreSQL too.
//! `VIGIE_BENCH_SECONDS` sets the measured duration (default 10).
//!
//! The client runs in this process on the same 2 cores as the server, so the figures are a
//! lower bound of the server's capacity; wrk (bench/loadtest) costs less per request.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use vigie_testdb::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");
const CLIENTS: usize = 32;
/// django-helpdesk's best create rate on this machine (PEER_BASELINES_SERVER.md, create@1M).
const PEER_CREATES_PER_S: f64 = 112.8;

fn main() {
    let seconds: u64 = std::env::var("VIGIE_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    println!(
        "W6 create: {CLIENTS} concurrent clients, {seconds} s measured after 2 s of warm-up, durable acknowledgements"
    );
    println!("| backend | creates/s | p50 ms | p99 ms | max ms | errors | vs django-helpdesk |");
    println!("|---|---|---|---|---|---|---|");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        runtime.block_on(bench(backend, Duration::from_secs(seconds)));
    }
}

async fn bench(backend: Backend, duration: Duration) {
    let Some(db) = TestDb::create(backend).await else { return };
    let url = db.url().to_owned();
    let secret = token(&url);
    let mut server = start(&url);
    let base_url = server.1.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("an HTTP client");

    // Warm-up, then the measured run.
    let _ = run_clients(&client, &base_url, &secret, Duration::from_secs(2)).await;
    let (histogram, n_errors, elapsed) = run_clients(&client, &base_url, &secret, duration).await;
    let n_ok = histogram.len();
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let rate = n_ok as f64 / elapsed.as_secs_f64();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1_000.0;
    println!(
        "| {backend:?} | {rate:.0} | {:.2} | {:.2} | {:.2} | {n_errors} | {:.0}× |",
        ms(0.5),
        ms(0.99),
        histogram.max() as f64 / 1_000.0,
        rate / PEER_CREATES_PER_S
    );
    server.0.kill().expect("the server stops");
    let _ = server.0.wait();
    db.destroy().await;
}

async fn run_clients(
    client: &reqwest::Client,
    base_url: &str,
    secret: &str,
    duration: Duration,
) -> (Histogram<u64>, usize, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client_idx in 0..CLIENTS {
        let (client, url, secret, stop) =
            (client.clone(), format!("{base_url}/api/v1/tickets"), secret.to_owned(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3).expect("a histogram");
            let mut n_errors = 0;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = format!(
                    "{{\"subject\": \"Load test ticket {client_idx}-{n}\", \"body\": \"Created by the W6 load test.\", \
                     \"channel\": \"email\", \"category\": \"billing\", \"priority\": \"P3\", \"customer_id\": \"load-{client_idx}\"}}"
                );
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&secret)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status().as_u16() == 201 => {
                        let _ = response.bytes().await;
                        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                        let _ = histogram.record(micros.max(1));
                    }
                    _ => n_errors += 1,
                }
            }
            (histogram, n_errors)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut total = Histogram::<u64>::new(3).expect("a histogram");
    let mut n_errors = 0;
    for task in tasks {
        let (histogram, errors) = task.await.expect("a client task ends");
        total.add(histogram).expect("histograms of the same precision add up");
        n_errors += errors;
    }
    (total, n_errors, elapsed)
}

fn token(db: &str) -> String {
    let output = Command::new(BIN)
        .args(["token", "create", "--db", db, "--role", "admin", "--name", "bench"])
        .output()
        .expect("vigie token create runs");
    assert!(output.status.success(), "token create failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned()
}

fn start(db: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .env("VIGIE_LOG", "warn,vigie=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let address = loop {
        let line = lines.next().expect("the server logs its address").expect("a line");
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().expect("an address").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{address}"))
}
