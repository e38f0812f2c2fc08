//! `/healthz`, `/readyz`, `/metrics`.

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::observability::metrics::{PoolGauges, CONTENT_TYPE as METRICS_CONTENT_TYPE};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process runs.", content_type = "text/plain; charset=utf-8", body = String, example = "ok")),
)]
async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`'s body: each part of being ready.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"ready": true, "draining": false, "listener": true, "database": true}))]
struct Readiness {
    /// All of the below: send traffic here.
    ready: bool,
    /// A shutdown has begun.
    draining: bool,
    /// The LISTEN session is up and has repaired after its last reconnect.
    listener: bool,
    /// The pool answers.
    database: bool,
}

/// 200 while this node should get traffic: the pool answers, the listener is up and has
/// repaired, and no shutdown has begun.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic.", body = Readiness),
        (status = 503, description = "Not ready (starting, draining, or a part is down); the body says which part.", body = Readiness,
            example = json!({"ready": false, "draining": true, "listener": true, "database": false})),
    ),
)]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let draining = state.shutdown.draining.is_cancelled();
    let listener = state.metrics.listener_up.load(Relaxed);
    let pool = !draining && state.db.is_up().await;
    let ready = !draining && listener && pool;
    let body = Readiness {
        ready,
        draining,
        listener,
        database: pool,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

/// Prometheus text: subscribers, frames, listener health, pool gauges, responses by
/// status class (restrict it at the proxy).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4.", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String)),
)]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db.pool_status();
    let body = state.metrics.render(PoolGauges {
        size: pool.size,
        available: pool.available,
        waiting: pool.waiting,
    });
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], body)
}
