use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use jiff::Timestamp;
use serde_json::{Value, json};
use tower::ServiceExt;
use vigie_core::{Role, TeamId};
use vigie_server::AppState;
use vigie_store::{Store, TokenRecord};

/// A fresh app over a fresh database, with a clock that moves one second per reading.
pub struct TestApp {
    pub router: axum::Router,
    pub state: AppState,
    pub store: Store,
    /// The clock's second, read (and moved on by one) at each reading: `set_now` jumps it.
    pub clock: Arc<AtomicI64>,
    pub admin: String,
    pub lead: String,
    pub agent: String,
    pub viewer: String,
    /// Dropped last: deletes the test database.
    _db: vigie_testdb::TestDb,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    /// The body as text (for the bodies that are not JSON).
    pub text: String,
}

impl Reply {
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self
    }

    /// Asserts a problem+json reply with this status naming this field.
    #[track_caller]
    pub fn problem(self, status: u16, field: Option<&str>) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "problem replies are problem+json"
        );
        assert_eq!(self.body["status"], json!(status));
        assert!(self.body["type"].is_string() && self.body["title"].is_string() && self.body["detail"].is_string());
        if let Some(field) = field {
            let fields: Vec<&str> =
                self.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
            assert!(fields.contains(&field), "expected field `{field}` in {}", self.body);
        }
        self
    }

    pub fn etag(&self) -> String {
        self.headers.get(header::ETAG).and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
    }
}

impl TestApp {
    /// `None` when the backend is not configured (PostgreSQL without `VIGIE_TEST_PG_URL`).
    pub async fn new(backend: vigie_testdb::Backend) -> Option<TestApp> {
        Self::with_rules(backend, test_rules()).await
    }

    /// A fresh app whose rules are `rules`.
    pub async fn with_rules(
        backend: vigie_testdb::Backend,
        rules: vigie_server::rules::RulesDocument,
    ) -> Option<TestApp> {
        let db = vigie_testdb::TestDb::create(backend).await?;
        let store = db.open().await;
        let start = Timestamp::from_second(1_780_000_000).expect("valid instant").as_second();
        let tick = Arc::new(AtomicI64::new(start));
        let clock = Self::clock_of(tick.clone());
        let rules = vigie_server::rules::RulesHandle::fixed(rules).expect("valid test rules");
        let state = AppState::start(store.clone(), clock, rules).await.expect("the app starts");
        let router = vigie_server::app(state.clone());
        let mut app = TestApp {
            router,
            state,
            store,
            clock: tick,
            admin: String::new(),
            lead: String::new(),
            agent: String::new(),
            viewer: String::new(),
            _db: db,
        };
        app.admin = app.token(Role::Admin, &[], "root").await;
        for (id, name) in [("front_office", "Front office"), ("back_office", "Back office")] {
            app.post("/api/v1/teams", &app.admin.clone(), json!({"id": id, "name": name})).await.expect(201);
        }
        app.post("/api/v1/agents", &app.admin.clone(), json!({"id": "ana", "name": "Ana", "teams": ["front_office"]}))
            .await
            .expect(201);
        app.lead = app.token(Role::Lead, &[], "lea").await;
        app.agent = app.token(Role::Agent, &["front_office"], "ana").await;
        app.viewer = app.token(Role::Viewer, &[], "vic").await;
        Some(app)
    }

    fn clock_of(tick: Arc<AtomicI64>) -> vigie_server::Clock {
        Arc::new(move || Timestamp::from_second(tick.fetch_add(1, Ordering::SeqCst)).expect("valid instant"))
    }

    /// Moves the clock to `at` (it goes on a second per reading from there).
    pub fn set_now(&self, at: Timestamp) {
        self.clock.store(at.as_second(), Ordering::SeqCst);
    }

    /// The app as it would start again on the same database (a restart): a new live state,
    /// built from the store, under the same rules and clock.
    pub async fn restarted(&self) -> AppState {
        self.start_on(self.store.clone()).await
    }

    /// A second server instance on the same database (its own store, writers and live state),
    /// as behind a load balancer.
    pub async fn second_instance(&self) -> AppState {
        self.start_on(self._db.open().await).await
    }

    /// An app on `store` under the same rules and clock.
    async fn start_on(&self, store: Store) -> AppState {
        let document = (*self.state.rules.snapshot().0).clone();
        let rules = vigie_server::rules::RulesHandle::fixed(document).expect("valid");
        AppState::start(store, Self::clock_of(self.clock.clone()), rules).await.expect("the app starts")
    }

    pub async fn token(&self, role: Role, teams: &[&str], name: &str) -> String {
        let secret = vigie_server::auth::new_secret();
        let record = TokenRecord {
            hash: vigie_server::auth::hash_secret(&secret),
            name: name.to_owned(),
            role,
            teams: teams.iter().map(|t| TeamId::parse(*t).expect("valid team")).collect(),
        };
        self.store.create_token(&record, Timestamp::UNIX_EPOCH).await.expect("token stored");
        secret
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply { status, headers, body, text }
    }

    pub fn request(method: Method, path: &str, token: &str) -> axum::http::request::Builder {
        let builder = Request::builder().method(method).uri(path);
        if token.is_empty() { builder } else { builder.header(header::AUTHORIZATION, format!("Bearer {token}")) }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Self::request(Method::GET, path, token).body(Body::empty()).expect("a request")).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            Self::request(Method::POST, path, token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("a request"),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            Self::request(Method::PUT, path, token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("a request"),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Self::request(Method::DELETE, path, token).body(Body::empty()).expect("a request")).await
    }

    pub async fn patch(&self, path: &str, token: &str, if_match: Option<&str>, body: Value) -> Reply {
        let mut builder = Self::request(Method::PATCH, path, token).header(header::CONTENT_TYPE, "application/json");
        if let Some(version) = if_match {
            builder = builder.header(header::IF_MATCH, version);
        }
        self.send(builder.body(Body::from(body.to_string())).expect("a request")).await
    }

    pub async fn create(&self, token: &str, overrides: Value) -> Reply {
        let mut body = ticket_body();
        if let (Some(target), Some(extra)) = (body.as_object_mut(), overrides.as_object()) {
            for (key, value) in extra {
                target.insert(key.clone(), value.clone());
            }
        }
        self.post("/api/v1/tickets", token, body).await
    }

    pub async fn n_tickets(&self) -> i64 {
        self.store.count_tickets().await.expect("count")
    }
}

/// The rules of the tests: one policy for every ticket, on calendar time (answer within an
/// hour, solve within a day), half an hour of work per ticket.
pub fn test_rules() -> vigie_server::rules::RulesDocument {
    serde_json::from_value(json!({
        "sla": {"at_risk_minutes": 10, "policies": [{"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440}]},
        "handle_time": {"*": 30.0}
    }))
    .expect("a valid rules document")
}

/// A ticket body without what is computed at the time of the read (its SLA status and its
/// place in the queue): what must not change when a change is refused.
pub fn stored_part(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("sla");
        fields.remove("queue");
        fields.remove("path");
    }
    body
}

pub fn ticket_body() -> Value {
    json!({
        "subject": "Charged twice for March",
        "body": "My card was charged twice.",
        "channel": "email",
        "category": "billing",
        "priority": "P2",
        "customer_id": "acme",
        "team": "front_office"
    })
}
