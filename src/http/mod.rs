//! The HTTP surface: REST routes, the SSE stream, health and metrics, the console.

pub mod access_log;
pub mod api_docs;
pub mod carts;
pub mod changes;
pub mod claims;
pub mod client_lib;
pub mod comments;
pub mod console;
pub mod error;
pub mod health;
pub mod multiplex;
pub mod openapi;
pub mod session;
pub mod shows;
pub mod stream;
pub mod written;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRef, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::session::SessionSettings;
use crate::auth::{Keys, Sessions};
use crate::config::Config;
use crate::db::Db;
use crate::feed::Feed;
use crate::observability::Metrics;
use crate::service::group_commit::GroupCommit;
use crate::shutdown::Shutdown;

/// Everything a handler may need; cloned per request (all fields are handles).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub feed: Feed,
    /// Comment ingest, combined per show into shared transactions.
    pub ingest: GroupCommit,
    pub keys: Keys,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub shutdown: Shutdown,
}

impl FromRef<AppState> for Keys {
    fn from_ref(state: &AppState) -> Keys {
        state.keys.clone()
    }
}

/// The session store is the pool with the session settings: made per request, no state
/// of its own (sessions live in Postgres).
impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Sessions {
        Sessions::new(
            state.db.clone(),
            SessionSettings::from(&state.config.session),
        )
    }
}

/// Every route with its documentation: the one list of routes, which both [`router`] and
/// [`openapi::document`] are split from.
pub fn api_router() -> OpenApiRouter<AppState> {
    openapi::base()
        .merge(health::router())
        .merge(shows::router())
        .merge(comments::router())
        .merge(claims::router())
        .merge(carts::router())
        .merge(stream::router())
        .merge(changes::router())
        .merge(multiplex::router())
        .merge(session::router())
        .merge(openapi::router())
        .merge(api_docs::router())
        .merge(console::router())
        .merge(client_lib::router())
}

/// The whole router with its layers.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.http.max_body_bytes;
    let (routes, _) = api_router().split_for_parts();
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), count_responses))
        // No page or answer of ours hands its URL to another site in `Referer`: a stream
        // URL may carry `?access_token=`.
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            // Log the path only: the query may carry an access_token.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let request_id = req.headers().get(access_log::REQUEST_ID);
                let request_id = request_id.and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
            }),
        )
        // Outermost: sets the request id the span above reads, and sees the final status.
        .layer(middleware::from_fn(access_log::access_log))
        .with_state(state)
}

/// Unknown paths get the contract's error shape too.
async fn unknown_route() -> error::ApiError {
    error::ApiError::NotFound("route")
}

async fn wrong_method() -> Response {
    error::error_body(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take that method",
    )
}

async fn count_responses(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    state.metrics.count_response(response.status().as_u16());
    response
}

/// Clamps an optional query number into `1..=max`, with a default.
pub fn clamp_limit(value: Option<i64>, default: i64, max: i64) -> i64 {
    value.unwrap_or(default).clamp(1, max)
}

/// How long a long-poll may wait at most.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A long-poll's `wait` (seconds, absent: 0) as a duration, clamped to [`MAX_WAIT`].
pub fn wait_duration(wait: Option<f64>) -> Result<Duration, error::ApiError> {
    let wait = wait.unwrap_or(0.0);
    // `NaN` and `inf` parse as numbers; NaN would survive the clamp and panic below.
    if !wait.is_finite() {
        return Err(error::ApiError::BadRequest(
            "wait must be a finite number of seconds".into(),
        ));
    }
    Ok(Duration::from_secs_f64(
        wait.clamp(0.0, MAX_WAIT.as_secs_f64()),
    ))
}
