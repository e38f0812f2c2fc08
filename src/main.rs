//! The `showfeed` binary: parse the command line, set up logs, hand over to `cli`.

use showfeed::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::load();
    showfeed::observability::tracing::init(cli.config().log.log_json);
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line with the whole chain of causes, e.g. what to install or set.
            eprintln!("showfeed: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
