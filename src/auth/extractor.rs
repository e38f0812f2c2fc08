//! The `Auth` extractor: the checked token or console session of a request.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::claims::{Role, TokenClaims};
use super::csrf::{self, CsrfError};
use super::jwt::Keys;
use super::session::{self, Secret, Session, Sessions};
use crate::domain::ShowId;

/// A request's verified credential. Taken from `Authorization: Bearer`, or from the
/// `access_token` query parameter (browsers' EventSource cannot set headers), or else
/// from the console's session cookie (`showfeed_session`, see [`super::session`]). A
/// session reads as the claims of a token that expires at the session's absolute end.
#[derive(Debug, Clone)]
pub struct Auth(pub TokenClaims, pub Via);

/// How the request proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    /// A bearer token (header or query).
    Token,
    /// The session cookie; the id lets a stream check later that the session still exists.
    Session(Secret),
}

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
    #[error("{0}")]
    Csrf(#[from] CsrfError),
    #[error("the session store cannot be reached; try again")]
    Unavailable,
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

/// The value of the session cookie, if the request has one (every `Cookie` header is
/// read; the first cookie of that name counts).
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == session::COOKIE).then_some(value.trim_matches('"'))
        })
}

/// The session id the request's cookie names: Missing without a cookie, Invalid for one
/// this server could not have set (refused before any query).
pub fn session_id(parts: &Parts) -> Result<Secret, AuthError> {
    let value = session_cookie(parts).ok_or(AuthError::Missing)?;
    Secret::parse(value)
        .ok_or_else(|| AuthError::Invalid("the session cookie is not one this server set".into()))
}

/// The live session `id` names: Invalid when it has ended (signed out, idle, expired or
/// never existed: the same 401), Unavailable when the store cannot be reached.
pub async fn live_session(sessions: &Sessions, id: &Secret) -> Result<Session, AuthError> {
    let session = sessions.lookup(id).await.map_err(|e| {
        tracing::warn!(error = %e, "session lookup failed");
        AuthError::Unavailable
    })?;
    session.ok_or_else(|| {
        AuthError::Invalid(
            "the session has ended (signed out, idle or expired): sign in again".into(),
        )
    })
}

/// The console's session: the cookie's id looked up in Postgres; writes also pass the
/// CSRF checks ([`csrf`]) first.
async fn from_cookie(parts: &Parts, sessions: &Sessions) -> Result<Auth, AuthError> {
    let id = session_id(parts)?;
    if csrf::changes_state(&parts.method) {
        csrf::check(parts, sessions.settings.trusted_proxy)?;
    }
    let session = live_session(sessions, &id).await?;
    Ok(Auth(session.claims(), Via::Session(id)))
}

impl<S> FromRequestParts<S> for Auth
where
    Keys: FromRef<S>,
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A bearer token wins over a cookie: API clients keep working exactly as before.
        let Some(token) = bearer(parts) else {
            return from_cookie(parts, &Sessions::from_ref(state)).await;
        };
        let keys = Keys::from_ref(state);
        let claims = keys.verify(&token).await.map_err(AuthError::Invalid)?;
        Ok(Auth(claims, Via::Token))
    }
}
