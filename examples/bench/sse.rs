//! A lean SSE subscriber over a raw TCP socket: one HTTP/1.1 request, a chunked-body
//! decoder, and an event parser that reads only `id:`, `event:` and the data's
//! `"committed_at"`, so that ten thousand of them fit on a core shared with the server.
//!
//! Each subscriber checks its own sequence (every seq exactly once, in order) and, like a
//! browser's EventSource, resumes with `Last-Event-ID` if the stream ends.
//!
//! Two subscribers share all of that: [`Single`] follows one show
//! (`/api/shows/{id}/stream`, the seq is the SSE id) and [`Many`] several on one
//! multiplexed connection (`/api/stream?shows=...`, the SSE id is a vector of positions,
//! so each event's show and seq are read from its data), with a position per show.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::hist::Hist;

/// Counters shared by every client of a run; phases read and reset them.
pub struct Stats {
    /// Commit -> receive latency of each delta event, in microseconds.
    pub latency: Hist,
    /// Delta events received (not `initial`).
    pub events: AtomicU64,
    /// Events whose seq the subscriber had already seen (or older).
    pub duplicates: AtomicU64,
    /// Seqs skipped over (a later seq came first).
    pub lost: AtomicU64,
    /// `initial` events after the first one (the server could not replay a position).
    pub reinitials: AtomicU64,
    /// Streams that ended and were resumed.
    pub reconnects: AtomicU64,
    /// Connection attempts that failed (refused, timed out, non-200).
    pub failures: AtomicU64,
    /// Body bytes received.
    pub bytes: AtomicU64,
    /// Time from connect to the end of the `initial` event, in microseconds.
    pub time_to_initial: Hist,
    /// Subscribers that got their first `initial` (or first poll answer); a multiplexed
    /// subscriber counts once per show.
    pub ready: AtomicU64,
    /// Events with an id whose show or seq could not be read, or of a show not asked for
    /// (multiplexed subscribers; each is an exactness violation).
    pub unreadable: AtomicU64,
}

impl Stats {
    pub fn new() -> Arc<Self> {
        Arc::new(Stats {
            latency: Hist::new(),
            events: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            reinitials: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            time_to_initial: Hist::new(),
            ready: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
        })
    }
}

/// One subscriber's position, readable by the driver while it runs.
pub struct Position {
    /// Index of the show (in the phase's list) this subscriber follows.
    pub show: usize,
    /// Seq of the last event seen in order (the `initial`'s seq at first); -1 before it.
    pub last: AtomicI64,
    /// Set once the first `initial` arrived.
    pub ready: AtomicBool,
    /// Set when the subscriber gave up (too many failed connects).
    pub dead: AtomicBool,
}

impl Position {
    pub fn new(show: usize) -> Arc<Self> {
        Arc::new(Position {
            show,
            last: AtomicI64::new(-1),
            ready: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        })
    }
}

pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `"committed_at": "2026-01-01T00:00:00.123456+00:00"` in a change's JSON, as µs since the epoch.
pub fn committed_at_micros(data: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"committed_at\": \"";
    let at = find(data, KEY)? + KEY.len();
    let end = at + data[at..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&data[at..end]).ok()?;
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(t.timestamp_micros())
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let j = i + hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        if &hay[j..j + needle.len()] == needle {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

/// A stream body's bytes to its text: de-chunked when the answer was chunked, as they
/// come otherwise (a close-delimited body).
pub struct BodyText {
    chunked: bool,
    dechunk: Dechunk,
}

impl BodyText {
    pub fn new(chunked: bool) -> BodyText {
        BodyText {
            chunked,
            dechunk: Dechunk::default(),
        }
    }

    /// Appends the text in `input` to `text`; true once the body has ended.
    pub fn feed(&mut self, input: &[u8], text: &mut Vec<u8>) -> std::io::Result<bool> {
        if self.chunked {
            self.dechunk
                .feed(input, text)
                .map_err(|_| std::io::Error::other("bad chunked encoding"))
        } else {
            text.extend_from_slice(input);
            Ok(false)
        }
    }
}

/// Decodes `Transfer-Encoding: chunked` incrementally.
#[derive(Default)]
pub struct Dechunk {
    state: ChunkState,
    size: usize,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum ChunkState {
    #[default]
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Done,
}

impl Dechunk {
    /// Appends the payload bytes of `input` to `out`; Err on malformed input, Ok(true)
    /// once the last chunk was read.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<bool, ()> {
        use ChunkState::*;
        while !input.is_empty() {
            match self.state {
                Data => {
                    let n = self.size.min(input.len());
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    self.size -= n;
                    if self.size == 0 {
                        self.state = DataCr;
                    }
                    continue;
                }
                Done => return Ok(true),
                _ => {}
            }
            let b = input[0];
            input = &input[1..];
            self.state = match (self.state, b) {
                (Size, b'0'..=b'9') => {
                    self.size = self.size * 16 + (b - b'0') as usize;
                    Size
                }
                (Size, b'a'..=b'f') => {
                    self.size = self.size * 16 + (b - b'a' + 10) as usize;
                    Size
                }
                (Size, b'A'..=b'F') => {
                    self.size = self.size * 16 + (b - b'A' + 10) as usize;
                    Size
                }
                (Size, b';') => Extension,
                (Size | Extension, b'\r') => SizeLf,
                (Extension, _) => Extension,
                (SizeLf, b'\n') if self.size == 0 => Done,
                (SizeLf, b'\n') => Data,
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => Size,
                _ => return Err(()),
            };
        }
        Ok(self.state == Done)
    }
}

/// Sends the stream request for `path` (with `Last-Event-ID: last` when `last` is a
/// position, i.e. not negative) and reads the answer's head within `limit`. Gives whether
/// the body is chunked, the bytes read so far, and where the head ends in them; any
/// status but 200 is an error.
#[allow(dead_code)] // the chaos soak's; the benchmark's readers resume by open_stream_after
pub async fn open_stream(
    stream: &mut TcpStream,
    path: &str,
    last: i64,
    limit: Duration,
) -> std::io::Result<(bool, Vec<u8>, usize)> {
    let resume = (last >= 0).then(|| last.to_string());
    open_stream_after(stream, path, resume.as_deref(), limit).await
}

/// As [`open_stream`], resuming after any `Last-Event-ID` (a multiplexed stream's is a
/// vector of positions, not a seq).
pub async fn open_stream_after(
    stream: &mut TcpStream,
    path: &str,
    last_event_id: Option<&str>,
    limit: Duration,
) -> std::io::Result<(bool, Vec<u8>, usize)> {
    let resume = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{resume}\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(1024);
    let (status, chunked, _, head_len) = tokio::time::timeout(limit, read_head(stream, &mut head))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    if status != 200 {
        return Err(std::io::Error::other(format!("status {status}")));
    }
    Ok((chunked, head, head_len))
}

/// Reads an HTTP response head from `stream` into `buf`; returns (status, chunked,
/// content length, head length). `buf` keeps whatever body bytes came with the head.
pub async fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, bool, Option<usize>, usize)> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut chunked = false;
            let mut length = None;
            for line in head.split("\r\n").skip(1) {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().ok();
                }
            }
            return Ok((status, chunked, length, end + 4));
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("response head too large"));
        }
        let mut tmp = [0u8; 4096];
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// What a subscriber is told to do.
pub struct Target {
    pub addr: SocketAddr,
    /// `/api/shows/{id}/stream?access_token=...`, or a multiplexed
    /// `/api/stream?shows=<id>,<id>&access_token=...`.
    pub path: String,
}

