//! Schemas of the feed's JSON, which Postgres writes (`sql/shows/snapshot.sql`,
//! `sql/show_changes/after.sql`) and the hub hands out as encoded bytes, so no Rust type
//! serialises it: these types exist for the document alone. `tests/api/contract.rs` holds
//! the rows inside them to the REST types; Schemathesis holds `/changes` to these.

use serde::Serialize;
use serde_json::json;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::domain::{Claim, Comment, Item, Show, ShowId};

/// The `data` of an `initial` event (and `initial` of a `/changes` page): the show's
/// whole state at `seq`, taken in one statement, so every list agrees with `seq`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42, "show": {"id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "title": "Friday drop",
    "status": "live", "started_at": "2026-12-04T18:00:00+00:00", "ended_at": null,
    "last_seq": 42, "created_at": "2026-12-04T17:55:01.5+00:00"},
    "comment_count": 0, "comments": [], "claims": [], "items": []
}))]
pub struct Snapshot {
    /// The show's seq this state is at; changes after it follow.
    pub seq: i64,
    pub show: Show,
    /// All comments of the show (`comments` holds only the newest `SNAPSHOT_COMMENTS`).
    pub comment_count: i64,
    /// The newest comments, newest first.
    pub comments: Vec<Comment>,
    /// Every claim, oldest first.
    pub claims: Vec<Claim>,
    /// Every item, by number.
    pub items: Vec<Item>,
}

/// The table a change is of.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Show,
    Item,
    Comment,
    Claim,
}

/// What happened to the row.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Insert,
    Update,
    Delete,
}

/// The row a change carries: the new row, or the old one for a delete; the same JSON,
/// field for field, as the REST API's row of that entity.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChangedRow {
    Show(Show),
    Item(Item),
    Comment(Comment),
    Claim(Claim),
}

/// One change of a show, as the stream's change events and `/changes` carry it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 43, "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "entity": "claim",
    "op": "update", "data": {"id": "9a4c1e2b-7d3f-4b6a-8c5e-1f2a3b4c5d6e",
    "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "item_number": 101,
    "comment_id": "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11", "buyer_id": "u1",
    "buyer_name": "Ann", "status": "paid", "waitlist_position": null,
    "created_at": "2026-12-04T18:02:00.25+00:00", "updated_at": "2026-12-04T18:05:00+00:00"},
    "actor": "alice", "committed_at": "2026-12-04T18:05:00.000412+00:00"
}))]
pub struct Change {
    /// The show's seq: 1, 2, 3, ... per show, gapless, in commit order.
    pub seq: i64,
    pub show_id: ShowId,
    pub entity: Entity,
    pub op: Op,
    pub data: ChangedRow,
    /// Who made it: the token's `sub` for API writes, the database role otherwise.
    pub actor: Option<String>,
    /// When the writing transaction committed (RFC 3339).
    pub committed_at: String,
}

/// `GET /api/shows/{id}/changes`: pass `seq` as the next `after`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"seq": 42, "more": false, "initial": null, "changes": []}))]
pub struct ChangesPage {
    /// The position after this page: the last change's seq (or the snapshot's, or `after`).
    pub seq: i64,
    /// More changes are waiting: ask again at once.
    pub more: bool,
    /// A fresh snapshot when `after` could not be replayed (replace your state); else null.
    pub initial: Option<Snapshot>,
    /// The changes after `after` (or after `initial`), in seq order.
    pub changes: Vec<Change>,
}

/// One event of a multiplexed long-poll: the stream's event name and its data.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"event": "comment.created", "data": {"seq": 43,
    "show_id": "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10", "entity": "comment", "op": "insert",
    "data": {}, "actor": "ingest", "committed_at": "2026-12-04T18:05:00+00:00"}}))]
pub struct TaggedEvent {
    /// `initial`, or a change's name (`comment.created`, `claim.updated`, ...).
    pub event: String,
    pub data: EventData,
}

/// An event's data: a show's `Snapshot` (for `initial`) or a `Change`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventData {
    Snapshot(Snapshot),
    Change(Change),
}

/// `GET /api/changes`: pass `last_event_id` to the next request.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"last_event_id": "0a1b2c3d.c.1f", "events": []}))]
pub struct ManyChangesPage {
    /// Every show's position after these events (the stream's vector id).
    pub last_event_id: String,
    /// Per show in seq order: its `initial` or replay first, then its changes.
    pub events: Vec<TaggedEvent>,
}

/// The `data` of `auth.expired`.
#[derive(Serialize, ToSchema)]
pub struct AuthExpired {
    #[schema(example = "token expired")]
    pub reason: String,
}

