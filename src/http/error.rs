//! `ApiError`: every failure a handler can return, as `{"error": {"code", "message"}}`
//! with a fitting status. Bad input is a 4xx; a 5xx body never carries internals.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio_postgres::error::SqlState;

use crate::auth::AuthError;
use crate::db::DbError;
use crate::domain::input::Invalid;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
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

/// The error JSON with a status; also used by the auth extractor.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code) = match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
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

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => ApiError::NotFound(what),
            DbError::Conflict(m) => ApiError::Conflict(m),
            DbError::Invalid(m) => ApiError::Invalid(m),
            DbError::Pool(e) => ApiError::Unavailable(format!("database unavailable: {e}")),
            DbError::Pg(e) => from_pg(e),
        }
    }
}

/// Maps a Postgres error by its SQLSTATE: data errors are the client's (4xx), lock and
/// connection trouble is temporary (503), anything else is ours (500, logged).
fn from_pg(e: tokio_postgres::Error) -> ApiError {
    let Some(db) = e.as_db_error() else {
        return ApiError::Unavailable("database connection lost".into());
    };
    let code = db.code();
    let message = db.message().to_owned();
    if *code == SqlState::UNIQUE_VIOLATION {
        ApiError::Conflict(message)
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        ApiError::Invalid(message)
    } else if code.code().starts_with("22") || code.code().starts_with("23") {
        // Class 22 (data exception) and 23 (integrity constraint violation).
        ApiError::Invalid(message)
    } else if [
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::QUERY_CANCELED,
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::TOO_MANY_CONNECTIONS,
    ]
    .contains(code)
        || code.code().starts_with("08")
    {
        ApiError::Unavailable(format!("database busy, retry: {message}"))
    } else {
        ApiError::Internal(format!("{code:?}: {message}"))
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
