//! The baseline the product replaces: a client that polls `GET /changes?after=` once a
//! second over a keep-alive HTTP/1.1 connection, with the same checks as the SSE client.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::sse::{
    committed_at_micros, find, now_micros, read_head, Dechunk, Position, Stats, Target,
};

/// Polls `target` (a `/changes` path with `access_token`, without `after`) every
/// `period`, starting after `offset`, until `stop`.
pub async fn poll(
    target: Arc<Target>,
    pos: Arc<Position>,
    stats: Arc<Stats>,
    period: Duration,
    offset: Duration,
    stop: CancellationToken,
) {
    let mut next = tokio::time::Instant::now() + offset;
    let mut conn: Option<TcpStream> = None;
    let mut failures = 0;
    while !stop.is_cancelled() && failures < 20 {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.cancelled() => return,
        }
        next += period;
        // Drain everything that is there, as a polling client does ("more": true).
        loop {
            let result = tokio::select! {
                r = poll_once(&target, &pos, &stats, &mut conn) => r,
                _ = stop.cancelled() => return,
            };
            match result {
                Ok(true) => continue,
                Ok(false) => break,
                Err(_) => {
                    conn = None;
                    failures += 1;
                    stats.failures.fetch_add(1, Relaxed);
                    break;
                }
            }
        }
        let now = tokio::time::Instant::now();
        if next < now {
            // Fell behind: skip missed ticks rather than bursting.
            next = now + period;
        }
    }
}

/// One request; Ok(true) when the server says there is more.
async fn poll_once(
    target: &Target,
    pos: &Position,
    stats: &Stats,
    conn: &mut Option<TcpStream>,
) -> std::io::Result<bool> {
    if conn.is_none() {
        let s = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(target.addr))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        s.set_nodelay(true)?;
        *conn = Some(s);
    }
    let stream = conn.as_mut().expect("connected above");
    let after = pos.last.load(Relaxed);
    let started = Instant::now();
    let request = format!(
        "GET {}&after={after} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        target.path
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(4096);
    let (status, chunked, length, head_len) =
        tokio::time::timeout(Duration::from_secs(30), read_head(stream, &mut buf))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let mut body = Vec::new();
    let mut tmp = vec![0u8; 16384];
    if chunked {
        let mut d = Dechunk::default();
        let mut done = d
            .feed(&buf[head_len..], &mut body)
            .map_err(|_| std::io::Error::other("bad chunk"))?;
        while !done {
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done = d
                .feed(&tmp[..n], &mut body)
                .map_err(|_| std::io::Error::other("bad chunk"))?;
        }
    } else {
        let length = length.ok_or_else(|| std::io::Error::other("no content-length"))?;
        body.extend_from_slice(&buf[head_len..]);
        while body.len() < length {
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            body.extend_from_slice(&tmp[..n]);
        }
    }
    stats.bytes.fetch_add(body.len() as u64, Relaxed);
    if status != 200 {
        return Err(std::io::Error::other(format!("status {status}")));
    }
    let now = now_micros();
    if !pos.ready.swap(true, Relaxed) {
        stats
            .time_to_initial
            .record(started.elapsed().as_micros() as u64);
        stats.ready.fetch_add(1, Relaxed);
    }
    // {"seq":S,"more":B,"initial":null|{...},"changes":[{...},...]}
    let more = find(&body, b"\"more\":true").is_some_and(|i| i < 64);
    let changes_at = find(&body, b",\"changes\":[").unwrap_or(body.len());
    if let Some(i) = find(&body[..changes_at.min(100)], b"\"initial\":") {
        let initial = &body[i + 10..];
        if !initial.starts_with(b"null") {
            // A fresh initial (the position could not be replayed): changes follow its seq.
            stats.reinitials.fetch_add(1, Relaxed);
            if let Some(seq) = next_seq(&mut &initial[..initial.len().min(40)]) {
                pos.last.store(seq, Relaxed);
            }
        }
    }
    let mut rest = &body[changes_at..];
    while let Some(seq) = next_seq(&mut rest) {
        stats.events.fetch_add(1, Relaxed);
        let last = pos.last.load(Relaxed);
        if seq <= last {
            stats.duplicates.fetch_add(1, Relaxed);
        } else {
            if seq > last + 1 {
                stats.lost.fetch_add((seq - last - 1) as u64, Relaxed);
            }
            pos.last.store(seq, Relaxed);
        }
        if let Some(at) = committed_at_micros(rest) {
            stats.latency.record((now - at).max(0) as u64);
        }
    }
    Ok(more)
}

/// The next change's `"seq": n` in `rest`; advances `rest` past it.
fn next_seq(rest: &mut &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"seq\": ";
    let at = find(rest, KEY)? + KEY.len();
    let digits = rest[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let seq = std::str::from_utf8(&rest[at..at + digits])
        .ok()?
        .parse()
        .ok();
    *rest = &rest[at + digits..];
    seq
}
