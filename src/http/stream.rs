//! `GET /api/shows/{id}/stream`: the SSE feed.
//!
//! The response is built by hand rather than with axum's `Sse`: each change is already an
//! encoded frame shared by every subscriber (`feed::frame`), so a subscriber's stream only
//! hands out `Bytes` clones, and hyper writes several queued frames in one go.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures::StreamExt;
use rand::Rng;
use serde::Deserialize;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiPath, ApiQuery, Result};
use super::openapi::errors::ShowQuery;
use super::openapi::events::{StreamEvent, STREAM_DESCRIPTION};
use super::AppState;
use crate::auth::jwt::now_secs;
use crate::auth::session::Secret;
use crate::auth::{Auth, Role, Sessions, Via};
use crate::domain::ShowId;
use crate::feed::frame::{retry_hint, AUTH_EXPIRED, KEEP_ALIVE, SESSION_ENDED};
use crate::feed::{FeedError, Next, Subscription};
use crate::observability::Metrics;
use crate::server::Hangup;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_show_events))
}

/// How long a browser waits before reconnecting after a drop.
const RETRY_MS: u64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Resume after this seq, like `Last-Event-ID` (which wins when both are sent).
    #[param(example = "42")]
    last_event_id: Option<String>,
}

/// The id a client resumes after: `Last-Event-ID` (what EventSource sends), else the one
/// it passed in the query or body. Shared by the single-show and multiplexed streams.
pub(crate) fn resume_id<'a>(headers: &'a HeaderMap, given: Option<&'a str>) -> Option<&'a str> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(given)
}

/// The position to resume after. Garbage is ignored (the client gets a fresh `initial`),
/// never an error.
fn resume_position(headers: &HeaderMap, query: &StreamQuery) -> Option<i64> {
    resume_id(headers, query.last_event_id.as_deref()).and_then(|s| s.trim().parse::<i64>().ok())
}

#[utoipa::path(
    get,
    path = "/api/shows/{id}/stream",
    tag = "feed",
    summary = "Every change of a show, live, as server-sent events",
    description = STREAM_DESCRIPTION,
    params(
        ("id" = ShowId, Path, description = "The show's id."),
        ("Last-Event-ID" = Option<String>, Header, example = "42",
            description = "Resume after this seq (EventSource sends the last `id:` it saw on reconnect)."),
        StreamQuery,
    ),
    security(("bearer" = []), ("access_token" = [])),
    responses(
        (status = 200, description = "The event stream (role viewer); it ends only at \
`auth.expired`, at shutdown or when the client goes. Each event is one `StreamEvent`.",
            content_type = "text/event-stream", body = StreamEvent,
            headers(("Cache-Control" = String, description = "`no-cache, no-transform`"))),
        ShowQuery,
    ),
)]
#[tracing::instrument(skip_all, fields(show_id = %id))]
async fn stream_show_events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    hangup: Option<Extension<Hangup>>,
    headers: HeaderMap,
) -> Result<Response> {
    auth.require_show(Role::Viewer, id)?;
    let mut sub = state.feed.subscribe(id);
    // Subscribed first, then the snapshot or catch-up: nothing committed in between is
    // missed (the contract's first trap). An unknown show fails here, before any 200.
    let first = sub.start(resume_position(&headers, &query)).await?;

    let mut source = OneShow(sub);
    let opening = source.encode(first);
    Ok(sse_response(
        &state,
        &auth,
        hangup,
        source,
        opening,
        StreamLog::new(Some(id), 1, &headers),
    ))
}

/// What a stream sends: one show's subscription, or several merged
/// (`http::multiplex`). Each yields encoded SSE chunks.
pub(crate) trait Source: Send + 'static {
    /// The next events, encoded, and how many change frames they hold; Err ends the
    /// stream with a retry hint (the client resumes).
    fn next(&mut self) -> impl Future<Output = Result<Chunks, FeedError>> + Send;
    /// The show of a feed error, for the log.
    fn describe(&self) -> String;
}

/// Encoded events: the bytes to write, and how many change frames they carry.
#[derive(Default)]
pub(crate) struct Chunks {
    pub bytes: Vec<Bytes>,
    pub frames: usize,
}

/// The single-show stream: frames go out as encoded (their `id:` is the seq).
struct OneShow(Subscription);

