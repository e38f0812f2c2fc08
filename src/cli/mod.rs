//! The command line: which command runs, and one module per command with its body.
//!
//! `showfeed [serve]` ([`serve`]), `showfeed migrate` ([`migrate`]), `showfeed token`
//! ([`token`]), `showfeed login-link` ([`login_link`]), `showfeed demo` ([`demo`]), `showfeed prune` ([`prune`]), `showfeed doorbell` ([`doorbell`]). Every command
//! takes the same [`Config`] (flags and environment); the ones with options of their own
//! flatten them in front of it. Errors here are `anyhow`, each with the context an
//! operator needs; `main` prints the chain on one line.

pub mod demo;
pub mod doorbell;
pub mod login_link;
pub mod migrate;
pub mod prune;
pub mod serve;
pub mod token;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::database::Database;
use crate::db::Db;

/// `showfeed [serve]`, `showfeed migrate`, `showfeed token ...`, `showfeed login-link ...`, `showfeed demo`,
/// `showfeed prune`, `showfeed doorbell`.
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
    /// Print a one-time console sign-in link for a person (the URL alone on the last line).
    LoginLink {
        #[command(flatten)]
        link: login_link::LoginLinkArgs,
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
    /// Print the OpenAPI 3.1 document (`showfeed openapi > docs/openapi.json`).
    Openapi,
    /// Delete show_changes rows older than an age (resumes from before it get a fresh snapshot).
    Prune {
        #[command(flatten)]
        prune: prune::PruneArgs,
        #[command(flatten)]
        config: Config,
    },
    /// Print how changes ring the doorbell, or switch it: `relay` (writers' transactions
    /// carry no NOTIFY) or `trigger` (each one does), at runtime.
    Doorbell {
        #[command(flatten)]
        doorbell: doorbell::DoorbellArgs,
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
            None | Some(Command::Openapi) => &self.config,
            Some(
                Command::Serve(config)
                | Command::Migrate(config)
                | Command::Token { config, .. }
                | Command::LoginLink { config, .. }
                | Command::Demo { config, .. }
                | Command::Prune { config, .. }
                | Command::Doorbell { config, .. },
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
        Some(Command::LoginLink { link, config }) => login_link::run(&link, &config).await,
        Some(Command::Demo { demo, config }) => demo::run(demo, &config).await,
        Some(Command::Prune { prune, config }) => prune::run(&prune, &config).await,
        Some(Command::Doorbell { doorbell, config }) => doorbell::run(&doorbell, &config).await,
        Some(Command::Openapi) => {
            // The same bytes `GET /api/openapi.json` serves, built from the router.
            println!("{}", crate::http::openapi::document_json());
            Ok(())
        }
    }
}

/// What a one-shot command (`migrate`, `prune`) needs: the database (kept alive, as it may
/// be the embedded one), a small migrated pool, and how many migrations ran.
async fn open_migrated(config: &Config) -> anyhow::Result<(Database, Db, usize)> {
    let database = Database::open(config)?;
    let (db, applied) = database.connect_migrated(2).await?;
    Ok((database, db, applied))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::CommandFactory;

    use super::Cli;

    /// Every environment variable any command reads, with its default (if any).
    fn env_vars() -> BTreeMap<String, Option<String>> {
        fn walk(cmd: &clap::Command, vars: &mut BTreeMap<String, Option<String>>) {
            for arg in cmd.get_arguments() {
                if let Some(env) = arg.get_env() {
                    let default = arg
                        .get_default_values()
                        .first()
                        .map(|v| v.to_string_lossy().into_owned());
                    vars.insert(env.to_string_lossy().into_owned(), default);
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, vars);
            }
        }
        let mut vars = BTreeMap::new();
        walk(&Cli::command(), &mut vars);
        vars
    }

    /// `.env.example`'s variables: name, the value if the line is not commented out, and
    /// whether a prose comment precedes it in its paragraph.
    fn documented() -> Vec<(String, Option<String>, bool)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example");
        let text = std::fs::read_to_string(path).expect(".env.example is readable");
        let mut found = Vec::new();
        let mut commented = false;
        for line in text.lines().map(str::trim) {
            if line.is_empty() {
                commented = false;
                continue;
            }
            let (active, assignment) = match line.strip_prefix('#') {
                Some(rest) => (false, rest.trim_start()),
                None => (true, line),
            };
            let is_var = assignment.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            });
            match assignment.split_once('=') {
                Some((name, value)) if is_var => {
                    found.push((name.to_owned(), active.then(|| value.to_owned()), commented))
                }
                _ => commented = true,
            }
        }
        found
    }

    #[test]
    fn every_environment_variable_is_in_env_example_with_a_comment() {
        let documented = documented();
        for name in env_vars().keys() {
            let entry = documented.iter().find(|(n, _, _)| n == name);
            assert!(entry.is_some(), "{name} is missing from .env.example");
            assert!(
                entry.is_some_and(|(_, _, commented)| *commented),
                "{name} in .env.example has no comment above it"
            );
        }
    }

    #[test]
    fn the_values_env_example_shows_are_the_defaults() {
        let vars = env_vars();
        for (name, value, _) in documented() {
            let (Some(value), Some(Some(default))) = (value, vars.get(&name)) else {
                continue;
            };
            assert_eq!(&value, default, "{name} in .env.example is not its default");
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
