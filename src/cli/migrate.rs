//! `showfeed migrate`: applies pending migrations and exits (`serve` also does this at
//! start; this is for deploys that migrate in a separate step).

use crate::config::Config;

/// Opens the database (which migrates it) and says how many migrations ran.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let (_database, _db, applied) = super::open_migrated(config).await?;
    println!("{applied} migration(s) applied");
    Ok(())
}
