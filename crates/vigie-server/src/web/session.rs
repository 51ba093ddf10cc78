//! Signing in to the pages: a user's name and password (argon2, a PHC string in the store), a
//! session cookie (`vigie_session`: a random secret; the store keeps its SHA-256, never the
//! secret), and protection against cross-site writes: every form carries the session's own
//! token, and a write whose `Sec-Fetch-Site` or `Origin` says it comes from another site is
//! refused. API tokens stay for machines; a session does not open the API.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use jiff::{SignedDuration, Timestamp};
use vigie_core::Actor;
use vigie_store::{SessionRecord, UserRecord};

use crate::AppState;
use crate::auth::{hash_secret, new_secret};

/// The session cookie's name.
pub const COOKIE: &str = "vigie_session";
/// How long a session lasts: a working day and its evening.
pub const SESSION_HOURS: i64 = 12;

/// An argon2id hash of `password` (a PHC string), with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|hash| hash.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRecord,
    /// The token every form of this session carries.
    pub csrf: String,
    hash: String,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor { name: self.user.name.clone(), role: self.user.role, teams: self.user.teams.clone() }
    }

    /// Whether a form's token is this session's (compared as digests: the time taken says
    /// nothing of the token).
    pub fn checks(&self, form_token: &str) -> bool {
        hash_secret(form_token) == hash_secret(&self.csrf)
    }
}

/// Not signed in: to the sign-in page, and back here after.
pub struct SignIn(String);

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        let next: String = form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = SignIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Back here after signing in; a form's target (a POST) is not a page: back to the page
        // it was posted from (`/tickets/T-1/reply` → `/tickets/T-1`).
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let back = if parts.method == axum::http::Method::GET {
            path.to_owned()
        } else {
            match parts.uri.path().rsplit_once('/') {
                Some((parent, _)) if !parent.is_empty() => parent.to_owned(),
                _ => "/dashboard".to_owned(),
            }
        };
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(secret) = jar.get(COOKIE).map(|cookie| cookie.value().to_owned()) else { return Err(SignIn(back)) };
        let hash = hash_secret(&secret);
        match state.store.session(&hash, state.now()).await {
            Ok(Some((session, user))) => Ok(Session { user, csrf: session.csrf, hash }),
            Ok(None) => Err(SignIn(back)),
            Err(error) => {
                tracing::warn!(%error, "could not read a session");
                Err(SignIn(back))
            }
        }
    }
}

/// Whether a write comes from a page of ours: browsers say where a request comes from
/// (`Sec-Fetch-Site`, else `Origin`); one from another site is refused.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
        // No Origin: not a cross-site form post from a current browser.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// A refused cross-site write.
pub fn cross_site() -> Response {
    (StatusCode::FORBIDDEN, axum::response::Html("<h1>Refused</h1><p>This form did not come from a vigie page.</p>"))
        .into_response()
}

/// Whether the browser reached us over HTTPS: vigie speaks plain HTTP, so HTTPS means a proxy
/// in front, which says so (`X-Forwarded-Proto`). Only then is the cookie `Secure`: a browser
/// drops a `Secure` cookie received over plain HTTP, and signing in would loop.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.split(',').next().is_some_and(|first| first.trim().eq_ignore_ascii_case("https")))
}

/// Starts a session for `user`: the cookie to set.
pub async fn open(
    state: &AppState,
    user: &UserRecord,
    headers: &HeaderMap,
) -> Result<Cookie<'static>, vigie_store::StoreError> {
    let secret = new_secret();
    let now = state.now();
    let record = SessionRecord {
        hash: hash_secret(&secret),
        user: user.name.clone(),
        csrf: new_secret(),
        created_at: now,
        expires_at: now.checked_add(SignedDuration::from_hours(SESSION_HOURS)).unwrap_or(Timestamp::MAX),
    };
    state.store.create_session(&record).await?;
    // The secret is URL-safe base64: nothing to escape.
    let text = format!("{COOKIE}={secret}; Max-Age={}; Path=/", SESSION_HOURS * 3600);
    let mut cookie = Cookie::parse(text).unwrap_or_else(|_| Cookie::new(COOKIE, String::new()));
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(over_https(headers));
    Ok(cookie)
}

/// Ends the session.
pub async fn close(state: &AppState, session: &Session) -> Result<(), vigie_store::StoreError> {
    state.store.delete_session(&session.hash).await
}

/// Password checks run two at a time: each takes ~19 MiB and a core for tens of milliseconds,
/// so a flood of sign-ins queues here instead of exhausting memory.
static VERIFYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Checks a name and password; the user when they match. The same work is done for an unknown
/// name, so that the time taken does not tell which names exist.
pub async fn authenticate(
    state: &AppState,
    name: &str,
    password: &str,
) -> Result<Option<UserRecord>, vigie_store::StoreError> {
    let user = state.store.user(name).await?;
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    let Ok(_permit) = VERIFYING.acquire().await else { return Ok(None) };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    Ok(user.filter(|_| ok))
}

/// A valid argon2id hash of a password nobody has, checked for unknown names.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jt+jWn8A7MEj9pBzFH1m5GWfsXnJwyV3ElTjRBr6b1E";
