//! Signing and checking tokens.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use uuid::Uuid;

use super::claims::{Role, TokenClaims};
use super::idp::IdentityProvider;
use crate::domain::ShowId;

/// The signing and checking keys: HS256 with `JWT_SECRET` (our own tokens, always), and
/// an identity provider's public keys when one is configured ([`IdentityProvider`]).
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    idp: Option<Arc<IdentityProvider>>,
}

impl Keys {
    pub fn new(secret: &[u8]) -> Self {
        // HS256 only: `alg: none` and every other algorithm are refused by `decode`.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            idp: None,
        }
    }

    /// These keys, also accepting `idp`'s tokens.
    pub fn with_identity_provider(mut self, idp: Option<IdentityProvider>) -> Self {
        self.idp = idp.map(Arc::new);
        self
    }

    pub fn sign(&self, claims: &TokenClaims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of a serialisable payload cannot fail")
    }

    /// A token for `sub` with `role`, valid for `ttl_secs` from now, limited to `shows`
    /// when given (plain UUIDs, as the command line and tests have them).
    pub fn mint(&self, sub: &str, role: Role, shows: Option<Vec<Uuid>>, ttl_secs: u64) -> String {
        self.sign(&TokenClaims {
            sub: sub.to_owned(),
            exp: now_secs() + ttl_secs,
            role,
            shows: shows.map(|ids| ids.into_iter().map(ShowId).collect()),
        })
    }

    /// The claims of `token`, or why it is refused. The header's `alg` only picks the
    /// path: HS256 goes to `JWT_SECRET` (so an HS256 token "signed" with a provider's
    /// public key fails there), anything else to the identity provider, which verifies
    /// with the algorithm of the key, not the header. `none` is no algorithm at all.
    pub async fn verify(&self, token: &str) -> Result<TokenClaims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        match (header.alg, &self.idp) {
            (Algorithm::HS256, _) => {
                jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
                    .map(|d| d.claims)
                    .map_err(|e| e.to_string())
            }
            (_, Some(idp)) => idp.verify(token, &header).await,
            (alg, None) => Err(format!(
                "{alg:?} tokens need an identity provider (JWT_JWKS_URL or JWT_JWKS_FILE); \
                 this server checks HS256 only"
            )),
        }
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_signed_with_another_key_is_refused() {
        let token = Keys::new(b"one").mint("a", Role::Admin, None, 60);
        assert!(Keys::new(b"two").verify(&token).await.is_err());
        assert_eq!(Keys::new(b"one").verify(&token).await.unwrap().sub, "a");
    }
}
