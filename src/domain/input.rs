//! Checks on what clients send, before it reaches the database: a clear 4xx instead of a
//! constraint error (and Postgres text cannot hold a NUL byte at all).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Why an input was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks a text field: no NUL byte, length within `min..=max` characters.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    if value.contains('\0') {
        return Err(Invalid(format!("{field} must not contain a NUL byte")));
    }
    let len = value.chars().count();
    if len < min {
        return Err(Invalid(format!("{field} must not be empty")));
    }
    if len > max {
        return Err(Invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

/// Longest comment text accepted (characters).
pub const MAX_COMMENT_TEXT: usize = 200_000;

/// A comment as the platform connector posts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The platform's id: re-posting the same one is a no-op.
    pub external_id: String,
    pub author_id: String,
    #[serde(default)]
    pub author_name: String,
    pub text: String,
    /// Platform time; defaults to now.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl NewComment {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("external_id", &self.external_id, 1, 200)?;
        check_text("author_id", &self.author_id, 1, 200)?;
        check_text("author_name", &self.author_name, 0, 200)?;
        check_text("text", &self.text, 0, MAX_COMMENT_TEXT)
    }
}

/// `POST /api/shows`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShow {
    pub title: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// `PATCH /api/shows/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Checks a show status a client asked for.
pub fn check_show_status(status: &str, allowed: &[&str]) -> Result<(), Invalid> {
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "status must be one of {}, not {status:?}",
            allowed.join(", ")
        )))
    }
}

/// `PUT /api/shows/{id}/items/{n}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub price_cents: i64,
    #[serde(default = "one")]
    pub quantity: i32,
}

fn one() -> i32 {
    1
}

impl ItemInput {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("title", &self.title, 0, 500)?;
        if self.price_cents < 0 {
            return Err(Invalid("price_cents must not be negative".into()));
        }
        if !(0..=1_000_000).contains(&self.quantity) {
            return Err(Invalid("quantity must be between 0 and 1000000".into()));
        }
        Ok(())
    }
}

/// `PATCH /api/claims/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimPatch {
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_is_refused_with_the_field_name() {
        let err = check_text("text", "a\0b", 0, 10).unwrap_err();
        assert!(err.0.contains("text") && err.0.contains("NUL"));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check_text("t", "ééé", 0, 3).is_ok());
        assert!(check_text("t", "éééé", 0, 3).is_err());
        assert!(check_text("t", "", 1, 3).is_err());
    }
}
