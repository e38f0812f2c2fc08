//! Buyers and their carts: `GET /api/shows/{id}/buyers`, the CSV for invoicing after the
//! show, and paying a whole cart.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiPath, Result};
use super::openapi::errors::{ShowRead, ShowWrite};
use super::written::Written;
use super::AppState;
use crate::auth::{Auth, Role};
use crate::domain::cart::{carts_csv, Cart};
use crate::domain::input::check_text;
use crate::domain::ShowId;
use crate::service;
use crate::service::carts::CartPaid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_buyers))
        .routes(routes!(export_carts))
        .routes(routes!(pay_cart))
}

/// `GET /api/shows/{id}/buyers`'s body.
#[derive(Debug, Serialize, ToSchema)]
struct BuyerList {
    /// The show's currency (ISO 4217): the prices' and totals' unit is its minor unit.
    #[schema(example = "USD")]
    currency: String,
    /// Every buyer holding a unit or waiting for one, by buyer id.
    buyers: Vec<Cart>,
}

/// Every buyer's cart: the units they hold, their waitlist places as they stand now, what
/// they owe.
#[utoipa::path(
    get,
    path = "/api/shows/{id}/buyers",
    tag = "claims",
    params(("id" = ShowId, Path, description = "The show's id.")),
    security(("bearer" = [])),
    responses((status = 200, description = "The carts (role viewer).", body = BuyerList), ShowRead),
)]
async fn list_buyers(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<BuyerList>> {
    auth.require_show(Role::Viewer, id)?;
    let (currency, buyers) = service::carts::list(&state.db, id).await?;
    Ok(Json(BuyerList { currency, buyers }))
}

/// The carts as CSV, one row per held unit or waitlist place, safe to open in a
/// spreadsheet (a cell that would read as a formula starts with `'`).
#[utoipa::path(
    get,
    path = "/api/shows/{id}/carts.csv",
    tag = "claims",
    params(("id" = ShowId, Path, description = "The show's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The CSV (role viewer).", content_type = "text/csv", body = String),
        ShowRead,
    ),
)]
async fn export_carts(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<impl IntoResponse> {
    auth.require_show(Role::Viewer, id)?;
    let (currency, buyers) = service::carts::list(&state.db, id).await?;
    let disposition = format!("attachment; filename=\"carts-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        carts_csv(&buyers, &currency),
    ))
}

/// Mark every unit the buyer holds unpaid paid (role operator), in one transaction.
#[utoipa::path(
    post,
    path = "/api/shows/{id}/buyers/{buyer}/pay",
    tag = "claims",
    params(
        ("id" = ShowId, Path, description = "The show's id."),
        ("buyer" = String, Path, description = "The buyer's id (`buyer_id`)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The units now paid (none when nothing was due).", body = CartPaid,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ShowWrite,
    ),
)]
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn pay_cart(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, buyer)): ApiPath<(ShowId, String)>,
) -> Result<Written<CartPaid>> {
    auth.require_show(Role::Operator, id)?;
    check_text("buyer", &buyer, 1, 200).map_err(|e| ApiError::BadRequest(e.0))?;
    let paid = service::carts::pay(&state.db, auth.sub(), id, &buyer).await?;
    Ok(Written(StatusCode::OK, paid))
}
