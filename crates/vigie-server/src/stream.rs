//! Server-Sent Events: the backlog as it changes. `GET /api/v1/events/stream` (a token) sends
//! the whole snapshot (`backlog`, as `GET /api/v1/backlog`) and every ticket change (`ticket`);
//! the wall page's stream (a session) sends its tiles (`tiles`). A snapshot is sent at once, then
//! after each burst of commits (gathered for [`SETTLE`]), and at least every [`REFRESH`] (ages
//! grow and deadlines pass with no commit).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::Value;
use tokio::sync::broadcast;
use vigie_core::{Actor, TeamId};

use crate::AppState;
use crate::auth::Caller;
use crate::backlog::Dashboard;

/// How long a burst of commits is gathered into one snapshot.
pub const SETTLE: Duration = Duration::from_millis(250);
/// The longest time between two snapshots.
pub const REFRESH: Duration = Duration::from_secs(15);

/// A ticket that changed, as the stream tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketChange {
    pub id: String,
    pub status: &'static str,
    pub priority: &'static str,
    pub team: Option<TeamId>,
    pub version: i64,
}

impl TicketChange {
    fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id, "status": self.status, "priority": self.priority,
            "team": self.team.as_ref().map(TeamId::as_str), "version": self.version,
        })
    }
}

/// What a stream sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// The API's: the whole snapshot and each ticket change.
    Api,
    /// The wall's: its tiles.
    Wall,
}

struct Cursor {
    state: AppState,
    changes: broadcast::Receiver<TicketChange>,
    first: bool,
    flavor: Flavor,
    reader: Actor,
}

/// The events of one subscriber, `reader`: the ticket changes of the teams they may see. The
/// stream ends when the server stops (an open stream must not hold a graceful shutdown).
pub fn events(state: AppState, flavor: Flavor, reader: Actor) -> impl Stream<Item = Result<Event, Infallible>> {
    let changes = state.changes.subscribe();
    let mut closing = state.closing.subscribe();
    let cursor = Cursor { state, changes, first: true, flavor, reader };
    stream::unfold(cursor, |mut cursor| async move {
        let mut changed = Vec::new();
        if !cursor.first {
            // Wait for a change (or the refresh), then gather the burst it starts.
            match tokio::time::timeout(REFRESH, cursor.changes.recv()).await {
                Ok(Ok(change)) => changed.push(change),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) | Err(_) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
            if !changed.is_empty() {
                tokio::time::sleep(SETTLE).await;
            }
            loop {
                match cursor.changes.try_recv() {
                    Ok(change) => changed.push(change),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
        }
        cursor.first = false;
        let dashboard = Dashboard::at(&cursor.state, cursor.state.now());
        let mut out = Vec::new();
        if cursor.flavor == Flavor::Api {
            for change in changed.iter().filter(|change| cursor.reader.can_see_team(change.team.as_ref())) {
                out.push(Ok(Event::default().event("ticket").data(change.to_json().to_string())));
            }
            out.push(Ok(Event::default().event("backlog").data(dashboard.to_json().to_string())));
        } else {
            out.push(Ok(Event::default()
                .event("tiles")
                .data(crate::web::tiles_json(&dashboard, &cursor.state.operations.day_zone).to_string())));
        }
        Some((stream::iter(out), cursor))
    })
    .flatten()
    .take_until(async move {
        let _ = closing.wait_for(|closing| *closing).await;
    })
}

/// Backlog snapshots and ticket changes as they happen (Server-Sent Events): `backlog` events
/// carry the snapshot of `GET /api/v1/backlog`, `ticket` events `{id, status, priority, team,
/// version}`.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "backlog",
    responses((status = 200, content_type = "text/event-stream", body = String),
        (status = 401, body = crate::error::Problem)))]
pub async fn api_stream(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(events(state, Flavor::Api, actor)).keep_alive(KeepAlive::default())
}
