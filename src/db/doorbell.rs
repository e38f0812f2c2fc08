//! The doorbell mode (`showfeed_doorbell`) and the relay lock's holder, for
//! `showfeed doorbell`.

use super::{queries, Db, Result};

/// How changes ring the doorbell; see `migrations/V10__relay_doorbell.sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoorbellMode {
    /// Each writing transaction NOTIFYs (the default).
    Trigger,
    /// Writers ring no doorbell; the elected relay NOTIFYs for batches.
    Relay,
}

impl DoorbellMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DoorbellMode::Trigger => "trigger",
            DoorbellMode::Relay => "relay",
        }
    }

    fn from_db(text: &str) -> Self {
        if text == "relay" {
            DoorbellMode::Relay
        } else {
            DoorbellMode::Trigger
        }
    }
}

/// The session holding the relay lock.
#[derive(Debug, Clone)]
pub struct RelayHolder {
    pub pid: i32,
    pub application_name: String,
    pub client_addr: Option<String>,
    pub backend_start: String,
}

/// The mode, when and by whom it was last set, and the relay's holder if any.
#[derive(Debug, Clone)]
pub struct DoorbellState {
    pub mode: DoorbellMode,
    pub changed_at: String,
    pub changed_by: String,
    pub holder: Option<RelayHolder>,
}

impl Db {
    /// The doorbell mode and the relay's holder.
    pub async fn doorbell(&self, relay_lock: i64) -> Result<DoorbellState> {
        let client = self.client().await?;
        let row = client
            .query_one(queries::DOORBELL_MODE, &[&relay_lock])
            .await?;
        let holder = row.get::<_, Option<i32>>("pid").map(|pid| RelayHolder {
            pid,
            application_name: row.get("application_name"),
            client_addr: row.get("client_addr"),
            backend_start: row.get("backend_start"),
        });
        Ok(DoorbellState {
            mode: DoorbellMode::from_db(row.get("mode")),
            changed_at: row.get("changed_at"),
            changed_by: row.get("changed_by"),
            holder,
        })
    }

    /// Switches the mode in one committed update; returns the mode it replaced. Writers
    /// whose statement starts after the commit follow the new mode.
    pub async fn set_doorbell(&self, mode: DoorbellMode) -> Result<DoorbellMode> {
        let client = self.client().await?;
        let row = client
            .query_one(queries::SET_DOORBELL_MODE, &[&mode.as_str()])
            .await?;
        Ok(DoorbellMode::from_db(row.get(0)))
    }
}
