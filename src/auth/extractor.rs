//! The `Auth` extractor: the checked token of a request.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::jwt::{Keys, Role, TokenClaims};
use crate::domain::ShowId;

/// A request's verified token. Taken from `Authorization: Bearer`, or from the
/// `access_token` query parameter (browsers' EventSource cannot set headers).
#[derive(Debug, Clone)]
pub struct Auth(pub TokenClaims);

/// Why a request is refused: 401 without a valid token, 403 with one that lacks the right
/// (the statuses are `http::error`'s, like every other error's).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("this token's role may not do that")]
    Role,
    #[error("this token may not see that show")]
    Show,
}

impl Auth {
    pub fn sub(&self) -> &str {
        &self.0.sub
    }

    /// 403 unless the token's role includes `role`.
    pub fn require(&self, role: Role) -> Result<(), AuthError> {
        if self.0.role.allows(role) {
            Ok(())
        } else {
            Err(AuthError::Role)
        }
    }

    /// The shows the token is limited to; `None`: all.
    pub fn shows(&self) -> Option<&[ShowId]> {
        self.0.shows.as_deref()
    }

    /// 403 unless the role includes `role` and the token may see `show`.
    pub fn require_show(&self, role: Role, show: ShowId) -> Result<(), AuthError> {
        self.require(role)?;
        if self.0.may_see(show) {
            Ok(())
        } else {
            Err(AuthError::Show)
        }
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    let query = parts.uri.query()?;
    url_param(query, "access_token")
}

/// One query parameter's value (tokens are URL-safe base64, so no decoding is needed
/// beyond what EventSource URLs carry).
pub fn url_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

impl<S> FromRequestParts<S> for Auth
where
    Keys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(AuthError::Missing)?;
        let keys = Keys::from_ref(state);
        let claims = keys
            .verify(&token)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(Auth(claims))
    }
}
