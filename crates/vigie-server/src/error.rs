//! The one error type of the HTTP API, rendered as RFC 9457 problem+json.
//!
//! Every handler returns `Result<_, ApiError>`. The mapping from error to status code is the
//! single `match` in [`ApiError::status`]; the body carries a stable machine-readable `code`
//! and never the text of an internal error (that is logged once, here, with the request).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vigie_core::{CommandError, FieldError, ValidationErrors};
use vigie_store::{StoreError, SubmitError};

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, unknown field, wrong JSON type, bad header).
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401: no token, or not a valid one.
    Unauthenticated(&'static str),
    /// 403: the token's role may not do this.
    Forbidden(String),
    /// 404: no such resource (or one the caller may not see).
    NotFound(String),
    /// 409: a record with this id already exists.
    Conflict(String),
    /// 409: the state of a resource forbids the request now (a ticket someone else holds, a
    /// calendar still in use).
    StateConflict {
        code: &'static str,
        detail: String,
    },
    /// 412: `If-Match` names another version.
    StaleVersion {
        current: i64,
    },
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: not JSON.
    UnsupportedMediaType,
    /// 422: values out of range or not allowed in this state.
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 428: a change without `If-Match`.
    PreconditionRequired,
    /// 500/503: our fault; the cause is logged, not shown.
    Internal(String),
    Unavailable(String),
    /// 503: the commit failed midway; the write may or may not be recorded.
    OutcomeUnknown(String),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code (`validation`, `stale_version`...).
    pub code: &'static str,
    /// For validation problems: each field and why it is refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    ) -> Self {
        Problem {
            kind: format!("/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors: errors.into_iter().map(|e| ProblemField { field: e.field, reason: e.reason }).collect(),
        }
    }

    fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub reason: String,
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest { detail: detail.into(), errors: Vec::new() }
    }

    pub fn bad_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let error = FieldError::new(field, reason);
        ApiError::BadRequest { detail: format!("{}: {}", error.field, error.reason), errors: vec![error] }
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        ApiError::Unprocessable { detail: errors.to_string(), errors: errors.0 }
    }

    fn status(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request", "The request cannot be read"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Already exists"),
            ApiError::StateConflict { code, .. } => (StatusCode::CONFLICT, code, "Not possible in this state"),
            ApiError::StaleVersion { .. } => {
                (StatusCode::PRECONDITION_FAILED, "stale_version", "The resource has changed")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Body too large"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type")
            }
            ApiError::Unprocessable { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation", "The request has invalid values")
            }
            ApiError::PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required", "If-Match is required")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
            ApiError::OutcomeUnknown(_) => (StatusCode::SERVICE_UNAVAILABLE, "outcome_unknown", "Outcome unknown"),
        }
    }
}

impl ApiError {
    /// The status and the problem document this error is answered with (for results inside a
    /// body, such as a bulk change's).
    pub fn to_problem(self) -> (u16, serde_json::Value) {
        let problem = self.into_problem();
        (problem.status, serde_json::to_value(&problem).unwrap_or_default())
    }

    /// The problem document; internal causes are logged here, once, and not shown.
    pub(crate) fn into_problem(self) -> Problem {
        let (status, code, title) = self.status();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } | ApiError::Unprocessable { detail, errors } => (detail, errors),
            ApiError::Unauthenticated(detail) => (detail.to_owned(), Vec::new()),
            ApiError::Forbidden(detail)
            | ApiError::NotFound(detail)
            | ApiError::Conflict(detail)
            | ApiError::StateConflict { detail, .. } => (detail, Vec::new()),
            ApiError::StaleVersion { current } => {
                (format!("the ticket is at version {current}; read it again and retry"), Vec::new())
            }
            ApiError::PayloadTooLarge => (format!("the body is over {} bytes", crate::MAX_BODY_BYTES), Vec::new()),
            ApiError::UnsupportedMediaType => ("send the body as application/json".to_owned(), Vec::new()),
            ApiError::PreconditionRequired => (
                "send If-Match with the version you read (the ETag), or `*` to change any version".to_owned(),
                Vec::new(),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ("an internal error occurred; it has been logged".to_owned(), Vec::new())
            }
            ApiError::OutcomeUnknown(cause) => {
                tracing::error!(%cause, "commit outcome unknown");
                (
                    "the database failed during the commit: the change may or may not be recorded; read it back, \
                     or retry a create with the same Idempotency-Key"
                        .to_owned(),
                    Vec::new(),
                )
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "unavailable");
                ("the service is not ready; retry shortly".to_owned(), Vec::new())
            }
        };
        Problem::new(status, code, title, detail, errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.into_problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, problem.to_body()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Closed => ApiError::Unavailable("store closed".into()),
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::OutcomeUnknown(cause) => ApiError::OutcomeUnknown(cause),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Rejected(rejection) => rejection.into(),
            SubmitError::IdempotencyMismatch => ApiError::Unprocessable {
                detail: "this Idempotency-Key was already used with a different request".into(),
                errors: vec![FieldError::new("Idempotency-Key", "was already used with a different request body")],
            },
            SubmitError::Store(error) => error.into(),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::NotFound => ApiError::NotFound("ticket not found".into()),
            CommandError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            CommandError::StaleVersion { current } => ApiError::StaleVersion { current },
            CommandError::Invalid(errors) => ApiError::invalid(errors),
            CommandError::IllegalTransition { from, to } => ApiError::Unprocessable {
                detail: format!("status cannot go from `{from}` to `{to}`"),
                errors: vec![FieldError::new(
                    "status",
                    format!(
                        "cannot go from `{from}` to `{to}`; allowed from `{from}`: {}",
                        allowed_list(vigie_core::lifecycle::allowed_from(from))
                    ),
                )],
            },
            CommandError::Closed => ApiError::Unprocessable {
                detail: "the ticket is closed, and closed is final".into(),
                errors: vec![FieldError::new("status", "is `closed`, which is final")],
            },
            CommandError::NotClaimable(why) => ApiError::StateConflict {
                code: "not_claimable",
                detail: format!("the ticket cannot be claimed: {why}"),
            },
            CommandError::CannotHandOver(why) => ApiError::StateConflict {
                code: "cannot_hand_over",
                detail: format!("the ticket cannot be handed over: {why}"),
            },
        }
    }
}

fn allowed_list(statuses: Vec<vigie_core::Status>) -> String {
    if statuses.is_empty() {
        return "none".to_owned();
    }
    statuses.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// Turns any error response that is not yet problem+json into one: the answers axum gives by
/// itself (405 for a wrong method, 400 for a path segment that is not UTF-8...) keep their
/// status and headers (`Allow`), and get a problem body with their text as the detail.
pub async fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // A page's own error (a refused sign-in, a ticket not found) is HTML meant for a person.
    let is_page =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_page {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // These bodies are axum's own short messages; cap what is read anyway.
    let text = axum::body::to_bytes(body, 4 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned());
    let detail = match text {
        Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        status if status.is_server_error() => "internal",
        _ => "bad_request",
    };
    let problem = Problem::new(status, code, status.canonical_reason().unwrap_or("Error"), detail, Vec::new());
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(problem.to_body()))
}