/// One event of the stream as an EventSource hands it over: `event` is its name, `id` the
/// `id:` line (the show's seq, which `Last-Event-ID` resumes after; absent on
/// `auth.expired`), `data` the `data:` line: a string of JSON, whose schema its
/// `contentSchema` names (Open API 3.2's way, which Schemathesis checks every event by).
#[derive(Serialize, ToSchema)]
#[serde(tag = "event")]
pub enum StreamEvent {
    /// The show's whole state; on a fresh connection, on a resume that cannot be
    /// replayed, and mid-stream when this client fell too far behind. Replace your state.
    #[serde(rename = "initial")]
    Initial {
        id: String,
        #[schema(schema_with = json_payload::<Snapshot>)]
        data: Snapshot,
    },
    #[serde(rename = "comment.created")]
    CommentCreated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "comment.updated")]
    CommentUpdated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "comment.deleted")]
    CommentDeleted {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "claim.created")]
    ClaimCreated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "claim.updated")]
    ClaimUpdated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "claim.deleted")]
    ClaimDeleted {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "item.created")]
    ItemCreated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "item.updated")]
    ItemUpdated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "item.deleted")]
    ItemDeleted {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    #[serde(rename = "show.updated")]
    ShowUpdated {
        id: String,
        #[schema(schema_with = json_payload::<Change>)]
        data: Change,
    },
    /// The token's `exp` passed; the server closes the stream after it. Reconnect with a
    /// new token and `Last-Event-ID`.
    #[serde(rename = "auth.expired")]
    AuthExpired {
        #[schema(schema_with = json_payload::<AuthExpired>)]
        data: AuthExpired,
    },
}

/// The schema of an event's `data`: a string (the `data:` line) holding `T` as JSON.
/// `contentSchema` has no builder in utoipa, so it rides in the extensions, which
/// serialise flat into the schema object.
fn json_payload<T: ToSchema>() -> Object {
    let content_schema = json!({ "$ref": format!("#/components/schemas/{}", T::name()) });
    ObjectBuilder::new()
        .schema_type(Type::String)
        .content_media_type("application/json")
        .extensions(Some(Extensions::from_iter([(
            "contentSchema",
            content_schema,
        )])))
        .build()
}

/// The stream operation's description: what the events are and how ids resume.
pub const STREAM_DESCRIPTION: &str = "\
Server-sent events (`text/event-stream`). The first bytes are a `retry: 1000` hint. A fresh \
connection gets `event: initial` (data: `Snapshot`) with `id:` = its seq S, then every change \
of the show with seq > S, in order, each once, as `comment.created|updated|deleted`, \
`claim.created|updated|deleted`, `item.created|updated|deleted` or `show.updated` \
(data: `Change`), each with `id:` = the change's per-show seq. The schema `StreamEvent` \
lists each event name with the schema of its `data`.\n\n\
**Resume**: send `Last-Event-ID: n` (browsers do on reconnect) or `?last_event_id=n` to get \
exactly the changes after n and no `initial`; a position that cannot be honoured (garbage, \
ahead of the show, pruned, or further back than `REPLAY_LIMIT`) gets a fresh `initial`, \
never an error. A fresh `initial` may also come mid-stream; replace your state on every one.\n\n\
**Liveness**: `: keep-alive` comment lines after `HEARTBEAT_SECS` of silence. When the \
token's `exp` passes: `event: auth.expired`, then the stream closes. On graceful shutdown: \
a `retry:` hint of 250-1500 ms, then close (reconnect to another node with Last-Event-ID).\n\n\
**Auth**: browsers' EventSource cannot set headers, so the token may come as \
`?access_token=<jwt>` instead of `Authorization: Bearer`.";

/// The description of `GET /api/stream`.
pub const MULTI_STREAM_DESCRIPTION: &str = "\
Server-sent events of many shows on one connection (HTTP/1.1 browsers open at most six per \
host). `?shows=A,B,C` names them (distinct ids, at most `MAX_STREAM_SHOWS`, default 500; \
`POST /api/stream` takes the list in a body). Each show starts as on its own stream (an \
`initial`, or the replay after its position), then every show's changes follow, each once, \
per show in seq order; the events are the single-show stream's (a `Change` carries its \
`show_id`, a `Snapshot` its `show.id`).\n\n\
**Vector id**: every event's `id:` is every show's position: `<fp>.<p1>.<p2>...`, where `fp` \
is the FNV-1a 32-bit hash of the show ids as listed (lowercase, hyphenated, joined by `,`) \
in 8 hex digits, and `p_i` the last seq sent of the i-th show in base 36, or `-` when none \
yet. `Last-Event-ID` (or `?last_event_id=`) resumes every show exactly, on any node; an id \
of another list, or garbage, starts every show with a fresh `initial`. To change the set, \
reconnect with the new list and an id built from your positions.\n\n\
**Refused before any event**: a malformed list, a duplicate or too many shows (400), a show \
the token may not see (403, naming it), an unknown show (404, naming it). Liveness, expiry, \
shutdown and auth as for `GET /api/shows/{id}/stream`.";