/// The fields of one SSE event the clients read (comment and `retry:` lines are skipped).
pub struct Event<'a> {
    /// The `id:` line's value; None for an event without one.
    pub id: Option<&'a [u8]>,
    /// `event: initial`.
    pub initial: bool,
    /// The `data:` line's value (the feed writes one per event).
    pub data: &'a [u8],
}

/// What tells the two subscribers apart: where an event's show and seq come from, and what
/// to resume with. Connecting, resuming, decoding, the checks and the latency ([`Tally`])
/// are one piece of code for both.
pub trait Reader {
    /// The `Last-Event-ID` to (re)connect with; None before anything was seen.
    fn resume_id(&self) -> Option<String>;
    /// Handles one event of the stream.
    fn event(&mut self, event: Event<'_>, tally: &mut Tally<'_>);
    /// The subscriber gave up (too many failed connects): marks its positions dead.
    fn give_up(&self);
}

/// The checks and measurements of one read's events, against each event's position. The
/// shared counters are bumped once per read, not once per event: thousands of tasks on two
/// threads would otherwise fight over their cache lines.
pub struct Tally<'a> {
    stats: &'a Stats,
    /// When this connection attempt started (for the time to `initial`).
    started: Instant,
    /// The clock at this read's first latency sample: one clock read per read.
    now: Option<i64>,
    /// Changes received in this read.
    events: u64,
}

impl Tally<'_> {
    /// An `initial` of the show at `pos`, whose snapshot is at `seq`.
    pub fn initial(&mut self, pos: &Position, seq: i64) {
        if pos.ready.swap(true, Relaxed) {
            self.stats.reinitials.fetch_add(1, Relaxed);
        } else {
            self.stats
                .time_to_initial
                .record(self.started.elapsed().as_micros() as u64);
            self.stats.ready.fetch_add(1, Relaxed);
        }
        pos.last.store(seq, Relaxed);
    }

    /// A change of the show at `pos`: one delivery. Checks that it is the next seq (every
    /// seq after the `initial` once, in order) and records its commit→receive latency.
    pub fn change(&mut self, pos: &Position, seq: i64, data: &[u8]) {
        self.events += 1;
        let last = pos.last.load(Relaxed);
        if seq <= last {
            self.stats.duplicates.fetch_add(1, Relaxed);
            return;
        }
        if seq > last + 1 {
            self.stats.lost.fetch_add((seq - last - 1) as u64, Relaxed);
        }
        pos.last.store(seq, Relaxed);
        if let Some(at) = committed_at_micros(data) {
            let now = *self.now.get_or_insert_with(now_micros);
            self.stats.latency.record((now - at).max(0) as u64);
        }
    }

    /// An event with an id whose show or seq could not be read, or whose show the
    /// subscriber did not ask for.
    pub fn unreadable(&mut self) {
        self.stats.unreadable.fetch_add(1, Relaxed);
    }
}

/// The single-show subscriber: the seq is the event's SSE `id:`.
pub struct Single {
    pub pos: Arc<Position>,
}

impl Reader for Single {
    fn resume_id(&self) -> Option<String> {
        let last = self.pos.last.load(Relaxed);
        (last >= 0).then(|| last.to_string())
    }

    fn event(&mut self, event: Event<'_>, tally: &mut Tally<'_>) {
        let Some(seq) = event
            .id
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.parse::<i64>().ok())
        else {
            return;
        };
        if event.initial {
            tally.initial(&self.pos, seq);
        } else {
            tally.change(&self.pos, seq, event.data);
        }
    }

    fn give_up(&self) {
        self.pos.dead.store(true, Relaxed);
    }
}

/// The multiplexed subscriber: one connection for several shows, a position for each.
/// The SSE id is the stream's vector of positions (kept only to resume with), so the show
/// and seq come from the data: a change's `show_id` and `seq`, an `initial`'s `show.id`
/// and `seq`.
pub struct Many {
    /// The shows asked for, hyphenated lowercase (as the feed writes them), in the list's
    /// order; shared by the clients that follow the same list.
    pub ids: Arc<Vec<String>>,
    /// One per show of `ids`, in the same order.
    pub positions: Vec<Arc<Position>>,
    /// The last SSE id seen: every show's position.
    pub last_id: Vec<u8>,
}