impl OneShow {
    fn encode(&mut self, next: Next) -> Chunks {
        let bytes: Vec<Bytes> = match next {
            Next::Frames(frames) => frames.iter().map(|f| f.sse.clone()).collect(),
            Next::Initial(frame) => vec![frame.sse.clone()],
        };
        Chunks {
            frames: bytes.len(),
            bytes,
        }
    }
}

impl Source for OneShow {
    async fn next(&mut self) -> Result<Chunks, FeedError> {
        let next = self.0.next().await?;
        Ok(self.encode(next))
    }

    fn describe(&self) -> String {
        self.0.show().to_string()
    }
}

/// The streaming response around a started source: its opening chunks, then whatever it
/// yields, keep-alives when idle, `auth.expired` at the token's `exp`, a retry hint at
/// shutdown; ended when the client hangs up.
pub(crate) fn sse_response<S: Source>(
    state: &AppState,
    auth: &Auth,
    hangup: Option<Extension<Hangup>>,
    source: S,
    opening: Chunks,
    log: StreamLog,
) -> Response {
    let expires_in = Duration::from_secs(auth.0.exp.saturating_sub(now_secs()));
    let now = Instant::now();
    let heartbeat = state.config.http.heartbeat();
    tracing::info!(show_id = log.show_label(), shows = log.shows, request_id = %log.request_id, "stream opened");
    let mut events = EventStream {
        source,
        heartbeat,
        expires: Box::pin(tokio::time::sleep_until(now + expires_in)),
        session_ended: match &auth.1 {
            Via::Session(id) => Box::pin(session_ended(
                axum::extract::FromRef::from_ref(state),
                id.clone(),
            )),
            Via::Token => Box::pin(std::future::pending()),
        },
        // A child token per stream: polling it locks only this stream's own node, not
        // the node every stream shares.
        closing: Box::pin(state.shutdown.streams.child_token().cancelled_owned()),
        idle: Box::pin(tokio::time::sleep_until(now + heartbeat)),
        hangup: match hangup {
            Some(Extension(hangup)) => Box::pin(hangup.closed()),
            // Served without the accept loop (a router in a test): heartbeats notice.
            None => Box::pin(std::future::pending()),
        },
        last_sent: now,
        metrics: state.metrics.clone(),
        done: false,
        log,
    };
    let mut first = vec![retry_hint(RETRY_MS)];
    first.extend(events.count(opening));

    let body = futures::stream::iter(first)
        .chain(
            futures::stream::unfold(events, |mut events| async move {
                let chunks = events.next_chunks().await?;
                Some((futures::stream::iter(chunks), events))
            })
            .flatten(),
        )
        .map(Ok::<Bytes, Infallible>);

    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    // Nothing after a stream is ever answered on its connection, so bytes the client
    // sends behind it are read and dropped while watching for its close (`Hangup`).
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Resolves once session `id` is gone: checked every `SESSION_RECHECK_SECS`, so a
/// sign-out on any node (a deleted row), an idle end or the absolute end closes the
/// streams it opened. A failed check (the database away) is no verdict: the next one decides.
/// A check counts as use of the session, like a request: an open console is in use.
async fn session_ended(sessions: Sessions, id: Secret) {
    loop {
        tokio::time::sleep(sessions.settings.recheck).await;
        match sessions.lookup(&id).await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(e) => tracing::warn!(error = %e, "rechecking a stream's session failed"),
        }
    }
}

/// One stream's state after its first frames.
///
/// The timers and the shutdown wait are made once per stream and kept, not rebuilt for
/// every delivery: with thousands of subscribers per show, registering two timers and a
/// waiter on the shared shutdown token per frame (and removing them again) cost more CPU
/// than the rest of the stream's own work.
struct EventStream<S> {
    source: S,
    heartbeat: Duration,
    /// Fires when the token's `exp` passes.
    expires: Pin<Box<Sleep>>,
    /// Resolves when the console session the stream was opened with has ended (never for
    /// a token).
    session_ended: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Resolves when shutdown's grace period ends.
    closing: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Fires at `last_sent + heartbeat` or earlier; re-armed lazily when it fires early,
    /// so that sending a frame never touches the timer.
    idle: Pin<Box<Sleep>>,
    /// Resolves when the client closes its connection, even with bytes pipelined behind
    /// the request (hyper then stops reading and would hear of the close only when a
    /// heartbeat write fails).
    hangup: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// When bytes were last handed out (the opening, frames, or a keep-alive).
    last_sent: Instant,
    metrics: std::sync::Arc<Metrics>,
    done: bool,
    log: StreamLog,
}

