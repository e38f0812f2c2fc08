//! Who may do what: HS256 JWTs with `sub`, `exp`, `role` and optional `shows`.

pub mod extractor;
pub mod jwt;

pub use extractor::{Auth, AuthError};
pub use jwt::{Keys, Role, TokenClaims};
