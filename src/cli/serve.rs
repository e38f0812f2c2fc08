//! `showfeed serve` (and plain `showfeed`): runs the service until a signal stops it.

use crate::config::Config;
use crate::shutdown;
use crate::startup::{raise_fd_limit, Application};

/// Builds the application, prints where it is, and serves until SIGTERM/SIGINT has
/// drained it.
pub async fn run(config: Config) -> anyhow::Result<()> {
    raise_fd_limit();
    let app = Application::build(config).await?;
    app.print_banner();
    let shutdown = app.shutdown();
    let grace = app.state.config.http.shutdown_grace();
    tokio::spawn(async move {
        shutdown::signal().await;
        tracing::info!(grace_secs = grace.as_secs(), "shutdown requested: draining");
        shutdown.begin(grace);
    });
    app.run_until_stopped().await
}
