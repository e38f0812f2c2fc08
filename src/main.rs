//! The `showfeed` binary: parse the command line, hand over to `startup`.

use showfeed::config::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    showfeed::startup::main(Cli::load()).await
}
