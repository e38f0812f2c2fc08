//! Claims: the board of a show, and operators' status changes.

use axum::extract::State;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{ApiError, ApiJson, ApiPath, Result};
use super::AppState;
use crate::auth::{Auth, Role};
use crate::domain::input::ClaimPatch;
use crate::domain::{ClaimStatus, ShowId};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/shows/{id}/claims", get(list_claims))
        .route("/api/claims/{id}", patch(update_claim))
}

async fn list_claims(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Value>> {
    auth.require_show(Role::Viewer, id)?;
    let show = ShowId(id);
    state.db.get_show(show).await?;
    Ok(Json(json!({ "claims": state.db.list_claims(show).await? })))
}

/// `{"status": "released" | "paid"}`; other transitions are 409.
#[tracing::instrument(skip_all, fields(claim_id = %id))]
async fn update_claim(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ClaimPatch>,
) -> Result<Json<Value>> {
    auth.require(Role::Operator)?;
    let to = match ClaimStatus::parse(&patch.status) {
        Some(s @ (ClaimStatus::Released | ClaimStatus::Paid)) => s,
        _ => {
            return Err(ApiError::Invalid(format!(
                "status must be released or paid, not {:?}",
                patch.status
            )))
        }
    };
    let show = state.db.show_of_claim(id).await?;
    auth.require_show(Role::Operator, show.0)?;
    let changed = state.db.set_claim_status(auth.sub(), id, to).await?;
    Ok(Json(json!(changed)))
}
