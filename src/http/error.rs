//! `ApiError`: every failure a handler can return, as `{"error": {"code", "message"}}`
//! with a fitting status. Bad input is a 4xx; a 5xx body never carries internals.

use crate::auth::AuthError;
use crate::db::DbError;
use crate::domain::Invalid;
use crate::feed::FeedError;
use crate::service::ServiceError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A 404 that names what is missing (one show of a list).
    #[error("{0}")]
    Missing(String),
    /// A 403 that names what the token may not see (one show of a list).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An extractor's refusal, with the status it chose (400, 413, 415, 422).
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// `{"error": {"code", "message"}}`: the body of every 4xx and 5xx (but `/readyz`'s 503,
/// which reports the node's parts).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "show not found"}}))]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

/// What went wrong: a stable `code` to branch on, a `message` for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    /// One of `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `conflict`, `too_large`, `unsupported_media_type`,
    /// `invalid`, `uri_too_long`, `headers_too_large`, `internal`, `unavailable`.
    #[schema(example = "not_found")]
    pub code: &'a str,
    /// Human-readable; a 5xx's never carries internals.
    #[schema(example = "show not found")]
    pub message: &'a str,
}

/// The error JSON with a status: every refusal's body, here and for the router's
/// fallbacks.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail { code, message },
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code) = match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::NotFound(_) | ApiError::Missing(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Auth(e) => return e.into_response(),
            ApiError::Rejected { status, .. } => (status, rejection_code(status)),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        error_body(status, code, &message)
    }
}

fn rejection_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "bad_request",
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid(e.0)
    }
}

/// The one place a service failure becomes a status: the client's mistakes are 4xx,
/// temporary trouble 503 (retry), our own failures 500 with the detail only in the log.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Invalid(m) => ApiError::Invalid(m),
            e @ ServiceError::Busy(_) => ApiError::Unavailable(e.to_string()),
            ServiceError::Unavailable(m) => ApiError::Unavailable(m),
            ServiceError::Internal(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// Reads outside a business transaction (the feed's) classify the same way.
impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ServiceError::from(e).into()
    }
}

macro_rules! from_rejection {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for ApiError {
            fn from(r: $rejection) -> Self {
                ApiError::Rejected { status: r.status(), message: r.body_text() }
            }
        }
    )*};
}
from_rejection!(JsonRejection, PathRejection, QueryRejection);

/// `axum::Json` whose refusals are `ApiError`s.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path` whose refusals (a bad UUID: 400) are `ApiError`s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` whose refusals are `ApiError`s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A feed that cannot open a stream: an unknown show is a 404 like any other.
impl From<FeedError> for ApiError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::NotFound => ApiError::NotFound("show"),
            FeedError::Db(e) => e.into(),
        }
    }
}

/// 401 (with `WWW-Authenticate: Bearer`) without a valid token, 403 with one that lacks
/// the right.
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            AuthError::Missing | AuthError::Invalid(_) => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            AuthError::Role | AuthError::Show | AuthError::Csrf(_) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            AuthError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        let mut response = error_body(status, code, &self.to_string());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
