//! Shows and their items.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiJson, ApiPath, ApiQuery, Result};
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::item::ItemBody;
use crate::domain::show::{NewShowBody, ShowPatchBody};
use crate::domain::{ItemNumber, Show, ShowId};
use crate::service;

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
    let shows = service::shows::list(&state.db, auth.shows(), limit).await?;
    Ok(Json(json!({ "shows": shows })))
}

async fn create_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewShowBody>,
) -> Result<(StatusCode, Json<Show>)> {
    auth.require(Role::Operator)?;
    let show = service::shows::create(&state.db, auth.sub(), &body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(show)))
}

async fn get_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<Show>> {
    auth.require_show(Role::Viewer, id)?;
    Ok(Json(service::shows::get(&state.db, id).await?))
}

#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn update_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiJson(body): ApiJson<ShowPatchBody>,
) -> Result<Json<Show>> {
    auth.require_show(Role::Operator, id)?;
    let patch = body.try_into()?;
    Ok(Json(
        service::shows::update(&state.db, auth.sub(), id, &patch).await?,
    ))
}

async fn list_items(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let items = service::items::list(&state.db, id).await?;
    Ok(Json(json!({ "items": items })))
}

async fn put_item(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(ShowId, i32)>,
    ApiJson(body): ApiJson<ItemBody>,
) -> Result<(StatusCode, Json<service::items::PutItem>)> {
    auth.require_show(Role::Operator, id)?;
    let number = ItemNumber::try_from(number)?;
    let item = body.try_into()?;
    let put = service::items::put(&state.db, auth.sub(), id, number, &item).await?;
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(put)))
}
