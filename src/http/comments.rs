//! Comment ingest and pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, Result};
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::input::NewComment;
use crate::domain::ShowId;

/// Most comments one request may carry.
pub const MAX_BATCH: usize = 10_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/shows/{id}/comments",
        get(page_comments).post(create_comments),
    )
}

/// One comment object or an array of them, stored in one transaction.
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn create_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    auth.require_show(Role::Ingest, id)?;
    let batch = parse_batch(body)?;
    let stored = state
        .db
        .ingest_comments(auth.sub(), ShowId(id), &batch)
        .await?;
    let status = if stored.comments.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!(stored))))
}

/// Reads the body as one comment or a non-empty array of them; every element is checked
/// before anything is stored, and the first bad one is named.
fn parse_batch(body: Value) -> Result<Vec<NewComment>> {
    let (values, single) = match body {
        Value::Array(values) => (values, false),
        other => (vec![other], true),
    };
    if values.is_empty() {
        return Err(ApiError::Invalid("the batch is empty".into()));
    }
    if values.len() > MAX_BATCH {
        return Err(ApiError::Invalid(format!(
            "a batch holds at most {MAX_BATCH} comments"
        )));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let at = |m: String| {
                if single {
                    m
                } else {
                    format!("comment [{i}]: {m}")
                }
            };
            let comment: NewComment =
                serde_json::from_value(v).map_err(|e| ApiError::Invalid(at(e.to_string())))?;
            comment.validate().map_err(|e| ApiError::Invalid(at(e.0)))?;
            Ok(comment)
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    limit: Option<i64>,
    before: Option<Uuid>,
}

async fn page_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let show = ShowId(id);
    state.db.get_show(show).await?;
    let limit = clamp_limit(q.limit, 100, 1000);
    let comments = state.db.page_comments(show, q.before, limit).await?;
    Ok(Json(json!({ "comments": comments })))
}
