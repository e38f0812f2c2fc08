//! Comment ingest and pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, Result};
use super::openapi::errors::{ShowQuery, ShowWrite};
use super::written::Written;
use super::{clamp_limit, AppState};
use crate::auth::{Auth, Role};
use crate::domain::{Comment, CommentBatch, CommentFilter, CommentId, NewComment, Only, ShowId};
use crate::service;
use crate::service::comments::Ingested;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(page_comments, create_comments))
}

/// The body of `POST /api/shows/{id}/comments`, for the document: what
/// `CommentBatch::try_from` accepts.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CommentsBody {
    One(NewComment),
    /// 1 to 10,000 comments, stored in one transaction.
    Batch(Vec<NewComment>),
}

/// Store one comment or a batch (role ingest).
///
/// Idempotent on `external_id`: a re-post changes nothing, is listed in `duplicates`, and
/// is answered with the stored row and its claims as they are now.
/// Comments on a live show that say `sold <n>` claim item n in the same transaction.
#[utoipa::path(
    post,
    path = "/api/shows/{id}/comments",
    tag = "comments",
    params(("id" = ShowId, Path, description = "The show's id.")),
    request_body(content = inline(CommentsBody), description = "One comment object, or an array of them."),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Something was stored.", body = Ingested,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        (status = 200, description = "Every comment was a re-post; nothing changed. The answer holds the stored rows.", body = Ingested,
            headers(("X-Showfeed-Seq" = i64, description = "The `seq` of the body: the show's seq once this write is visible."))),
        ShowWrite,
    ),
)]
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn create_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Written<Ingested>> {
    auth.require_show(Role::Ingest, id)?;
    let batch = CommentBatch::try_from(body)?;
    let ingested = state.ingest.ingest(auth.sub(), id, batch).await?;
    let status = if ingested.stored == 0 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Written(status, ingested))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// How many comments at most, 1 to 1000 (default 100; other values are clamped).
    #[param(example = 50)]
    limit: Option<i64>,
    /// The id of the last comment of the previous page: the page continues after it.
    #[param(value_type = Option<CommentId>)]
    before: Option<CommentId>,
    /// Only comments whose text contains this, literally (`%` and `_` are no wildcards),
    /// ignoring case; 1 to 200 characters (empty: no filter).
    #[param(example = "sold 12", max_length = 200)]
    q: Option<String>,
    /// Only comments by this author id (`author_id`, the buyer's id in claims).
    #[param(example = "u1", max_length = 200)]
    buyer: Option<String>,
    /// `claims`: only comments that made a claim; `unclaimed_sold`: only those that read
    /// as a claim and made none (see `claim_result`).
    #[param(value_type = Option<Only>)]
    only: Option<Only>,
}

/// `GET /api/shows/{id}/comments`'s body.
#[derive(Debug, Serialize, ToSchema)]
struct CommentPage {
    /// Newest first; pass the last one's `id` as `before` for the next page.
    comments: Vec<Comment>,
}

/// A page of the show's comments, newest first, or of those matching a search.
///
/// The search runs on the server (a trigram index), so it works on 100k-comment shows;
/// page through its results with `before` like through all comments.
#[utoipa::path(
    get,
    path = "/api/shows/{id}/comments",
    tag = "comments",
    params(("id" = ShowId, Path, description = "The show's id."), PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The page (role viewer).", body = CommentPage), ShowQuery),
)]
async fn page_comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<CommentPage>> {
    auth.require_show(Role::Viewer, id)?;
    let limit = clamp_limit(q.limit, 100, 1000);
    let filter = CommentFilter::new(q.q.as_deref(), q.buyer.as_deref(), q.only)
        .map_err(|e| ApiError::BadRequest(e.0))?;
    let comments = service::comments::page(&state.db, id, &filter, q.before, limit).await?;
    Ok(Json(CommentPage { comments }))
}
