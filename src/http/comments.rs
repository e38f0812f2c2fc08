//! Comment ingest and pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiJson, ApiPath, ApiQuery, Result};
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::{CommentBatch, CommentId, ShowId};
use crate::service;
use crate::service::comments::Ingested;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/shows/{id}/comments",
        get(page_comments).post(create_comments),
    )
}

/// One comment object or an array of them, stored in one transaction. 201 when anything
/// new was stored, 200 when everything was a re-post (answered with the stored rows).
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn create_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Ingested>)> {
    auth.require_show(Role::Ingest, id)?;
    let batch = CommentBatch::try_from(body)?;
    let ingested = service::comments::ingest(&state.db, auth.sub(), id, &batch).await?;
    let status = if ingested.stored == 0 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(ingested)))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<i64>,
    before: Option<CommentId>,
}

async fn page_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let limit = clamp_limit(q.limit, 100, 1000);
    let comments = service::comments::page(&state.db, id, q.before, limit).await?;
    Ok(Json(json!({ "comments": comments })))
}
