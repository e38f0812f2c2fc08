//! `showfeed serve` (and plain `showfeed`): runs the service until a signal stops it.

use crate::config::Config;
use crate::startup::{raise_fd_limit, Application};

/// Builds the application, prints where it is, and serves until SIGTERM/SIGINT has
/// drained it.
pub async fn run(config: Config) -> anyhow::Result<()> {
    raise_fd_limit();
    let app = Application::build(config).await?;
    app.print_banner().await;
    // On the shutdown token's tracker: `run_until_stopped` waits for the watcher.
    app.shutdown()
        .on_signal(app.state.config.http.shutdown_grace());
    app.run_until_stopped().await
}
