//! `/healthz`, `/readyz`, `/metrics`.

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::observability::metrics::{PoolGauges, CONTENT_TYPE as METRICS_CONTENT_TYPE};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// 200 while this node should get traffic: the pool answers, the listener is up and has
/// repaired, and no shutdown has begun.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let draining = state.shutdown.draining.is_cancelled();
    let listener = state.metrics.listener_up.load(Relaxed);
    let pool = !draining && state.db.is_up().await;
    let ready = !draining && listener && pool;
    let body = serde_json::json!({
        "ready": ready, "draining": draining, "listener": listener, "database": pool
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db.pool_status();
    let body = state.metrics.render(PoolGauges {
        size: pool.size,
        available: pool.available,
        waiting: pool.waiting,
    });
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], body)
}
