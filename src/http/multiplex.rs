//! One stream, many shows: `GET|POST /api/stream` (SSE) and `GET|POST /api/changes` (its
//! long-poll fallback).
//!
//! Each show of the list gets its own [`Subscription`], started exactly as a single-show
//! stream starts (subscribed first, then its `initial` or its replay), and the shows' live
//! frames are merged as they come. Per show the order is the show's seq order and nothing
//! is sent twice, by the same rule as a single-show stream; across shows there is no order
//! to keep. Every event's SSE id is the whole stream's [`Positions`], so `Last-Event-ID`
//! resumes every show exactly, on any node.
//!
//! The list is fixed for a connection: a client that wants another set reconnects with an
//! id it builds from its own per-show positions (the fingerprint tells the server which
//! list an id belongs to). Changing the set in place would need a second channel from the
//! client to the node holding its stream, which a plain `EventSource` does not have and
//! which ties a client to one node; a reconnect that resumes exactly costs one request.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::{BufMut, Bytes, BytesMut};
use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt, TryStreamExt};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson, ApiQuery, Result};
use super::openapi::errors::{ShowQuery, ShowsBody};
use super::openapi::events::{ManyChangesPage, StreamEvent, MULTI_STREAM_DESCRIPTION};
use super::stream::{resume_id, sse_response, Chunks, Source, StreamLog};
use super::AppState;
use crate::auth::{Auth, Role};
use crate::domain::ShowId;
use crate::feed::frame::Frame;
use crate::feed::positions::Positions;
use crate::feed::{FeedError, Next, Subscription};
use crate::server::Hangup;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stream_many, stream_many_posted))
        .routes(routes!(poll_many, poll_many_posted))
}

/// Shows started at once when a stream opens (snapshot or catch-up queries in flight).
const START_CONCURRENCY: usize = 8;

/// Events one wake of a merged stream hands out together, across its shows.
const BATCH: usize = 256;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ManyQuery {
    /// The shows, comma-separated ids (at most `MAX_STREAM_SHOWS`, default 500; for long
    /// lists use the POST form).
    #[param(
        example = "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10,0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11",
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*$"
    )]
    shows: String,
    /// Resume every show after its position in this vector id, like `Last-Event-ID` (which
    /// wins when both are sent). One of another list, or garbage, starts every show afresh.
    last_event_id: Option<String>,
    /// Long-poll only: seconds to wait when nothing is pending, up to 60 (default 0).
    #[param(minimum = 0, maximum = 60)]
    wait: Option<f64>,
}

/// The POST form's body: the same as the query, for lists too long for a URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ManyBody {
    /// The show ids, at most `MAX_STREAM_SHOWS` (default 500).
    #[schema(value_type = Vec<ShowId>, example = json!(["6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10"]))]
    shows: Vec<String>,
    /// As the query's `last_event_id`.
    last_event_id: Option<String>,
    /// Long-poll only: as the query's `wait`.
    wait: Option<f64>,
}

/// A checked request: distinct shows the token may see, and where to resume them.
struct ManyRequest {
    shows: Vec<ShowId>,
    positions: Positions,
    wait: std::time::Duration,
}

impl ManyRequest {
    fn new<'a>(
        state: &AppState,
        auth: &Auth,
        headers: &HeaderMap,
        shows: impl ExactSizeIterator<Item = &'a str>,
        last_event_id: Option<&str>,
        wait: Option<f64>,
    ) -> Result<Self> {
        auth.require(Role::Viewer)?;
        let shows = parse_shows(shows, state.config.feed.max_stream_shows)?;
        if let Some(show) = shows.iter().find(|s| !auth.0.may_see(**s)) {
            return Err(ApiError::Forbidden(format!(
                "this token may not see show {show}"
            )));
        }
        let positions = resume_id(headers, last_event_id)
            .and_then(|id| Positions::parse(&shows, id))
            .unwrap_or_else(|| Positions::new(&shows));
        Ok(ManyRequest {
            shows,
            positions,
            wait: super::wait_duration(wait)?,
        })
    }
}

