//! The operator console: static files compiled into the binary and served at `/`.
//!
//! No build step and no second server: the page is plain JavaScript modules and CSS,
//! embedded with `include_str!`, so the binary alone serves it. Every response carries a
//! strict Content-Security-Policy: comment text and buyer names come from strangers, and
//! even if some rendering bug ever put one into markup, the browser would run no inline
//! or foreign script. The page keeps to that policy (no inline scripts, styles or
//! handlers).

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

/// The console's policy: only this origin's scripts, styles and connections; no plugins,
/// no `<base>` rewriting, no framing (clickjacking of the release buttons).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; \
base-uri 'none'; frame-ancestors 'none'";

/// One embedded file: its path, media type and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything the page loads. `/` is `index.html`.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("index.html"),
    },
    Asset {
        path: "/console.js",
        content_type: JS,
        body: include_str!("console.js"),
    },
    Asset {
        path: "/feed.js",
        content_type: JS,
        body: include_str!("feed.js"),
    },
    Asset {
        path: "/state.js",
        content_type: JS,
        body: include_str!("state.js"),
    },
    Asset {
        path: "/dom.js",
        content_type: JS,
        body: include_str!("dom.js"),
    },
    Asset {
        path: "/console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("console.css"),
    },
    Asset {
        path: "/favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("favicon.svg"),
    },
];

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new().route("/index.html", get(|| async { serve(&ASSETS[0]) }));
    for asset in ASSETS {
        router = router.route(asset.path, get(move || async move { serve(asset) }));
    }
    router
}

fn serve(asset: &'static Asset) -> Response {
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    // Revalidate every load: a new binary's console must not run against an old cached
    // module (they import each other, and a mix would break).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