impl Many {
    fn position(&self, show: &[u8]) -> Option<&Position> {
        let i = self.ids.iter().position(|id| id.as_bytes() == show)?;
        Some(&self.positions[i])
    }
}

impl Reader for Many {
    fn resume_id(&self) -> Option<String> {
        (!self.last_id.is_empty()).then(|| String::from_utf8_lossy(&self.last_id).into_owned())
    }

    fn event(&mut self, event: Event<'_>, tally: &mut Tally<'_>) {
        let Some(id) = event.id else { return };
        self.last_id.clear();
        self.last_id.extend_from_slice(id);
        if event.initial {
            match initial_show_seq(event.data) {
                Some((show, seq)) => match self.position(show.as_bytes()) {
                    Some(pos) => tally.initial(pos, seq),
                    None => tally.unreadable(),
                },
                None => tally.unreadable(),
            }
            return;
        }
        match change_show_seq(event.data).and_then(|(show, seq)| Some((self.position(show)?, seq)))
        {
            Some((pos, seq)) => tally.change(pos, seq, event.data),
            None => tally.unreadable(),
        }
    }

    fn give_up(&self) {
        for pos in &self.positions {
            pos.dead.store(true, Relaxed);
        }
    }
}

/// The show and seq of an `initial`'s data (`{"seq": n, "show": {"id": ...}, ...}`), parsed
/// in full: it comes once per show and connection, not per change.
fn initial_show_seq(data: &[u8]) -> Option<(String, i64)> {
    #[derive(serde::Deserialize)]
    struct Initial {
        seq: i64,
        show: Show,
    }
    #[derive(serde::Deserialize)]
    struct Show {
        id: String,
    }
    let initial: Initial = serde_json::from_slice(data).ok()?;
    Some((initial.show.id, initial.seq))
}

/// The show and seq of a change's data, read without parsing it (as `committed_at` is).
/// The feed writes a change as jsonb text, whose keys come shortest first: the change's
/// own `"seq"` (3 letters) is the first in the text, before the nested `"data"` row, and
/// its own `"show_id"` the last, after that row, with only `"committed_at"` (a string)
/// behind it. A string value cannot hold a key pattern (its quotes are escaped).
pub fn change_show_seq(data: &[u8]) -> Option<(&[u8], i64)> {
    let seq = value_after(data, find(data, b"\"seq\"")? + 5)?;
    let end = seq
        + data[seq..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let seq: i64 = std::str::from_utf8(&data[seq..end]).ok()?.parse().ok()?;
    let show = value_after(data, rfind(data, b"\"show_id\"")? + 9)?;
    let show = data[show..].strip_prefix(b"\"")?;
    let len = show.iter().position(|&b| b == b'"')?;
    Some((&show[..len], seq))
}

/// Where the value of a key that ends at `at` starts: past spaces, the colon, spaces.
fn value_after(data: &[u8], at: usize) -> Option<usize> {
    let skip = |from: usize| from + data[from..].iter().take_while(|&&b| b == b' ').count();
    let colon = skip(at);
    (data.get(colon) == Some(&b':')).then(|| skip(colon + 1))
}

/// Where the last `needle` in `hay` starts.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let mut end = hay.len() - needle.len() + 1;
    while let Some(i) = hay[..end].iter().rposition(|&b| b == needle[0]) {
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        end = i;
    }
    None
}

/// Runs one single-show subscriber until `stop`; resumes after a dropped stream (at most 20
/// times).
pub async fn subscribe(
    target: Arc<Target>,
    pos: Arc<Position>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    run(target, Single { pos }, stats, stop).await;
}