impl ManyRequest {
    fn from_query(
        state: &AppState,
        auth: &Auth,
        headers: &HeaderMap,
        q: &ManyQuery,
    ) -> Result<Self> {
        let shows = query_list(&q.shows);
        Self::new(
            state,
            auth,
            headers,
            shows.into_iter(),
            q.last_event_id.as_deref(),
            q.wait,
        )
    }

    fn from_body(
        state: &AppState,
        auth: &Auth,
        headers: &HeaderMap,
        body: &ManyBody,
    ) -> Result<Self> {
        let shows = body.shows.iter().map(String::as_str);
        Self::new(
            state,
            auth,
            headers,
            shows,
            body.last_event_id.as_deref(),
            body.wait,
        )
    }
}

/// The list's ids: 1 to `cap` of them, each a show id, none twice; else a 400 that says
/// which entry is wrong.
fn parse_shows<'a>(
    items: impl ExactSizeIterator<Item = &'a str>,
    cap: usize,
) -> Result<Vec<ShowId>> {
    let bad = |m: String| ApiError::BadRequest(m);
    if items.len() > cap {
        return Err(bad(format!(
            "a stream follows at most {cap} shows; this asks for {}",
            items.len()
        )));
    }
    let mut shows = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let item = item.trim();
        let show: ShowId = item.parse().map_err(|_| {
            let shown: String = item.chars().take(40).collect();
            bad(format!("not a show id: {shown:?}"))
        })?;
        if !seen.insert(show) {
            return Err(bad(format!("show {show} is listed twice")));
        }
        shows.push(show);
    }
    if shows.is_empty() {
        return Err(bad("name at least one show: ?shows=<id>,<id>".into()));
    }
    Ok(shows)
}

/// The query's comma-separated list as entries (none for an empty list).
fn query_list(shows: &str) -> Vec<&str> {
    if shows.trim().is_empty() {
        Vec::new()
    } else {
        shows.split(',').collect()
    }
}

/// Several shows' subscriptions merged into one source of events.
pub(crate) struct ShowSet {
    shows: Vec<ShowId>,
    positions: Positions,
    /// Each show's subscription as a stream of its `next`s, tagged with its place in the
    /// list. The pending `next` of every show lives in here between polls, so taking one
    /// show's events never cancels another's.
    merged: SelectAll<BoxStream<'static, (usize, Result<Next, FeedError>)>>,
}

impl ShowSet {
    /// Subscribes to every show, then starts them (a few at once), in list order: each
    /// show's replay after its position, or its `initial`. An unknown show fails the
    /// whole request, naming it, before any event.
    async fn open(state: &AppState, request: ManyRequest) -> Result<(ShowSet, Vec<Next>)> {
        let ManyRequest {
            shows, positions, ..
        } = request;
        // Owned, not borrowed, into each start: a borrowing future here is not provably
        // `Send` for every lifetime (a known limit of the compiler).
        let plan: Vec<(usize, Subscription, Option<i64>)> = shows
            .iter()
            .enumerate()
            .map(|(i, show)| (i, state.feed.subscribe(*show), positions.get(i)))
            .collect();
        let started: Vec<(Subscription, Next)> = futures::stream::iter(plan)
            .map(|(i, mut sub, resume)| async move {
                match sub.start(resume).await {
                    Ok(next) => Ok((sub, next)),
                    Err(e) => Err((i, e)),
                }
            })
            .buffered(START_CONCURRENCY)
            .try_collect()
            .await
            .map_err(|(i, e)| match e {
                FeedError::NotFound => ApiError::Missing(format!("show {} not found", shows[i])),
                other => other.into(),
            })?;
        let (subs, firsts): (Vec<Subscription>, Vec<Next>) = started.into_iter().unzip();
        let merged = subs
            .into_iter()
            .enumerate()
            .map(|(i, sub)| {
                futures::stream::unfold(sub, move |mut sub| async move {
                    let next = sub.next().await;
                    Some(((i, next), sub))
                })
                .boxed()
            })
            .collect();
        Ok((
            ShowSet {
                shows,
                positions,
                merged,
            },
            firsts,
        ))
    }

