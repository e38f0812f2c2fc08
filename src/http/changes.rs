//! `GET /api/shows/{id}/changes?after=&limit=&wait=`: the polling fallback. The same
//! change objects as the stream, served by the hub (ring, shared catch-up), and `wait`
//! long-polls on the hub's broadcast rather than a query loop.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bytes::{BufMut, BytesMut};
use serde::Deserialize;

use super::error::{ApiPath, ApiQuery, Result};
use super::{clamp_limit, AppState, MAX_WAIT};
use crate::auth::{Auth, Role};
use crate::domain::ShowId;
use crate::feed::Next;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/shows/{id}/changes", get(poll_changes))
}

#[derive(Debug, Deserialize)]
struct ChangesQuery {
    after: Option<i64>,
    limit: Option<i64>,
    /// Seconds to wait for a change when there is none yet.
    wait: Option<f64>,
}

/// `{"seq": S, "initial": null | {...}, "changes": [...], "more": bool}`: pass `seq` as
/// the next `after`. When `after` cannot be replayed, `initial` holds a fresh snapshot
/// and `changes` start after it.
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn poll_changes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> Result<impl IntoResponse> {
    auth.require_show(Role::Viewer, id)?;
    let limit = clamp_limit(q.limit, 500, 5000) as usize;
    let wait = Duration::from_secs_f64(q.wait.unwrap_or(0.0).clamp(0.0, MAX_WAIT.as_secs_f64()));

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
