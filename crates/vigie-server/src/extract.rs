//! Request extractors that turn every way a request can be malformed into a named problem:
//! the JSON body, the `If-Match` and `Idempotency-Key` headers, and the raw query string.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body of type `T`, read within the body limit. Malformed JSON, a wrong JSON type or
/// an unknown field is a 400 naming the path (`tags[2]`, `priority`); a missing or non-JSON
/// content type is a 415; a body over the limit is a 413.
pub struct JsonBody<T> {
    pub value: T,
    /// The raw bytes, for the idempotency digest.
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let raw = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request(format!("the body could not be read: {rejection}"))
            }
        })?;
        // Every body of the API is an object: an array would otherwise fill a struct by position.
        if raw.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|first| *first != b'{') {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

/// Parses JSON, naming the offending path in the error.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(raw).is_err() {
        return Err(ApiError::bad_request("the body is not valid UTF-8"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reason = inner.to_string();
        if path == "." || path.is_empty() {
            ApiError::bad_request(format!("malformed JSON: {reason}"))
        } else {
            ApiError::bad_field(path, reason)
        }
    })?;
    deserializer.end().map_err(|error| ApiError::bad_request(format!("malformed JSON: {error}")))?;
    Ok(value)
}

/// [`if_match`] where the header may be left out: any version then.
pub fn if_match_optional(headers: &HeaderMap) -> Result<vigie_core::ExpectedVersion, ApiError> {
    if headers.contains_key(header::IF_MATCH) { if_match(headers) } else { Ok(vigie_core::ExpectedVersion::Any) }
}

/// The version a change is meant for, from `If-Match` (RFC 9110 §13.1.1): `*`, or a list of
/// entity tags such as `"7"` or `"7", "8"`. The comparison is strong, so a weak tag (`W/"7"`)
/// never matches. A bare `7` is taken as `"7"`, for hand-written requests.
pub fn if_match(headers: &HeaderMap) -> Result<vigie_core::ExpectedVersion, ApiError> {
    let values: Vec<&axum::http::HeaderValue> = headers.get_all(header::IF_MATCH).iter().collect();
    if values.is_empty() {
        return Err(ApiError::PreconditionRequired);
    }
    let bad = || ApiError::bad_field("If-Match", "must be the ticket's ETag (e.g. \"3\"), a list of them, or *");
    let mut versions = Vec::new();
    for value in values {
        let text = value.to_str().map_err(|_| bad())?;
        for tag in text.split(',').map(str::trim) {
            if tag == "*" {
                return Ok(vigie_core::ExpectedVersion::Any);
            }
            if let Some(weak) = tag.strip_prefix("W/") {
                // Well formed, but a weak tag cannot match under strong comparison.
                parse_tag(weak).ok_or_else(bad)?;
                continue;
            }
            versions.push(parse_tag(tag).ok_or_else(bad)?);
        }
    }
    Ok(match versions.as_slice() {
        [version] => vigie_core::ExpectedVersion::Exactly(*version),
        _ => vigie_core::ExpectedVersion::OneOf(versions),
    })
}

fn parse_tag(tag: &str) -> Option<i64> {
    let bare = match tag.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => tag,
    };
    bare.parse::<i64>().ok().filter(|version| *version >= 1)
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, if present: 1–255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(ApiError::bad_field("Idempotency-Key", "must be sent once"));
    }
    let text = value.to_str().map_err(|_| ApiError::bad_field("Idempotency-Key", "must be visible ASCII"))?;
    if text.is_empty() || text.len() > MAX_IDEMPOTENCY_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_field(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Query parameters as (name, value) pairs, repeated names kept in order.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|raw| form_urlencoded::parse(raw.as_bytes()).into_owned().collect()).unwrap_or_default()
}