    /// Moves show `index` past `next`, calling `each` with every frame and the positions
    /// including it.
    fn advance(&mut self, index: usize, next: Next, mut each: impl FnMut(&Positions, &Frame)) {
        let frames = match next {
            Next::Frames(frames) => frames,
            Next::Initial(frame) => vec![frame],
        };
        for frame in frames {
            self.positions.set(index, frame.seq);
            each(&self.positions, &frame);
        }
    }

    /// The SSE bytes of show `index`'s `next`: each frame behind an id line of its own.
    fn encode(&mut self, index: usize, next: Next, out: &mut Chunks) {
        self.advance(index, next, |positions, frame| {
            let mut line = String::with_capacity(5 + positions.encoded_len_hint());
            line.push_str("id: ");
            positions.encode_into(&mut line);
            line.push('\n');
            out.bytes.push(Bytes::from(line));
            out.bytes.push(frame.without_id());
            out.frames += 1;
        });
    }

    /// The opening: every show's first frames, in list order.
    fn encode_opening(&mut self, firsts: Vec<Next>) -> Chunks {
        let mut out = Chunks::default();
        for (i, next) in firsts.into_iter().enumerate() {
            self.encode(i, next, &mut out);
        }
        out
    }

    /// The next show's events, and any other show's already waiting.
    async fn next_ready(&mut self) -> Result<Vec<(usize, Next)>, FeedError> {
        // Every show's stream is endless (a subscription's `next` only returns), so the
        // merge ends only if it holds none, which `parse_shows` rules out.
        let Some((i, next)) = self.merged.next().await else {
            return Ok(Vec::new());
        };
        let mut ready = vec![(i, next?)];
        while ready.len() < BATCH {
            match self.merged.next().now_or_never() {
                Some(Some((i, next))) => ready.push((i, next?)),
                _ => break,
            }
        }
        Ok(ready)
    }
}

impl Source for ShowSet {
    async fn next(&mut self) -> Result<Chunks, FeedError> {
        let mut out = Chunks::default();
        for (i, next) in self.next_ready().await? {
            self.encode(i, next, &mut out);
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("{} shows", self.shows.len())
    }
}

#[utoipa::path(
    get,
    path = "/api/stream",
    tag = "feed",
    summary = "Every change of many shows, live, on one connection",
    description = MULTI_STREAM_DESCRIPTION,
    params(
        ("Last-Event-ID" = Option<String>, Header,
            description = "Resume every show after its position in this vector id (EventSource sends the last `id:` it saw)."),
        ManyQuery,
    ),
    security(("bearer" = []), ("access_token" = [])),
    responses(
        (status = 200, description = "The event stream (role viewer): each show's `initial` \
or replay, then every show's changes; every `id:` is the vector id.",
            content_type = "text/event-stream", body = StreamEvent),
        ShowQuery,
    ),
)]
#[tracing::instrument(skip_all)]
async fn stream_many(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ManyQuery>,
    hangup: Option<Extension<Hangup>>,
    headers: HeaderMap,
) -> Result<Response> {
    let request = ManyRequest::from_query(&state, &auth, &headers, &q)?;
    open_stream(state, auth, hangup, headers, request).await
}

