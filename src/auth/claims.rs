//! What a credential says, whichever way it came (our HS256 token, an identity
//! provider's token, a console session): who, until when, with which role, on which shows.

use serde::{Deserialize, Serialize};

use crate::domain::ShowId;

/// What a token allows, from least to most (ingest stands apart: it may only post comments).
/// The order is the declared one; where several roles are named (an identity provider's
/// roles array) the highest counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Ingest,
    Admin,
}

impl Role {
    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        use Role::*;
        matches!(
            (self, needed),
            (Admin, _) | (Operator, Viewer | Operator) | (Viewer, Viewer) | (Ingest, Ingest)
        )
    }

    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The name `parse` reads (and the serialised form).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Ingest => "ingest",
            Role::Admin => "admin",
        }
    }
}

/// The token's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Who: recorded as the actor of every change made with the token.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    pub role: Role,
    /// Shows the token may see; absent: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows: Option<Vec<ShowId>>,
}

impl TokenClaims {
    pub fn may_see(&self, show: ShowId) -> bool {
        self.shows.as_ref().is_none_or(|s| s.contains(&show))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_see_but_do_not_ingest_and_admins_do_everything() {
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Operator.allows(Role::Ingest));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Ingest.allows(Role::Viewer));
        assert!(Role::Admin.allows(Role::Ingest));
    }

    #[test]
    fn a_role_reads_back_its_name() {
        for role in [Role::Viewer, Role::Operator, Role::Ingest, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
