//! The command line: which command runs, and one module per command with its body.
//!
//! `showfeed [serve]` ([`serve`]), `showfeed migrate` ([`migrate`]), `showfeed token`
//! ([`token`]), `showfeed demo` ([`demo`]), `showfeed prune` ([`prune`]). Every command
//! takes the same [`Config`] (flags and environment); the ones with options of their own
//! flatten them in front of it. Errors here are `anyhow`, each with the context an
//! operator needs; `main` prints the chain on one line.

pub mod demo;
pub mod migrate;
pub mod prune;
pub mod serve;
pub mod token;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::database::Database;
use crate::db::Db;

/// `showfeed [serve]`, `showfeed migrate`, `showfeed token ...`, `showfeed demo`,
/// `showfeed prune`.
#[derive(Debug, Parser)]
#[command(
    name = "showfeed",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings for `serve`, the default command.
    #[command(flatten)]
    pub config: Config,
}

/// The subcommands; each carries its own copy of the settings.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Config),
    /// Apply database migrations and exit.
    Migrate(Config),
    /// Mint a JWT for an operator, a connector or a test.
    Token {
        #[command(flatten)]
        token: token::TokenArgs,
        #[command(flatten)]
        config: Config,
    },
    /// Create a live show on a running service and simulate buyers commenting on it.
    Demo {
        #[command(flatten)]
        demo: demo::DemoArgs,
        #[command(flatten)]
        config: Config,
    },
    /// Delete show_changes rows older than an age (resumes from before it get a fresh snapshot).
    Prune {
        #[command(flatten)]
        prune: prune::PruneArgs,
        #[command(flatten)]
        config: Config,
    },
}

impl Cli {
    /// Reads `.env` (if any) and the command line.
    pub fn load() -> Self {
        let _ = dotenvy::dotenv();
        Cli::parse()
    }

    /// The settings of the command that will run.
    pub fn config(&self) -> &Config {
        match &self.command {
            None => &self.config,
            Some(
                Command::Serve(config)
                | Command::Migrate(config)
                | Command::Token { config, .. }
                | Command::Demo { config, .. }
                | Command::Prune { config, .. },
            ) => config,
        }
    }
}

/// Runs the command the command line names (`serve` when it names none).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve::run(cli.config).await,
        Some(Command::Serve(config)) => serve::run(config).await,
        Some(Command::Migrate(config)) => migrate::run(&config).await,
        Some(Command::Token { token, config }) => token::run(&token, &config),
        Some(Command::Demo { demo, config }) => demo::run(demo, &config).await,
        Some(Command::Prune { prune, config }) => prune::run(&prune, &config).await,
    }
}

/// What a one-shot command (`migrate`, `prune`) needs: the database (kept alive, as it may
/// be the embedded one), a small migrated pool, and how many migrations ran.
async fn open_migrated(config: &Config) -> anyhow::Result<(Database, Db, usize)> {
    let database = Database::open(config)?;
    let (db, applied) = database.connect_migrated(2).await?;
    Ok((database, db, applied))
}
