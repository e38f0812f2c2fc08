//! The access log and `X-Request-Id`: one `info` line per request, target `showfeed::access`.
//!
//! An operator sees 4xx/5xx answers and slow requests without turning on debug. The line
//! names the route *template* (`/api/shows/{id}/comments`), never the raw URI: the query
//! string may carry `?access_token=<jwt>` (browsers' EventSource cannot send headers), and
//! a credential must not reach the log. Each request carries an id: the client's
//! `X-Request-Id` when it is sane, else a fresh uuid v4; it is echoed on the response and
//! set on the request, so handlers (the stream's open and close lines) can log it too.
//!
//! For the SSE stream the line is written when the response starts (status 200, bytes
//! unknown); the stream's own close line (`http::stream`) tells its duration and frames.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

/// The header that carries a request's id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-given request id that is kept; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// What the access line names when no route matched (the raw path is not logged).
const NO_ROUTE: &str = "(no route)";

/// The middleware: assigns the request id, runs the request, echoes the id and logs the
/// line. Added with `Router::layer` as the outermost layer: it runs once the route is
/// matched (so `MatchedPath` is set; the fallback has none) and sees the final status.
pub async fn access_log(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id(req.headers().get(&REQUEST_ID));
    req.headers_mut().insert(REQUEST_ID, request_id.clone());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());

    let mut response = next.run(req).await;

    response
        .headers_mut()
        .insert(REQUEST_ID, request_id.clone());
    let bytes = response.body().size_hint().exact();
    tracing::info!(
        target: "showfeed::access",
        method = %method,
        route = route.as_deref().unwrap_or(NO_ROUTE),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        bytes,
        request_id = request_id.to_str().unwrap_or_default(),
        "request"
    );
    response
}

/// The client's id when sane (1 to 128 visible ASCII characters), else a new uuid v4.
fn request_id(given: Option<&HeaderValue>) -> HeaderValue {
    given
        .filter(|v| is_sane(v.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .expect("a uuid is a valid header value")
        })
}

fn is_sane(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_client_id_is_kept() {
        let given = HeaderValue::from_static("abc-123_XYZ.~");
        assert_eq!(request_id(Some(&given)), given);
    }

    #[test]
    fn a_missing_empty_long_or_spaced_id_is_replaced_by_a_uuid() {
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        let cases = [
            None,
            Some(HeaderValue::from_static("")),
            Some(HeaderValue::from_str(&long).unwrap()),
            Some(HeaderValue::from_static("has space")),
        ];
        for given in cases {
            let id = request_id(given.as_ref());
            assert!(
                uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok(),
                "{given:?} -> {id:?}"
            );
        }
    }

    #[test]
    fn an_id_of_exactly_the_limit_is_kept() {
        let id = "b".repeat(MAX_REQUEST_ID_LEN);
        assert!(is_sane(id.as_bytes()));
    }
}
