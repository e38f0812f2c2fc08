//! `showfeed doorbell [relay|trigger]`: prints how changes ring the doorbell (and which
//! session is the relay), or switches it, at runtime, in one committed update. No node
//! restarts: writers follow the new mode from their next statement, and the relay rings
//! for every row written without a doorbell whenever it commits, in either mode.

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::db::doorbell::{DoorbellMode, DoorbellState};
use crate::feed::relay::RELAY_LOCK;

/// What `showfeed doorbell` sets; without a mode it only prints.
#[derive(Debug, Clone, Args)]
pub struct DoorbellArgs {
    /// The mode to switch to.
    #[arg(value_enum)]
    pub mode: Option<DoorbellMode>,
}

/// Prints the mode, switching it first when one is given.
pub async fn run(args: &DoorbellArgs, config: &Config) -> anyhow::Result<()> {
    let (_database, db, _) = super::open_migrated(config).await?;
    if let Some(mode) = args.mode {
        let old = db
            .set_doorbell(mode)
            .await
            .context("switching the doorbell mode")?;
        println!("doorbell: {} (was {})", mode.as_str(), old.as_str());
    }
    let state = db
        .doorbell(RELAY_LOCK)
        .await
        .context("reading the doorbell mode")?;
    print_state(&state);
    Ok(())
}

fn print_state(state: &DoorbellState) {
    println!(
        "mode: {} (set {} by {})",
        state.mode.as_str(),
        state.changed_at,
        state.changed_by
    );
    match &state.holder {
        Some(h) => println!(
            "relay: held by pid {} ({}) from {} since {}",
            h.pid,
            h.application_name,
            h.client_addr.as_deref().unwrap_or("a local socket"),
            h.backend_start
        ),
        None if state.mode == DoorbellMode::Relay => println!(
            "relay: no node holds it: relay-mode changes wait for one (start a node with RELAY=true)"
        ),
        None => println!("relay: no node holds it"),
    }
}
