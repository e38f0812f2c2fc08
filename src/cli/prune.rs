//! `showfeed prune`: deletes old `show_changes` rows. Resumes from before the cut get a
//! fresh `initial` snapshot instead of a replay.

use anyhow::Context;
use clap::Args;

use crate::config::Config;

/// What `showfeed prune` removes.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Age in days; changes committed earlier are removed.
    #[arg(long)]
    pub older_than_days: u32,
}

/// Removes the changes older than `--older-than-days` and says how many went.
pub async fn run(args: &PruneArgs, config: &Config) -> anyhow::Result<()> {
    let older_than_days = args.older_than_days;
    let (_database, db, _) = super::open_migrated(config).await?;
    let days = i32::try_from(older_than_days).context("--older-than-days is too large")?;
    let n = db
        .prune_changes(days)
        .await
        .context("pruning show_changes")?;
    println!("{n} change(s) older than {older_than_days} day(s) removed");
    Ok(())
}
