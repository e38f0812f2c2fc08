//! `/api/session`: the console's sign-in (a one-time code for a cookie), who is signed in,
//! and sign-out. The store and its rules are [`crate::auth::session`]; the CSRF checks
//! [`crate::auth::csrf`].

use axum::extract::{FromRef, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{error_body, ApiError, ApiJson};
use super::openapi::errors::{CreateWrite, SessionEnd, SessionRead};
use super::AppState;
use crate::auth::extractor::{live_session, session_cookie, session_id};
use crate::auth::session::{RedeemError, Secret, Session, COOKIE};
use crate::auth::{csrf, AuthError, Sessions};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, current_session, sign_out))
}

/// `POST /api/session`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "5f0c…64 hex digits"}))]
struct SignIn {
    /// The code of a sign-in link (`/#code=…`), as printed by `showfeed serve` or
    /// `showfeed login-link`.
    code: String,
}

/// Exchanges a sign-in link's one-time code for a session: `Set-Cookie: showfeed_session=…;
/// HttpOnly; SameSite=Strict; Path=/` (and `Secure` behind a trusted HTTPS proxy). The code
/// is consumed: a second use, even a concurrent one, is refused. Any session cookie the
/// browser already had is ended and never reused. Needs `X-Showfeed-CSRF: 1` and a
/// same-origin `Origin` (a sign-in forged by another site is refused too).
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "session",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in: the session, and its cookie in `Set-Cookie`.", body = Session),
        CreateWrite,
    ),
)]
async fn sign_in(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let sessions = Sessions::from_ref(&state);
    csrf::check(&parts, sessions.settings.trusted_proxy).map_err(AuthError::from)?;
    let Some(code) = Secret::parse(body.code.trim()) else {
        return Ok(code_refused());
    };
    // Fixation: whatever session the browser brought is ended, and a new id is issued.
    if let Some(old) = session_cookie(&parts).and_then(Secret::parse) {
        sessions.end(&old).await?;
    }
    let (id, session) = match sessions.redeem(&code).await {
        Ok(done) => done,
        Err(RedeemError::Refused) => return Ok(code_refused()),
        Err(RedeemError::Db(e)) => return Err(e.into()),
    };
    tracing::info!(sub = %session.sub, role = ?session.role, "signed in with a link code");
    let secure = csrf::is_https(&parts.headers, sessions.settings.trusted_proxy);
    let max_age = sessions.settings.max_age.as_secs();
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    let mut response = (StatusCode::CREATED, Json(session)).into_response();
    set_cookie(response.headers_mut(), &cookie);
    Ok(response)
}

/// Who is signed in by the session cookie, with the session's absolute end and its idle
/// end (which moves on with every request). A bearer token is not a session: 401.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session.", body = Session),
        SessionRead,
    ),
)]
async fn current_session(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<Response, AuthError> {
    let id = session_id(&parts)?;
    let session = live_session(&Sessions::from_ref(&state), &id).await?;
    Ok(no_store(Json(session).into_response()))
}

/// Signs out: the session is deleted, so every node refuses its cookie from now on and
/// the streams it opened close at their next check (`SESSION_RECHECK_SECS`); the answer
/// clears the cookie. Without a session it just clears the cookie. With a cookie it needs
/// the same CSRF proof as any cookie-authenticated write.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out (or was not signed in); the cookie is cleared."),
        SessionEnd,
    ),
)]
async fn sign_out(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    let sessions = Sessions::from_ref(&state);
    if let Some(value) = session_cookie(&parts) {
        csrf::check(&parts, sessions.settings.trusted_proxy).map_err(AuthError::from)?;
        if let Some(id) = Secret::parse(value) {
            if sessions.end(&id).await? {
                tracing::info!("signed out");
            }
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(
        response.headers_mut(),
        &format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// The refusal of a code: one answer for unknown, used, expired and malformed, so a guess
/// learns nothing.
fn code_refused() -> Response {
    error_body(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        &RedeemError::Refused.to_string(),
    )
}

fn set_cookie(headers: &mut HeaderMap, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
