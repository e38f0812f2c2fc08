//! Where an identity provider's token keeps the role and the shows: JSON pointers into
//! its payload (`/app_metadata/role`, `/realm_access/roles`), mapped onto [`TokenClaims`].

use serde_json::Value;
use uuid::Uuid;

use super::claims::{Role, TokenClaims};
use crate::domain::ShowId;

/// The pointers `JWT_ROLE_CLAIM` and `JWT_SHOWS_CLAIM` name; the defaults are our own
/// tokens' claim names, so a token shaped like ours maps unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMap {
    /// JSON pointer to a role name or an array of names (the highest known one wins).
    pub role: String,
    /// JSON pointer to an array of show ids (absent: all shows).
    pub shows: String,
}

impl Default for ClaimMap {
    fn default() -> Self {
        ClaimMap {
            role: "/role".into(),
            shows: "/shows".into(),
        }
    }
}

impl ClaimMap {
    /// The claims of a verified payload, or why they cannot be ours (a message for the 401).
    pub fn map(&self, payload: &Value) -> Result<TokenClaims, String> {
        let sub = payload
            .get("sub")
            .and_then(Value::as_str)
            .ok_or("the token has no sub")?
            .to_owned();
        let exp = payload
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or("the token has no exp")?;
        let role = self.role_of(payload).ok_or_else(|| {
            format!(
                "the token names no showfeed role at {} (viewer, operator, ingest, admin)",
                self.role
            )
        })?;
        let shows = self.shows_of(payload)?;
        Ok(TokenClaims {
            sub,
            exp,
            role,
            shows,
        })
    }

    fn role_of(&self, payload: &Value) -> Option<Role> {
        match payload.pointer(&self.role)? {
            Value::String(name) => Role::parse(name),
            // Unknown names (Keycloak's `offline_access`, ...) are ignored.
            Value::Array(names) => names
                .iter()
                .filter_map(|n| n.as_str().and_then(Role::parse))
                .max(),
            _ => None,
        }
    }

    fn shows_of(&self, payload: &Value) -> Result<Option<Vec<ShowId>>, String> {
        let bad = || format!("the claim at {} is not a list of show ids", self.shows);
        match payload.pointer(&self.shows) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|id| {
                    id.as_str()
                        .and_then(|s| Uuid::parse_str(s).ok())
                        .map(ShowId)
                        .ok_or_else(bad)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(role: &str, shows: &str, payload: Value) -> Result<TokenClaims, String> {
        ClaimMap {
            role: role.into(),
            shows: shows.into(),
        }
        .map(&payload)
    }

    #[test]
    fn a_role_array_picks_the_highest_role_it_names_and_ignores_unknown_ones() {
        let claims = map(
            "/realm_access/roles",
            "/shows",
            json!({"sub": "a", "exp": 9, "realm_access": {"roles": ["offline_access", "viewer", "operator"]}}),
        )
        .unwrap();
        assert_eq!(claims.role, Role::Operator);
    }

    #[test]
    fn a_nested_role_and_a_custom_shows_claim_are_read() {
        let id = Uuid::new_v4();
        let claims = map(
            "/app_metadata/role",
            "/app_metadata/shows",
            json!({"sub": "a", "exp": 9, "app_metadata": {"role": "viewer", "shows": [id.to_string()]}}),
        )
        .unwrap();
        assert_eq!(claims.role, Role::Viewer);
        assert_eq!(claims.shows, Some(vec![ShowId(id)]));
    }

    #[test]
    fn a_token_without_a_known_role_is_refused() {
        assert!(map(
            "/role",
            "/shows",
            json!({"sub": "a", "exp": 9, "role": "authenticated"})
        )
        .is_err());
        assert!(map(
            "/role",
            "/shows",
            json!({"sub": "a", "exp": 9, "shows": [1]})
        )
        .is_err());
    }
}
