//! Id newtypes, so a claim id is never passed where a show id belongs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of a show (`shows.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShowId(pub Uuid);

impl std::fmt::Display for ShowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ShowId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(ShowId)
    }
}
