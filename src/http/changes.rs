//! `GET /api/shows/{id}/changes?after=&limit=&wait=`: the polling fallback. The same
//! change objects as the stream, served by the hub (ring, shared catch-up), and `wait`
//! long-polls on the hub's broadcast rather than a query loop.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use bytes::{BufMut, BytesMut};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiPath, ApiQuery, Result};
use super::openapi::errors::ShowQuery;
use super::openapi::events::ChangesPage;
use super::{clamp_limit, wait_duration, AppState};
use crate::auth::{Auth, Role};
use crate::domain::ShowId;
use crate::feed::Next;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(poll_changes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// The seq to continue after (the previous page's `seq`); 0 or absent: from the start.
    /// One that cannot be replayed gets a fresh snapshot in `initial`.
    #[param(example = 42)]
    after: Option<i64>,
    /// How many changes at most, 1 to 5000 (default 500; other values are clamped).
    limit: Option<i64>,
    /// Seconds to wait for a change when there is none yet, up to 60 (default 0: answer
    /// at once; larger values are clamped).
    #[param(minimum = 0, maximum = 60, example = 20)]
    wait: Option<f64>,
}

/// `{"seq": S, "initial": null | {...}, "changes": [...], "more": bool}`: pass `seq` as
/// the next `after`. When `after` cannot be replayed, `initial` holds a fresh snapshot
/// and `changes` start after it.
#[utoipa::path(
    get,
    path = "/api/shows/{id}/changes",
    tag = "feed",
    summary = "The changes after a seq: the polling fallback for the stream",
    description = "The same change objects as the stream's events. Pass the answer's `seq` \
as the next `after`; `more` says more are waiting. `wait` long-polls on the node's \
in-memory feed. An `after` that cannot be replayed gets a fresh snapshot in `initial` \
(replace your state) and `changes` after it.",
    params(("id" = ShowId, Path, description = "The show's id."), ChangesQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of changes (role viewer).", body = ChangesPage), ShowQuery),
)]
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn poll_changes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> Result<impl IntoResponse> {
    auth.require_show(Role::Viewer, id)?;
    let limit = clamp_limit(q.limit, 500, 5000) as usize;
    let wait = wait_duration(q.wait)?;

    let mut sub = state.feed.subscribe(id);
    let (initial, mut frames) = match sub.start(Some(q.after.unwrap_or(0))).await? {
        Next::Initial(frame) => (Some(frame), Vec::new()),
        Next::Frames(frames) => (None, frames),
    };
    if initial.is_none() && frames.is_empty() && !wait.is_zero() {
        if let Ok(next) = tokio::time::timeout(wait, sub.next()).await {
            match next? {
                Next::Frames(more) => frames = more,
                // Rare: the position became unreplayable while waiting.
                Next::Initial(_) => {}
            }
        }
    }
    let more = frames.len() > limit;
    frames.truncate(limit);
    let seq = frames
        .last()
        .map(|f| f.seq)
        .or(initial.as_ref().map(|f| f.seq))
        .unwrap_or(q.after.unwrap_or(0));

    let size: usize = frames.iter().map(|f| f.json.len() + 1).sum();
    let mut body =
        BytesMut::with_capacity(size + initial.as_ref().map_or(0, |f| f.json.len()) + 64);
    body.put_slice(format!("{{\"seq\":{seq},\"more\":{more},\"initial\":").as_bytes());
    match &initial {
        Some(frame) => body.put_slice(&frame.json),
        None => body.put_slice(b"null"),
    }
    body.put_slice(b",\"changes\":[");
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            body.put_u8(b',');
        }
        body.put_slice(&frame.json);
    }
    body.put_slice(b"]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body.freeze()))
}
