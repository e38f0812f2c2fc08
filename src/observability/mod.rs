//! Logs and metrics.

pub mod metrics;
pub mod tracing;

pub use metrics::Metrics;
