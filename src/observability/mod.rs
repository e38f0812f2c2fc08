//! Logs and metrics.

pub mod metrics;
pub mod tracing;

pub use metrics::Metrics;

/// `e` and each of its sources, joined with ": " (a library's own message is often only
/// "error sending request" or "db error"; the cause says refused, TLS, DNS, SQLSTATE).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // `#[error(transparent)]` and wrappers may repeat their source's text.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
