//! Claims: the board of a show, and operators' status changes.

use axum::extract::State;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::{ApiJson, ApiPath, Result};
use super::AppState;
use crate::auth::{Auth, Role};
use crate::domain::claim::ClaimPatchBody;
use crate::domain::{ClaimId, ShowId};
use crate::service;
use crate::service::claims::ClaimChanged;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/shows/{id}/claims", get(list_claims))
        .route("/api/claims/{id}", patch(update_claim))
}

async fn list_claims(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let claims = service::claims::list(&state.db, id).await?;
    Ok(Json(json!({ "claims": claims })))
}

/// `{"status": "released" | "paid"}`; other transitions are 409.
#[tracing::instrument(skip_all, fields(claim_id = %id))]
async fn update_claim(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<ClaimPatchBody>,
) -> Result<Json<ClaimChanged>> {
    auth.require(Role::Operator)?;
    let change = body.try_into()?;
    let show = service::claims::show_of(&state.db, id).await?;
    auth.require_show(Role::Operator, show)?;
    let changed = service::claims::set_status(&state.db, auth.sub(), id, change).await?;
    Ok(Json(changed))
}
