//! Who may do what: JWTs with `sub`, `exp`, `role` and optional `shows` (HS256 with our
//! secret, or an identity provider's, [`idp`], keys from its [`jwks`], claims mapped by
//! [`claim_map`]), or a console session (cookie) that says the same ([`session`], checked
//! against CSRF by [`csrf`]).

pub mod claim_map;
pub mod claims;
pub mod csrf;
pub mod extractor;
pub mod idp;
pub mod jwks;
pub mod jwt;
pub mod session;

pub use claims::{Role, TokenClaims};
pub use extractor::{Auth, AuthError, Via};
pub use idp::IdentityProvider;
pub use jwt::Keys;
pub use session::Sessions;
