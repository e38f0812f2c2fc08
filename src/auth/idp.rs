//! Tokens from an identity provider (Keycloak, Supabase Auth, Auth0, an in-house OIDC
//! server): RS256, ES256 or EdDSA, checked against the provider's key set ([`Jwks`]), its
//! `iss` and `aud` when configured, and read through the configured claim mapping
//! ([`ClaimMap`]). The algorithm is the key's, never the token's say: a token whose header
//! names another algorithm than the key its `kid` picks is refused.

use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::{Header, Validation};
use serde_json::Value;

use super::claim_map::ClaimMap;
use super::claims::TokenClaims;
use super::jwks::{Jwks, JwksSettings, JwksSource};
use crate::config::AuthArgs;

/// Seconds of clock difference tolerated between the provider and this node on `exp` and
/// `nbf` (providers' clocks drift; our own HS256 tokens get none).
const LEEWAY_SECS: u64 = 30;

/// The provider's keys and what its tokens must say.
#[derive(Clone)]
pub struct IdentityProvider {
    jwks: Jwks,
    claims: ClaimMap,
    issuer: Option<String>,
    audience: Vec<String>,
}

impl IdentityProvider {
    /// The provider `JWT_JWKS_URL` or `JWT_JWKS_FILE` names; `None` when neither is set.
    /// No key is fetched here: the first token that needs one does it, so a provider that
    /// is down at start does not keep the node from serving HS256 tokens and sessions.
    /// Fails only on a `JWT_JWKS_CA_FILE` that cannot be read or holds no certificate.
    pub fn from_args(args: &AuthArgs) -> anyhow::Result<Option<IdentityProvider>> {
        let source = match (&args.jwt_jwks_url, &args.jwt_jwks_file) {
            (Some(url), _) => JwksSource::Url(url.clone()),
            (None, Some(path)) => JwksSource::File(path.clone()),
            (None, None) => return Ok(None),
        };
        let extra_roots = match &args.jwt_jwks_ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading JWT_JWKS_CA_FILE {}", path.display()))?;
                let roots = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
                    format!(
                        "JWT_JWKS_CA_FILE {} is not PEM certificates",
                        path.display()
                    )
                })?;
                anyhow::ensure!(
                    !roots.is_empty(),
                    "JWT_JWKS_CA_FILE {} holds no certificate",
                    path.display()
                );
                roots
            }
            None => Vec::new(),
        };
        let jwks = Jwks::new(JwksSettings {
            source,
            ttl: Duration::from_secs(args.jwks_cache_secs),
            min_refresh: Duration::from_secs(args.jwks_min_refresh_secs),
            timeout: Duration::from_secs(args.jwks_timeout_secs.max(1)),
            extra_roots,
        })
        .context("building the JWKS client")?;
        Ok(Some(IdentityProvider {
            jwks,
            claims: ClaimMap {
                role: args.jwt_role_claim.clone(),
                shows: args.jwt_shows_claim.clone(),
            },
            issuer: args.jwt_issuer.clone(),
            audience: args.jwt_audience.clone(),
        }))
    }

    /// The claims of `token` (whose `header` was already read), or why it is refused (the
    /// 401's message).
    pub async fn verify(&self, token: &str, header: &Header) -> Result<TokenClaims, String> {
        let keys = self
            .jwks
            .keys_for(header.kid.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let mut last = None;
        for key in keys.iter().filter(|k| k.algorithm == header.alg) {
            match jsonwebtoken::decode::<Value>(token, &key.key, &self.validation(key.algorithm)) {
                Ok(data) => return self.claims.map(&data.claims),
                Err(e) => last = Some(e.to_string()),
            }
        }
        Err(last.unwrap_or_else(|| {
            format!(
                "the token says alg {:?}, which no key of the identity provider {} has",
                header.alg,
                header
                    .kid
                    .as_deref()
                    .map(|kid| format!("with kid {kid:?}"))
                    .unwrap_or_default()
            )
        }))
    }

    fn validation(&self, algorithm: jsonwebtoken::Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.leeway = LEEWAY_SECS;
        // A configured check also requires the claim: a token without `iss` or `aud`
        // would otherwise pass a check it never faced.
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            v.set_issuer(&[issuer]);
            required.push("iss");
        }
        if self.audience.is_empty() {
            v.validate_aud = false;
        } else {
            v.set_audience(&self.audience);
            required.push("aud");
        }
        v.set_required_spec_claims(&required);
        v
    }
}
