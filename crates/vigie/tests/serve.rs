//! The server's lifetime: stopping it ends the live streams still open (a wall left on must not
//! hold a graceful shutdown until it is killed).

mod common;

use std::time::Duration;

use jiff::Timestamp;
use vigie_core::Role;
use vigie_server::AppState;
use vigie_server::rules::{RulesDocument, RulesHandle};
use vigie_testdb::{Backend, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_ends_the_open_streams() {
    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite");
    let store = db.open().await;
    let secret = common::token(&store, "wall", Role::Viewer, Timestamp::now()).await;
    let rules = RulesHandle::fixed(RulesDocument::default()).expect("rules");
    let state = AppState::start(store, AppState::system_clock(), rules).await.expect("the app starts");
    let served = common::Served::start(state).await;
    let mut stream = reqwest::Client::new()
        .get(format!("{}/api/v1/events/stream", served.base))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("the stream opens");
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("in time").expect("a chunk");
    assert!(first.is_some_and(|bytes| bytes.starts_with(b"event: backlog")));
    tokio::time::timeout(Duration::from_secs(10), served.stop()).await.expect("the server stops with a stream open");
    let rest =
        tokio::time::timeout(Duration::from_secs(5), async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(rest.is_ok(), "the stream ended");
}
