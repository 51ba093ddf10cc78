//! Durability under `kill -9`: the real binary, a real store, 32 concurrent clients creating
//! tickets; the server is killed with SIGKILL mid-load, restarted, and every create that was
//! acknowledged (a 201 received) must be there. Runs on SQLite, and on PostgreSQL when
//! `VIGIE_TEST_PG_URL` is set (required when `VIGIE_REQUIRE_PG=1`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use vigie_testdb::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");
const CLIENTS: usize = 32;

/// A running `vigie serve`, and the address it listens on.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .env("VIGIE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vigie serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("the server logs its address before exiting").expect("a log line");
            if let Some(rest) = line.split("address=").nth(1) {
                break rest.split_whitespace().next().expect("an address").to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base_url: format!("http://{address}") }
    }

    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

fn token(db: &str) -> String {
    let output = Command::new(BIN)
        .args(["token", "create", "--db", db, "--role", "admin", "--name", "crash-test"])
        .output()
        .expect("vigie token create runs");
    assert!(output.status.success(), "token create failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("the token is UTF-8").trim().to_owned()
}

async fn acknowledged_creates_survive_sigkill(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let url = db.url().to_owned();
    let secret = token(&url);
    let server = Server::start(&url);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("an HTTP client");

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client_idx in 0..CLIENTS {
        let (client, base, secret, stop) = (client.clone(), server.base_url.clone(), secret.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({
                    "subject": format!("crash test {client_idx}-{n}"), "body": "", "channel": "web",
                    "category": "incident", "priority": "P2", "customer_id": format!("c{client_idx}"),
                });
                let sent = client.post(format!("{base}/api/v1/tickets")).bearer_auth(&secret).json(&body).send().await;
                match sent {
                    Ok(response) if response.status().as_u16() == 201 => {
                        let Ok(ticket) = response.json::<serde_json::Value>().await else { break };
                        acknowledged.push(ticket["id"].as_str().expect("the ticket has an id").to_owned());
                    }
                    // The server is gone (killed mid-request): that write was not acknowledged.
                    _ => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for task in clients {
        acknowledged.extend(task.await.expect("a client task ends"));
    }
    assert!(acknowledged.len() >= 100, "the load made progress before the kill ({} creates)", acknowledged.len());

    let server = Server::start(&url);
    for id in &acknowledged {
        let response = client
            .get(format!("{}/api/v1/tickets/{id}", server.base_url))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("the restarted server answers");
        assert_eq!(response.status().as_u16(), 200, "acknowledged ticket {id} was lost ({backend:?})");
    }
    println!("{backend:?}: {} acknowledged creates, all found after kill -9", acknowledged.len());
    server.kill_9();
    db.destroy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_creates_survive_sigkill() {
    acknowledged_creates_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_creates_survive_sigkill() {
    acknowledged_creates_survive_sigkill(Backend::Postgres).await;
}