/// Runs one multiplexed subscriber of `ids` (one position each, in order) until `stop`,
/// resuming like [`subscribe`] with the last vector id.
pub async fn subscribe_many(
    target: Arc<Target>,
    ids: Arc<Vec<String>>,
    positions: Vec<Arc<Position>>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let reader = Many {
        ids,
        positions,
        last_id: Vec::new(),
    };
    run(target, reader, stats, stop).await;
}

/// Runs `reader`'s stream until `stop`; resumes after a dropped stream (at most 20 times),
/// as a browser's EventSource does.
pub async fn run(
    target: Arc<Target>,
    mut reader: impl Reader,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let mut attempts = 0u32;
    while !stop.is_cancelled() && attempts < 20 {
        let started = Instant::now();
        let result = tokio::select! {
            r = stream_once(&target, &mut reader, &stats, started) => r,
            _ = stop.cancelled() => return,
        };
        attempts += 1;
        match result {
            // The stream ended cleanly (server shutdown or a feed error): resume.
            Ok(()) => {
                stats.reconnects.fetch_add(1, Relaxed);
            }
            Err(_) => {
                stats.failures.fetch_add(1, Relaxed);
            }
        }
        let pause = Duration::from_millis(200 * u64::from(attempts.min(10)));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => return,
        }
    }
    if !stop.is_cancelled() {
        reader.give_up();
    }
}

async fn stream_once(
    target: &Target,
    reader: &mut impl Reader,
    stats: &Stats,
    started: Instant,
) -> std::io::Result<()> {
    let mut stream = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(target.addr))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    stream.set_nodelay(true)?;
    let resume = reader.resume_id();
    let (chunked, head, head_len) = open_stream_after(
        &mut stream,
        &target.path,
        resume.as_deref(),
        Duration::from_secs(60),
    )
    .await?;
    let mut text: Vec<u8> = Vec::new();
    let mut parser = Parser {
        started,
        scanned: 0,
    };
    let mut body = BodyText::new(chunked);
    let mut feed = |input: &[u8], text: &mut Vec<u8>| -> std::io::Result<bool> {
        stats.bytes.fetch_add(input.len() as u64, Relaxed);
        body.feed(input, text)
    };
    let mut done = feed(&head[head_len..], &mut text)?;
    drop(head);
    parser.parse(&mut text, reader, stats);
    let mut buf = vec![0u8; 8192];
    while !done {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        done = feed(&buf[..n], &mut text)?;
        parser.parse(&mut text, reader, stats);
        if text.capacity() > 256 * 1024 && text.is_empty() {
            text = Vec::new();
        }
    }
    Ok(())
}

struct Parser {
    started: Instant,
    /// How far `text` was already searched for an event's end (a large `initial` arrives
    /// in many reads; it is scanned once, not once per read).
    scanned: usize,
}

