//! A lean SSE subscriber over a raw TCP socket: one HTTP/1.1 request, a chunked-body
//! decoder, and an event parser that reads only `id:`, `event:` and the data's
//! `"committed_at"`, so that ten thousand of them fit on a core shared with the server.
//!
//! Each subscriber checks its own sequence (every seq exactly once, in order) and, like a
//! browser's EventSource, resumes with `Last-Event-ID` if the stream ends.

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
    /// Subscribers that got their first `initial` (or first poll answer).
    pub ready: AtomicU64,
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

/// Reads an HTTP response head from `stream` into `buf`; returns (status, chunked, head
/// length). `buf` keeps whatever body bytes came with the head.
/// Sends the stream request for `path` (with `Last-Event-ID: last` when `last` is a
/// position, i.e. not negative) and reads the answer's head within `limit`. Gives whether
/// the body is chunked, the bytes read so far, and where the head ends in them; any
/// status but 200 is an error.
pub async fn open_stream(
    stream: &mut TcpStream,
    path: &str,
    last: i64,
    limit: Duration,
) -> std::io::Result<(bool, Vec<u8>, usize)> {
    let resume = if last >= 0 {
        format!("Last-Event-ID: {last}\r\n")
    } else {
        String::new()
    };
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
    /// `/api/shows/{id}/stream?access_token=...`
    pub path: String,
}

/// Runs one subscriber until `stop`; resumes after a dropped stream (at most 20 times).
pub async fn subscribe(
    target: Arc<Target>,
    pos: Arc<Position>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let mut attempts = 0u32;
    while !stop.is_cancelled() && attempts < 20 {
        let started = Instant::now();
        let result = tokio::select! {
            r = stream_once(&target, &pos, &stats, started) => r,
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
        pos.dead.store(true, Relaxed);
    }
}

async fn stream_once(
    target: &Target,
    pos: &Position,
    stats: &Stats,
    started: Instant,
) -> std::io::Result<()> {
    let mut stream = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(target.addr))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    stream.set_nodelay(true)?;
    let (chunked, head, head_len) = open_stream(
        &mut stream,
        &target.path,
        pos.last.load(Relaxed),
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
    parser.parse(&mut text, pos, stats);
    let mut buf = vec![0u8; 8192];
    while !done {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        done = feed(&buf[..n], &mut text)?;
        parser.parse(&mut text, pos, stats);
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
    /// Handles every complete event in `text` and removes it.
    fn parse(&mut self, text: &mut Vec<u8>, pos: &Position, stats: &Stats) {
        let mut consumed = 0;
        let mut now: Option<i64> = None;
        // Shared counters are bumped once per read, not once per event: thousands of
        // tasks on two threads would otherwise fight over their cache lines.
        let mut events = 0;
        let mut from = self.scanned.saturating_sub(1);
        while let Some(len) = find(&text[from..], b"\n\n") {
            let block = &text[consumed..from + len];
            consumed = from + len + 2;
            from = consumed;
            let mut id = None;
            let mut initial = false;
            let mut data: &[u8] = &[];
            for line in block.split(|&b| b == b'\n') {
                if let Some(v) = line.strip_prefix(b"id: ") {
                    id = std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok());
                } else if let Some(v) = line.strip_prefix(b"event: ") {
                    initial = v == b"initial";
                } else if let Some(v) = line.strip_prefix(b"data: ") {
                    data = v;
                }
            }
            let Some(seq) = id else { continue };
            if initial {
                if pos.ready.swap(true, Relaxed) {
                    stats.reinitials.fetch_add(1, Relaxed);
                } else {
                    stats
                        .time_to_initial
                        .record(self.started.elapsed().as_micros() as u64);
                    stats.ready.fetch_add(1, Relaxed);
                }
                pos.last.store(seq, Relaxed);
                continue;
            }
            events += 1;
            let last = pos.last.load(Relaxed);
            if seq <= last {
                stats.duplicates.fetch_add(1, Relaxed);
                continue;
            }
            if seq > last + 1 {
                stats.lost.fetch_add((seq - last - 1) as u64, Relaxed);
            }
            pos.last.store(seq, Relaxed);
            if let Some(at) = committed_at_micros(data) {
                let now = *now.get_or_insert_with(now_micros);
                stats.latency.record((now - at).max(0) as u64);
            }
        }
        if events > 0 {
            stats.events.fetch_add(events, Relaxed);
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

    #[test]
    fn committed_at_is_read_from_change_json() {
        let data =
            br#"{"op": "insert", "seq": 3, "committed_at": "2026-01-01T00:00:00.000001+00:00"}"#;
        assert_eq!(committed_at_micros(data), Some(1_767_225_600_000_001));
    }
}
