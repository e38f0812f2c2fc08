//! Who may do what: HS256 JWTs with `sub`, `exp`, `role` and optional `shows`, or a
//! console session (cookie) that says the same ([`session`], checked against CSRF by [`csrf`]).

pub mod csrf;
pub mod extractor;
pub mod jwt;
pub mod session;

pub use extractor::{Auth, AuthError, Via};
pub use jwt::{Keys, Role, TokenClaims};
pub use session::Sessions;
