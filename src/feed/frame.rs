//! SSE frames: each change is encoded once into bytes that every subscriber shares.

use bytes::{BufMut, Bytes, BytesMut};

/// One encoded SSE event and the JSON it carries.
#[derive(Debug)]
pub struct Frame {
    /// The show's seq (the SSE id); for `initial`, the snapshot's seq.
    pub seq: i64,
    /// `id: ..\nevent: ..\ndata: ..\n\n`, ready to write.
    pub sse: Bytes,
    /// The `data` JSON alone (a slice of `sse`), for `/changes`.
    pub json: Bytes,
}

impl Frame {
    /// Encodes an event. `json` comes from Postgres's `json`/`jsonb` text output. Valid
    /// JSON holds raw line breaks only between tokens (inside strings they are escaped),
    /// so they are turned into spaces: one `data:` line, and `json` stays valid JSON.
    pub fn new(seq: i64, event: &str, json: &str) -> Frame {
        let mut buf = BytesMut::with_capacity(json.len() + event.len() + 40);
        buf.put_slice(b"id: ");
        buf.put_slice(seq.to_string().as_bytes());
        buf.put_slice(b"\nevent: ");
        buf.put_slice(event.as_bytes());
        buf.put_slice(b"\ndata: ");
        let start = buf.len();
        if json.contains(['\n', '\r']) {
            buf.extend(
                json.bytes()
                    .map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
            );
        } else {
            buf.put_slice(json.as_bytes());
        }
        let end = buf.len();
        buf.put_slice(b"\n\n");
        let sse = buf.freeze();
        let json = sse.slice(start..end);
        Frame { seq, sse, json }
    }

    /// The event without its `id:` line, for a multiplexed stream, which writes its own
    /// id (every show's position) in front: a slice, no copy.
    pub fn without_id(&self) -> Bytes {
        self.sse.slice(self.id_line_len()..)
    }

    fn id_line_len(&self) -> usize {
        self.sse
            .iter()
            .position(|b| *b == b'\n')
            .map_or(0, |at| at + 1)
    }

    /// The event's name (`initial`, `comment.created`, ...), read back from the bytes.
    pub fn event(&self) -> &str {
        let name = self.sse[self.id_line_len()..]
            .strip_prefix(b"event: ")
            .and_then(|r| r.split(|b| *b == b'\n').next())
            .unwrap_or_default();
        // The name was written from a `&str` in `new`.
        std::str::from_utf8(name).unwrap_or_default()
    }
}

/// The first bytes of every stream: how long the browser waits before reconnecting.
pub fn retry_hint(millis: u64) -> Bytes {
    Bytes::from(format!("retry: {millis}\n\n"))
}

/// A comment line that keeps proxies and the browser from timing the stream out.
pub const KEEP_ALIVE: Bytes = Bytes::from_static(b": keep-alive\n\n");

/// Sent when the token's `exp` passes, before the stream is closed.
pub const AUTH_EXPIRED: Bytes =
    Bytes::from_static(b"event: auth.expired\ndata: {\"reason\":\"token expired\"}\n\n");

/// Sent when the console session a stream was opened with has ended (signed out, idle,
/// or past its end), before the stream is closed.
pub const SESSION_ENDED: Bytes =
    Bytes::from_static(b"event: auth.expired\ndata: {\"reason\":\"session ended\"}\n\n");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_carries_id_event_and_data_and_its_json_slice() {
        let f = Frame::new(42, "claim.created", r#"{"a": 1}"#);
        assert_eq!(
            &f.sse[..],
            b"id: 42\nevent: claim.created\ndata: {\"a\": 1}\n\n"
        );
        assert_eq!(&f.json[..], br#"{"a": 1}"#);
        assert_eq!(
            &f.without_id()[..],
            b"event: claim.created\ndata: {\"a\": 1}\n\n"
        );
        assert_eq!(f.event(), "claim.created");
    }

    #[test]
    fn line_breaks_between_json_tokens_stay_on_one_data_line() {
        let f = Frame::new(1, "x", "[1,\n 2]");
        assert_eq!(&f.sse[..], b"id: 1\nevent: x\ndata: [1,  2]\n\n");
        assert_eq!(&f.json[..], b"[1,  2]");
    }
}