impl Parser {
    /// Hands every complete event in `text` to `reader` and removes it.
    fn parse(&mut self, text: &mut Vec<u8>, reader: &mut impl Reader, stats: &Stats) {
        let mut tally = Tally {
            stats,
            started: self.started,
            now: None,
            events: 0,
        };
        let mut consumed = 0;
        let mut from = self.scanned.saturating_sub(1);
        while let Some(len) = find(&text[from..], b"\n\n") {
            let block = &text[consumed..from + len];
            consumed = from + len + 2;
            from = consumed;
            let mut event = Event {
                id: None,
                initial: false,
                data: &[],
            };
            for line in block.split(|&b| b == b'\n') {
                if let Some(v) = line.strip_prefix(b"id: ") {
                    event.id = Some(v);
                } else if let Some(v) = line.strip_prefix(b"event: ") {
                    event.initial = v == b"initial";
                } else if let Some(v) = line.strip_prefix(b"data: ") {
                    event.data = v;
                }
            }
            reader.event(event, &mut tally);
        }
        if tally.events > 0 {
            stats.events.fetch_add(tally.events, Relaxed);
        }
        if consumed > 0 {
            text.drain(..consumed);
        }
        self.scanned = text.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_decoded_across_reads() {
        let mut d = Dechunk::default();
        let mut out = Vec::new();
        assert_eq!(d.feed(b"5\r\nhel", &mut out), Ok(false));
        assert_eq!(
            d.feed(b"lo\r\n3;x=1\r\nabc\r\n0\r\n\r\n", &mut out),
            Ok(true)
        );
        assert_eq!(out, b"helloabc");
    }

    const A: &str = "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10";
    const B: &str = "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11";

    /// A change as the feed writes it (jsonb text: keys shortest first), the nested row
    /// holding a `seq`-less copy of `show_id`.
    fn change(show: &str, seq: i64) -> String {
        format!(
            r#"{{"op": "insert", "seq": {seq}, "data": {{"id": "c1", "text": "say \"seq\": 9", "show_id": "{show}"}}, "actor": null, "entity": "comment", "show_id": "{show}", "committed_at": "2026-01-01T00:00:00.000001+00:00"}}"#
        )
    }

    #[test]
    fn a_changes_show_and_seq_are_its_own_not_its_rows() {
        let data = change(B, 41);
        assert_eq!(change_show_seq(data.as_bytes()), Some((B.as_bytes(), 41)));
        assert_eq!(change_show_seq(b"{\"op\": \"insert\"}"), None);
    }

    #[test]
    fn the_multiplexed_reader_checks_every_show_on_its_own() {
        let stats = Stats::new();
        let positions = vec![Position::new(0), Position::new(1)];
        let mut reader = Many {
            ids: Arc::new(vec![A.to_owned(), B.to_owned()]),
            positions: positions.clone(),
            last_id: Vec::new(),
        };
        let initial = |show: &str, seq: i64| {
            format!(
                "id: x.{seq}\nevent: initial\ndata: {{\"seq\" : {seq}, \"show\" : {{\"id\":\"{show}\",\"last_seq\":{seq}}}, \"comments\" : []}}\n\n"
            )
        };
        let delta = |show: &str, seq: i64, id: &str| {
            format!(
                "id: {id}\nevent: comment.created\ndata: {}\n\n",
                change(show, seq)
            )
        };
        let mut text = format!(
            "retry: 3000\n\n{}{}{}{}: keep-alive\n\n{}{}{}",
            initial(A, 5),
            initial(B, 0),
            delta(B, 1, "v1"),
            delta(A, 6, "v2"),
            delta(A, 6, "v3"),
            delta(B, 3, "v4"),
            delta("ffffffff-4f61-4a8e-bb55-5b0d3c1c2f11", 1, "v5"),
        )
        .into_bytes();
        let mut parser = Parser {
            started: Instant::now(),
            scanned: 0,
        };
        parser.parse(&mut text, &mut reader, &stats);
        assert!(text.is_empty());
        assert_eq!(stats.ready.load(Relaxed), 2);
        assert_eq!(positions[0].last.load(Relaxed), 6);
        assert_eq!(positions[1].last.load(Relaxed), 3);
        // A's 6 twice, B's 2 missing; the unknown show's event is not a delivery.
        assert_eq!(stats.events.load(Relaxed), 4);
        assert_eq!(stats.duplicates.load(Relaxed), 1);
        assert_eq!(stats.lost.load(Relaxed), 1);
        assert_eq!(stats.unreadable.load(Relaxed), 1);
        assert_eq!(stats.latency.take().total(), 3);
        assert_eq!(reader.resume_id().as_deref(), Some("v5"));
    }

    #[test]
    fn committed_at_is_read_from_change_json() {
        let data =
            br#"{"op": "insert", "seq": 3, "committed_at": "2026-01-01T00:00:00.000001+00:00"}"#;
        assert_eq!(committed_at_micros(data), Some(1_767_225_600_000_001));
    }
}