/// What the stream's close line tells; written when the stream is dropped (the client
/// went away, or the body ended after the last frame), whichever way it ends.
pub(crate) struct StreamLog {
    /// The show of a single-show stream; None for a multiplexed one.
    show: Option<ShowId>,
    /// How many shows the stream follows.
    shows: usize,
    request_id: String,
    opened: Instant,
    /// Change frames handed out (`initial` included; keep-alives and retry hints not).
    frames: u64,
    /// Why it ended; stays "client closed" unless the server ended it.
    ended: &'static str,
}

impl StreamLog {
    pub(crate) fn new(show: Option<ShowId>, shows: usize, headers: &HeaderMap) -> Self {
        StreamLog {
            show,
            shows,
            // `http::access_log` has set it (the client's, or a new one) on every request.
            request_id: headers
                .get(super::access_log::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            opened: Instant::now(),
            frames: 0,
            ended: "client closed",
        }
    }

    fn show_label(&self) -> String {
        self.show
            .map_or_else(|| "many".to_owned(), |s| s.to_string())
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        tracing::info!(
            show_id = self.show_label(),
            shows = self.shows,
            request_id = %self.request_id,
            duration_ms = self.opened.elapsed().as_millis() as u64,
            frames = self.frames,
            reason = self.ended,
            "stream closed"
        );
    }
}

impl<S: Source> EventStream<S> {
    /// Counts what goes out (metrics, the close line) and hands the bytes on.
    fn count(&mut self, chunks: Chunks) -> Vec<Bytes> {
        self.metrics
            .frames_sent
            .fetch_add(chunks.frames as u64, Relaxed);
        self.log.frames += chunks.frames as u64;
        let bytes: usize = chunks.bytes.iter().map(Bytes::len).sum();
        self.metrics.bytes_sent.fetch_add(bytes as u64, Relaxed);
        chunks.bytes
    }

    /// The next bytes to send, or None when the stream ends.
    async fn next_chunks(&mut self) -> Option<Vec<Bytes>> {
        if self.done {
            return None;
        }
        loop {
            tokio::select! {
                biased;
                _ = self.closing.as_mut() => {
                    self.done = true;
                    self.log.ended = "node shutting down";
                    // Spread the reconnects of a closing node's clients over a second or so.
                    let jitter = rand::thread_rng().gen_range(250..1500);
                    return Some(vec![retry_hint(jitter)]);
                }
                _ = self.expires.as_mut() => {
                    self.done = true;
                    self.log.ended = "token expired";
                    return Some(vec![AUTH_EXPIRED]);
                }
                () = self.session_ended.as_mut() => {
                    self.done = true;
                    self.log.ended = "session ended";
                    return Some(vec![SESSION_ENDED]);
                }
                () = self.hangup.as_mut() => return None,
                _ = self.idle.as_mut() => {
                    // Frames went out since the timer was armed: wait for the rest of a
                    // heartbeat counted from the last one.
                    let due = self.last_sent + self.heartbeat;
                    let now = Instant::now();
                    if due > now {
                        self.idle.as_mut().reset(due);
                        continue;
                    }
                    self.last_sent = now;
                    self.idle.as_mut().reset(now + self.heartbeat);
                    return Some(vec![KEEP_ALIVE]);
                }
                // `Source::next` is cancel-safe: `Subscription::next` mutates its position
                // only right before returning, with no await in between, and a merged
                // source keeps its shows' pending futures inside itself.
                next = self.source.next() => {
                    self.last_sent = Instant::now();
                    return match next {
                        Ok(chunks) => Some(self.count(chunks)),
                        Err(e) => {
                            tracing::warn!(show_id = %self.source.describe(), error = %e, "stream ended by a feed error; the client will resume");
                            self.done = true;
                            self.log.ended = "feed error";
                            Some(vec![retry_hint(RETRY_MS)])
                        }
                    };
                }
            }
        }
    }
}
