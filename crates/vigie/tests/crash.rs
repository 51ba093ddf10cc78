//! Durability under `kill -9`: the real binary, a real store, 32 concurrent clients creating
//! tickets; the server is killed with SIGKILL mid-load, restarted, and every create that was
//! acknowledged (a 201 received) must be there. Runs on SQLite, and on PostgreSQL when
//! `VIGIE_TEST_PG_URL` is set (required when `VIGIE_REQUIRE_PG=1`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Server;
use serde_json::json;
use vigie_testdb::{Backend, TestDb};

const CLIENTS: usize = 32;

async fn acknowledged_creates_survive_sigkill(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let url = db.url().to_owned();
    let secret = common::admin_token(&url, "crash-test");
    let server = Server::start(&url, &[]);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("an HTTP client");

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client_idx in 0..CLIENTS {
        let (client, base, secret, stop) = (client.clone(), server.base.clone(), secret.clone(), stop.clone());
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

    let server = Server::start(&url, &[]);
    for id in &acknowledged {
        let response = client
            .get(format!("{}/api/v1/tickets/{id}", server.base))
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
