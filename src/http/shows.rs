//! Shows and their items.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{ApiJson, ApiPath, ApiQuery, Result};
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::input::{check_show_status, check_text, ItemInput, NewShow, ShowPatch};
use crate::domain::ShowId;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/shows", get(list_shows).post(create_show))
        .route("/api/shows/{id}", get(get_show).patch(update_show))
        .route("/api/shows/{id}/items", get(list_items))
        .route("/api/shows/{id}/items/{number}", put(put_item))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list_shows(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>> {
    auth.require(Role::Viewer)?;
    let limit = clamp_limit(q.limit, 100, 1000);
    let shows = state.db.list_shows(auth.0.shows.as_deref(), limit).await?;
    Ok(Json(json!({ "shows": shows })))
}

async fn create_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(show): ApiJson<NewShow>,
) -> Result<(StatusCode, Json<Value>)> {
    auth.require(Role::Operator)?;
    check_text("title", &show.title, 1, 500)?;
    if let Some(status) = &show.status {
        check_show_status(status, &["scheduled", "live"])?;
    }
    let show = state.db.create_show(auth.sub(), &show).await?;
    Ok((StatusCode::CREATED, Json(show)))
}

async fn get_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    Ok(Json(state.db.get_show(ShowId(id)).await?))
}

#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn update_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ShowPatch>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Operator, id)?;
    if let Some(title) = &patch.title {
        check_text("title", title, 1, 500)?;
    }
    if let Some(status) = &patch.status {
        check_show_status(status, &["live", "ended"])?;
    }
    Ok(Json(
        state.db.update_show(auth.sub(), ShowId(id), &patch).await?,
    ))
}

async fn list_items(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let show = ShowId(id);
    state.db.get_show(show).await?;
    Ok(Json(json!({ "items": state.db.list_items(show).await? })))
}

#[tracing::instrument(skip_all, fields(show_id = %id, item = number))]
async fn put_item(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(Uuid, i32)>,
    ApiJson(item): ApiJson<ItemInput>,
) -> Result<(StatusCode, Json<Value>)> {
    auth.require_show(Role::Operator, id)?;
    if !(1..=crate::domain::claim_text::MAX_ITEM_NUMBER).contains(&number) {
        return Err(super::error::ApiError::Invalid(
            "item number must be between 1 and 999999".into(),
        ));
    }
    item.validate()?;
    let (item, created, promoted) = state
        .db
        .put_item(auth.sub(), ShowId(id), number, &item)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "item": item, "promoted": promoted }))))
}
