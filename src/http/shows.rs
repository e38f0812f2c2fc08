//! Shows and their items.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiJson, ApiPath, ApiQuery, Result};
use super::openapi::errors::{CreateWrite, ListRead, ShowRead, ShowWrite};
use super::written::Written;
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::item::ItemBody;
use crate::domain::show::{NewShowBody, ShowPatchBody};
use crate::domain::{Item, ItemNumber, Show, ShowId};
use crate::service;
use crate::service::items::PutItem;
use crate::service::shows::ShowChanged;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_shows, create_show))
        .routes(routes!(get_show, update_show))
        .routes(routes!(list_items))
        .routes(routes!(put_item))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// How many shows at most, 1 to 1000 (default 100; other values are clamped).
    #[param(example = 20)]
    limit: Option<i64>,
}

/// `GET /api/shows`'s body.
#[derive(Debug, Serialize, ToSchema)]
struct ShowList {
    /// Newest first; only the token's `shows` when it names some.
    shows: Vec<Show>,
}

/// `GET /api/shows/{id}/items`'s body.
#[derive(Debug, Serialize, ToSchema)]
struct ItemList {
    /// By item number.
    items: Vec<Item>,
}

/// List shows, newest first.
#[utoipa::path(
    get,
    path = "/api/shows",
    tag = "shows",
    params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The shows (role viewer).", body = ShowList), ListRead),
)]
async fn list_shows(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ShowList>> {
    auth.require(Role::Viewer)?;
    let limit = clamp_limit(q.limit, 100, 1000);
    let shows = service::shows::list(&state.db, auth.shows(), limit).await?;
    Ok(Json(ShowList { shows }))
}

/// Create a show (role operator).
#[utoipa::path(
    post,
    path = "/api/shows",
    tag = "shows",
    request_body = NewShowBody,
    security(("bearer" = [])),
    responses((status = 201, description = "The new show.", body = Show), CreateWrite),
)]
async fn create_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewShowBody>,
) -> Result<(StatusCode, Json<Show>)> {
    auth.require(Role::Operator)?;
    let currency = &state.config.shows.default_currency;
    let show = service::shows::create(&state.db, auth.sub(), &body.try_into()?, currency).await?;
    Ok((StatusCode::CREATED, Json(show)))
}

/// One show.
#[utoipa::path(
    get,
    path = "/api/shows/{id}",
    tag = "shows",
    params(("id" = ShowId, Path, description = "The show's id.")),
    security(("bearer" = [])),
    responses((status = 200, description = "The show (role viewer).", body = Show), ShowRead),
)]
async fn get_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<Show>> {
    auth.require_show(Role::Viewer, id)?;
    Ok(Json(service::shows::get(&state.db, id).await?))
}

/// Change a show's title or status (role operator).
///
/// Answers with the show as re-read after the change, `last_seq` included: exactly the
/// `data` of the `show.updated` event it caused.
#[utoipa::path(
    patch,
    path = "/api/shows/{id}",
    tag = "shows",
    params(("id" = ShowId, Path, description = "The show's id.")),
    request_body = ShowPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed show, with the seq of its change.", body = ShowChanged,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ShowWrite,
    ),
)]
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn update_show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiJson(body): ApiJson<ShowPatchBody>,
) -> Result<Written<ShowChanged>> {
    auth.require_show(Role::Operator, id)?;
    let patch = body.try_into()?;
    let changed = service::shows::update(&state.db, auth.sub(), id, &patch).await?;
    Ok(Written(StatusCode::OK, changed))
}

/// The show's items.
#[utoipa::path(
    get,
    path = "/api/shows/{id}/items",
    tag = "shows",
    params(("id" = ShowId, Path, description = "The show's id.")),
    security(("bearer" = [])),
    responses((status = 200, description = "The items (role viewer).", body = ItemList), ShowRead),
)]
async fn list_items(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<ItemList>> {
    auth.require_show(Role::Viewer, id)?;
    let items = service::items::list(&state.db, id).await?;
    Ok(Json(ItemList { items }))
}

/// Create or replace an item (role operator).
///
/// Raising the quantity promotes waitlisted claims in the same transaction (`promoted`);
/// lowering it never demotes.
#[utoipa::path(
    put,
    path = "/api/shows/{id}/items/{number}",
    tag = "shows",
    params(
        ("id" = ShowId, Path, description = "The show's id."),
        ("number" = i32, Path, minimum = 1, maximum = 999_999, example = 101,
            description = "The number buyers type (`sold 101`): 1 to 999,999 (else 422)."),
    ),
    request_body = ItemBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The item was new.", body = PutItem,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        (status = 200, description = "The item replaced one.", body = PutItem,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ShowWrite,
    ),
)]
async fn put_item(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(ShowId, i32)>,
    ApiJson(body): ApiJson<ItemBody>,
) -> Result<Written<PutItem>> {
    auth.require_show(Role::Operator, id)?;
    let number = ItemNumber::try_from(number)?;
    let item = body.try_into()?;
    let put = service::items::put(&state.db, auth.sub(), id, number, &item).await?;
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Written(status, put))
}
