//! Cross-site request forgery checks for requests authenticated by the session cookie.
//!
//! A browser attaches the cookie to requests another site makes it send (a form post, an
//! `<img>`, a `fetch` with `credentials: "include"`); `SameSite=Strict` already keeps it off
//! cross-site requests in current browsers, and these checks hold even where it does not.
//! A state-changing request (anything but GET, HEAD, OPTIONS) with the cookie must
//!
//! 1. come from this origin: `Origin` equal to the origin the request was sent to (scheme
//!    and host; the proxy's `X-Forwarded-Proto` / `X-Forwarded-Host` with
//!    `TRUSTED_PROXY`), or, when a browser sent no `Origin`, `Sec-Fetch-Site: same-origin`;
//! 2. carry `X-Showfeed-CSRF: 1`. A form cannot set a header, and a cross-origin `fetch`
//!    that sets one needs a CORS preflight, which this server never grants.
//!
//! Bearer-authenticated requests are not checked: a browser never adds an `Authorization`
//! header on its own, so another site cannot make it send one.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};

/// The header the console (and the client library in cookie mode) sends on every request.
pub const HEADER: &str = "x-showfeed-csrf";

/// Why a cookie-authenticated write was refused (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("cross-site request refused: Origin {0:?} is not this server's origin")]
    CrossOrigin(String),
    #[error("cross-site request refused: no Origin header and no Sec-Fetch-Site: same-origin")]
    NoOrigin,
    #[error("cross-site request refused: a cookie-authenticated write needs the header X-Showfeed-CSRF: 1")]
    NoHeader,
}

/// Whether a request with this method can change something (and so needs the checks).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The checks above, for a request that is authenticated (or about to be) by the cookie.
pub fn check(parts: &Parts, trusted_proxy: bool) -> Result<(), CsrfError> {
    same_origin(&parts.headers, trusted_proxy)?;
    match parts.headers.get(HEADER) {
        Some(v) if v.as_bytes() == b"1" => Ok(()),
        _ => Err(CsrfError::NoHeader),
    }
}

fn same_origin(headers: &HeaderMap, trusted_proxy: bool) -> Result<(), CsrfError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        let site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
        return match site {
            Some(b"same-origin") => Ok(()),
            _ => Err(CsrfError::NoOrigin),
        };
    };
    let origin = origin.to_str().unwrap_or("(not text)");
    match own_origin(headers, trusted_proxy) {
        Some(own) if own.eq_ignore_ascii_case(origin) => Ok(()),
        _ => Err(CsrfError::CrossOrigin(origin.chars().take(200).collect())),
    }
}

/// The origin the client addressed: `http://` + `Host` (the server does not terminate TLS
/// itself), or the trusted proxy's scheme and host.
pub fn own_origin(headers: &HeaderMap, trusted_proxy: bool) -> Option<String> {
    let forwarded = |name: &str| {
        trusted_proxy
            .then(|| headers.get(name)?.to_str().ok())
            .flatten()
            // A proxy chain appends: the first value is what the client used.
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
    let host = match forwarded("x-forwarded-host") {
        Some(host) => host,
        None => headers.get(header::HOST)?.to_str().ok()?,
    };
    Some(format!("{scheme}://{host}"))
}

/// Whether the client reached us over HTTPS (through a trusted proxy that says so): the
/// session cookie is then `Secure`.
pub fn is_https(headers: &HeaderMap, trusted_proxy: bool) -> bool {
    own_origin(headers, trusted_proxy).is_some_and(|o| o.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = Request::builder().method(method).uri("/api/shows");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_same_origin_request_with_the_header_passes() {
        let p = parts(
            "POST",
            &[
                ("host", "a.test:8080"),
                ("origin", "http://a.test:8080"),
                (HEADER, "1"),
            ],
        );
        assert_eq!(check(&p, false), Ok(()));
    }

    #[test]
    fn another_origin_or_a_missing_header_is_refused() {
        let p = parts(
            "POST",
            &[
                ("host", "a.test"),
                ("origin", "http://evil.test"),
                (HEADER, "1"),
            ],
        );
        assert!(matches!(check(&p, false), Err(CsrfError::CrossOrigin(_))));
        let p = parts("POST", &[("host", "a.test"), ("origin", "http://a.test")]);
        assert_eq!(check(&p, false), Err(CsrfError::NoHeader));
        let p = parts("POST", &[("host", "a.test"), (HEADER, "1")]);
        assert_eq!(check(&p, false), Err(CsrfError::NoOrigin));
        let p = parts(
            "POST",
            &[
                ("host", "a.test"),
                ("sec-fetch-site", "same-origin"),
                (HEADER, "1"),
            ],
        );
        assert_eq!(check(&p, false), Ok(()));
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let headers = [
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "console.example.com"),
            ("origin", "https://console.example.com"),
            (HEADER, "1"),
        ];
        let p = parts("DELETE", &headers);
        assert_eq!(check(&p, true), Ok(()));
        assert!(check(&p, false).is_err());
        assert!(is_https(&p.headers, true));
        assert!(!is_https(&p.headers, false));
    }
}
