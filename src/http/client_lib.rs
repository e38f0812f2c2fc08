//! `/client/`: the browser client library (`client/showfeed-client.js`), its TypeScript
//! declarations and the example page, compiled into the binary so a page of any app on
//! this origin can `import("/client/showfeed-client.js")` with no build step and no CDN.
//!
//! Served like the console (`console::serve_static`: its CSP, `nosniff`, `no-cache`, so a
//! new binary's library is never mixed with an old cached one). These routes are static
//! files of the package, not API operations, and are left out of the OpenAPI document.

use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use super::console::serve_static;
use super::AppState;

/// One embedded file: its URL path, media type and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

// `const CLIENT_ASSETS: &[Asset]`: the files build.rs lists in CLIENT_FILES, at `/client/<name>`.
include!(concat!(env!("OUT_DIR"), "/client_assets.rs"));

/// Each file of the client at its path.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new();
    for asset in CLIENT_ASSETS {
        router = router.route(
            asset.path,
            get(move || async move { serve_static(asset.content_type, asset.body) }),
        );
    }
    router
}