#[utoipa::path(
    post,
    path = "/api/stream",
    tag = "feed",
    summary = "The multiplexed stream, its show list in the body",
    description = "As `GET /api/stream`, for lists too long for a URL; read it with `fetch`.",
    params(("Last-Event-ID" = Option<String>, Header, description = "As for `GET /api/stream`.")),
    request_body = ManyBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event stream, as `GET /api/stream`'s.",
            content_type = "text/event-stream", body = StreamEvent),
        ShowsBody,
    ),
)]
#[tracing::instrument(skip_all)]
async fn stream_many_posted(
    State(state): State<AppState>,
    auth: Auth,
    hangup: Option<Extension<Hangup>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ManyBody>,
) -> Result<Response> {
    let request = ManyRequest::from_body(&state, &auth, &headers, &body)?;
    open_stream(state, auth, hangup, headers, request).await
}

async fn open_stream(
    state: AppState,
    auth: Auth,
    hangup: Option<Extension<Hangup>>,
    headers: HeaderMap,
    request: ManyRequest,
) -> Result<Response> {
    let count = request.shows.len();
    let (mut set, firsts) = ShowSet::open(&state, request).await?;
    let opening = set.encode_opening(firsts);
    let log = StreamLog::new(None, count, &headers);
    Ok(sse_response(&state, &auth, hangup, set, opening, log))
}

#[utoipa::path(
    get,
    path = "/api/changes",
    tag = "feed",
    summary = "The changes of many shows after a vector id: the multiplexed stream's polling fallback",
    description = "The same events as `GET /api/stream`, as JSON. Pass the answer's \
`last_event_id` to the next request. Answers at once when anything is pending (each show's \
`initial` or replay included), else after at most `wait` seconds with what arrived (maybe \
nothing).",
    params(ManyQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The events (role viewer).", body = ManyChangesPage), ShowQuery),
)]
#[tracing::instrument(skip_all)]
async fn poll_many(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ManyQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let request = ManyRequest::from_query(&state, &auth, &headers, &q)?;
    poll(state, request).await
}

#[utoipa::path(
    post,
    path = "/api/changes",
    tag = "feed",
    summary = "The multiplexed long-poll, its show list in the body",
    description = "As `GET /api/changes`, for lists too long for a URL.",
    request_body = ManyBody,
    security(("bearer" = [])),
    responses((status = 200, description = "The events (role viewer).", body = ManyChangesPage), ShowsBody),
)]
#[tracing::instrument(skip_all)]
async fn poll_many_posted(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ManyBody>,
) -> Result<Response> {
    let request = ManyRequest::from_body(&state, &auth, &headers, &body)?;
    poll(state, request).await
}

/// `{"last_event_id": "...", "events": [{"event": name, "data": ...}, ...]}`, the data
/// spliced in as the feed encoded it.
async fn poll(state: AppState, request: ManyRequest) -> Result<Response> {
    let wait = request.wait;
    let (mut set, firsts) = ShowSet::open(&state, request).await?;
    let mut ready: Vec<(usize, Next)> = firsts
        .into_iter()
        .enumerate()
        .filter(|(_, next)| !matches!(next, Next::Frames(f) if f.is_empty()))
        .collect();
    if ready.is_empty() && !wait.is_zero() {
        if let Ok(next) = tokio::time::timeout(wait, set.next_ready()).await {
            ready = next?;
        }
    }
    let mut events = BytesMut::new();
    for (i, next) in ready {
        set.advance(i, next, |_, frame| {
            if !events.is_empty() {
                events.put_u8(b',');
            }
            events.put_slice(b"{\"event\":\"");
            events.put_slice(frame.event().as_bytes());
            events.put_slice(b"\",\"data\":");
            events.put_slice(&frame.json);
            events.put_u8(b'}');
        });
    }
    let id = set.positions.encode();
    let mut body = BytesMut::with_capacity(events.len() + id.len() + 40);
    body.put_slice(b"{\"last_event_id\":\"");
    body.put_slice(id.as_bytes());
    body.put_slice(b"\",\"events\":[");
    body.put_slice(&events);
    body.put_slice(b"]}");
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body.freeze()),
    )
        .into_response())
}
