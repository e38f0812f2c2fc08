//! hyper's own answers to requests it cannot parse, recognised on the wire and replaced by
//! answers in the contract's error shape.
//!
//! When a request head is malformed (400), too large (431) or has a too-long URI (414),
//! hyper answers by itself, without calling the router: a bare status line, `connection:
//! close`, `content-length: 0`, a date. It has no hook for a body, so [`super::socket`]
//! looks at what hyper writes while no request is being answered, and when it is exactly
//! such a head, writes [`render`]'s answer instead.

use std::fmt::Write as _;

/// A parse failure hyper answered by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Malformed request line or header (400).
    Malformed,
    /// The request line alone outgrew the head limit, or hyper's URI limit (414).
    UriTooLong,
    /// The headers outgrew the head limit (431).
    HeadTooLarge,
}

impl ParseError {
    pub fn status(self) -> u16 {
        match self {
            ParseError::Malformed => 400,
            ParseError::UriTooLong => 414,
            ParseError::HeadTooLarge => 431,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            ParseError::Malformed => "Bad Request",
            ParseError::UriTooLong => "URI Too Long",
            ParseError::HeadTooLarge => "Request Header Fields Too Large",
        }
    }

    fn code_and_message(self) -> (&'static str, &'static str) {
        match self {
            ParseError::Malformed => ("bad_request", "the request line or a header is malformed"),
            ParseError::UriTooLong => ("uri_too_long", "the request URI is too long"),
            ParseError::HeadTooLarge => (
                "headers_too_large",
                "the request headers are larger than this server accepts",
            ),
        }
    }
}

/// The parse failure `written` answers, if it is exactly hyper's automatic answer.
///
/// `request_line_done` says whether a line end was read since the last answer. hyper
/// calls every head that fills its buffer "too large" (431), also when the request line
/// itself never ended: that is a too-long URI, 414.
pub fn recognise(written: &[u8], request_line_done: bool) -> Option<ParseError> {
    let rest = written.strip_prefix(b"HTTP/1.1 ")?;
    let error = match rest.get(..4)? {
        b"400 " => ParseError::Malformed,
        b"414 " => ParseError::UriTooLong,
        b"431 " if request_line_done => ParseError::HeadTooLarge,
        b"431 " => ParseError::UriTooLong,
        _ => return None,
    };
    // Bare CR LF never occurs inside our JSON or SSE bodies, so a write that is one whole
    // head with an empty body cannot be the middle of a response we are sending.
    let is_bare_head = written.ends_with(b"\r\n\r\n")
        && find(written, b"\r\ncontent-length: 0\r\n")
        && find(written, b"\r\nconnection: close\r\n")
        && !find(&written[..written.len() - 4], b"\r\n\r\n");
    is_bare_head.then_some(error)
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The whole answer (head and JSON body) written in place of hyper's.
pub fn render(error: ParseError) -> Vec<u8> {
    let (code, message) = error.code_and_message();
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let mut head = String::with_capacity(160 + body.len());
    // Writing into a String cannot fail.
    let _ = write!(
        head,
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        error.status(),
        error.reason(),
        body.len(),
    );
    head.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
        content-length: 0\r\ndate: Thu, 03 Dec 2026 07:39:03 GMT\r\n\r\n";

    #[test]
    fn hypers_answers_are_recognised_and_a_431_without_a_line_end_is_a_414() {
        assert_eq!(recognise(HYPER_431, true), Some(ParseError::HeadTooLarge));
        assert_eq!(recognise(HYPER_431, false), Some(ParseError::UriTooLong));
        let bad = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\
            date: Thu, 03 Dec 2026 07:39:03 GMT\r\n\r\n";
        assert_eq!(recognise(bad, true), Some(ParseError::Malformed));
    }

    #[test]
    fn our_own_answers_and_body_bytes_are_left_alone() {
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
            content-length: 20\r\n\r\n";
        assert_eq!(recognise(ours, true), None);
        assert_eq!(recognise(b"data: HTTP/1.1 431 \r\n\r\n", true), None);
        assert_eq!(recognise(&render(ParseError::HeadTooLarge), true), None);
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(recognise(ok, true), None);
    }

    #[test]
    fn the_replacement_is_a_json_error_with_a_right_length() {
        let answer = String::from_utf8(render(ParseError::UriTooLong)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "uri_too_long");
    }
}
