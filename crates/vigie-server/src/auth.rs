//! Bearer tokens: a token is 32 random bytes shown once; the store keeps only its SHA-256.
//!
//! Each request's token is hashed and looked up by its hash (an attacker who can time the lookup
//! learns about hashes of guesses, not about the secret); recent lookups are cached for
//! [`CACHE_TTL`] so that a busy client does not cost a database read per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use vigie_core::Actor;
use vigie_store::TokenRecord;

use crate::AppState;
use crate::error::ApiError;

/// How long a successful token lookup is trusted before the store is asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// Prefix of every token, so that a leaked one is easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "vigie_";

/// A new token secret: the prefix and 32 bytes from the OS's random source, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 of a secret: what the store keeps.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    hex(&digest)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<TokenRecord> {
        let entries = self.entries.lock().ok()?;
        let (record, at) = entries.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| record.clone())
    }

    fn put(&self, record: TokenRecord) {
        if let Ok(mut entries) = self.entries.lock() {
            // Bounded: a flood of distinct valid tokens is not a thing, but keep memory flat.
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(record.hash.clone(), (record, Instant::now()));
        }
    }
}

/// The authenticated caller of a request.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated("send Authorization: Bearer <token>"))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or(ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        let hash = hash_secret(secret);
        let record = match state.tokens.get(&hash) {
            Some(record) => record,
            None => {
                let record = state
                    .store
                    .token_by_hash(&hash)
                    .await?
                    .ok_or(ApiError::Unauthenticated("the token is not valid"))?;
                state.tokens.put(record.clone());
                record
            }
        };
        Ok(Caller(Actor { name: record.name, role: record.role, teams: record.teams }))
    }
}
