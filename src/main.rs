//! The `showfeed` binary: parse the command line, hand over to `startup`.

use showfeed::config::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match showfeed::startup::main(Cli::load()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line with the whole chain of causes, e.g. what to install or set.
            eprintln!("showfeed: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
