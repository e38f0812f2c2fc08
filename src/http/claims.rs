//! Claims: the board of a show, and operators' status changes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiJson, ApiPath, Result};
use super::openapi::errors::{ClaimWrite, ShowRead};
use super::written::Written;
use super::AppState;
use crate::auth::{Auth, Role};
use crate::domain::claim::ClaimPatchBody;
use crate::domain::{Claim, ClaimId, ShowId};
use crate::service;
use crate::service::claims::ClaimChanged;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_claims))
        .routes(routes!(update_claim))
        .routes(routes!(undo_release))
}

/// `GET /api/shows/{id}/claims`'s body.
#[derive(Debug, Serialize, ToSchema)]
struct ClaimList {
    /// Every claim of the show, oldest first.
    claims: Vec<Claim>,
}

/// Every claim of the show.
#[utoipa::path(
    get,
    path = "/api/shows/{id}/claims",
    tag = "claims",
    params(("id" = ShowId, Path, description = "The show's id.")),
    security(("bearer" = [])),
    responses((status = 200, description = "The claims (role viewer).", body = ClaimList), ShowRead),
)]
async fn list_claims(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<ClaimList>> {
    auth.require_show(Role::Viewer, id)?;
    let claims = service::claims::list(&state.db, id).await?;
    Ok(Json(ClaimList { claims }))
}

/// Release a claim or mark it paid (role operator).
///
/// `claimed` may become `released` or `paid`, `waitlisted` may become `released`; other
/// transitions are 409. A release promotes the item's lowest waitlist position in the same
/// transaction (`promoted`).
#[utoipa::path(
    patch,
    path = "/api/claims/{id}",
    tag = "claims",
    params(("id" = ClaimId, Path, description = "The claim's id.")),
    request_body = ClaimPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed claim and any it promoted.", body = ClaimChanged,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ClaimWrite,
    ),
)]
#[tracing::instrument(skip_all, fields(claim_id = %id))]
async fn update_claim(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<ClaimPatchBody>,
) -> Result<Written<ClaimChanged>> {
    auth.require(Role::Operator)?;
    let change = body.try_into()?;
    let show = service::claims::show_of(&state.db, id).await?;
    auth.require_show(Role::Operator, show)?;
    let changed = service::claims::set_status(&state.db, auth.sub(), id, change).await?;
    Ok(Written(StatusCode::OK, changed))
}

/// Undo a release (role operator): within `UNDO_WINDOW_SECS` (10) of it, the claim is
/// claimed again if its item still has a free unit.
///
/// A release that promoted the next buyer gave the unit to them; undoing it would take the
/// unit back, so that is a 409 (as is an undo too late, of a claim that is not released, or
/// of a buyer who has claimed the item again). The answer is the claim, `claimed`.
#[utoipa::path(
    post,
    path = "/api/claims/{id}/undo-release",
    tag = "claims",
    params(("id" = ClaimId, Path, description = "The claim's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The claim, claimed again.", body = ClaimChanged,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ClaimWrite,
    ),
)]
#[tracing::instrument(skip_all, fields(claim_id = %id))]
async fn undo_release(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ClaimId>,
) -> Result<Written<ClaimChanged>> {
    auth.require(Role::Operator)?;
    let show = service::claims::show_of(&state.db, id).await?;
    auth.require_show(Role::Operator, show)?;
    let window = state.config.shows.undo_window_secs;
    let changed = service::claims::undo_release(&state.db, auth.sub(), id, window).await?;
    Ok(Written(StatusCode::OK, changed))
}
